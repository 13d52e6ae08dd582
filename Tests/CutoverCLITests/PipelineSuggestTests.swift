import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite struct PipelineSuggestTests {
    /// Chinook: facts, dimensions and the bridge are told apart, relationships found (declared ones
    /// and one only a name reveals), and the suggested pipeline runs clean — then catches a broken target.
    @Test func suggestsAPipelineThatFitsChinookAndCatchesDamage() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            // A column only its name relates to Artist (no declared foreign key).
            try SQLiteSession(path: chinook, create: false).executeScript(
                """
                CREATE TABLE Royalty (RoyaltyId INTEGER PRIMARY KEY, ArtistId INTEGER NOT NULL, PaidOn DATE NOT NULL, Amount NUMERIC(10,2) NOT NULL);
                INSERT INTO Royalty VALUES (1, 1, '2024-01-01', 10.50), (2, 2, '2024-01-02', 3.25), (3, 1, '2024-01-03', 7.00);
                """)
            let migrate = try await CLI.run(["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db"], in: dir)
            #expect(migrate.status == 0, "\(migrate.output)")

            let suggest = try await CLI.run(
                ["pipeline", "suggest", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db", "--out", "checks.yml"], in: dir)
            #expect(suggest.status == 0, "\(suggest.output)")
            #expect(
                suggest.stdout.contains("InvoiceLine: fact — not referenced, points at 2 table(s), measures UnitPrice, Quantity"), "\(suggest.stdout)"
            )
            #expect(suggest.stdout.contains("PlaylistTrack: bridge — links"), "\(suggest.stdout)")
            #expect(suggest.stdout.contains("Artist: dimension — referenced by"), "\(suggest.stdout)")
            #expect(suggest.stdout.contains("Customer: dimension") && suggest.stdout.contains("business key guessed: Email"), "\(suggest.stdout)")
            #expect(
                suggest.stdout.contains("Royalty: fact") && suggest.stdout.contains("inferred relationship(s): ArtistId → Artist"),
                "\(suggest.stdout)")
            let yaml = try String(contentsOfFile: dir + "/checks.yml", encoding: .utf8)
            #expect(
                yaml.contains(
                    #"- {check: fk_orphans, table: Royalty, column: ArtistId, parent_table: Artist, parent_column: ArtistId, severity: warn}"#
                ))
            #expect(
                yaml.contains(
                    #"- {check: dimension_conformance, table: InvoiceLine, column: TrackId, parent_table: Track, parent_column: TrackId}"#))
            #expect(yaml.contains(#"- {check: rolling_drift, table: Royalty, column: PaidOn, measure: Amount, window: 7}"#))
            #expect(yaml.contains(#"- {check: uniqueness, table: Customer, columns: [Email], severity: warn}"#))

            let clean = try await CLI.run(
                ["validate", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db", "--pipeline", "checks.yml"], in: dir)
            #expect(clean.status == 0, "\(clean.output)")

            try SQLiteSession(path: dir + "/copy.db", create: false).executeScript(
                """
                UPDATE InvoiceLine SET TrackId = 99999 WHERE InvoiceLineId = 5;
                UPDATE InvoiceLine SET UnitPrice = UnitPrice + 1 WHERE InvoiceLineId = 6;
                """)
            let broken = try await CLI.run(
                ["validate", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db", "--pipeline", "checks.yml"], in: dir)
            #expect(broken.status == 1)
            #expect(broken.stdout.contains("fk_orphans on InvoiceLine: failed — target: 1 orphan(s)"), "\(broken.stdout)")
            #expect(broken.stdout.contains("dimension_conformance on InvoiceLine: failed"), "\(broken.stdout)")
            #expect(broken.stdout.contains("column_aggregates on InvoiceLine: failed"), "\(broken.stdout)")

            let again = try await CLI.run(
                ["pipeline", "suggest", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db", "--out", "checks.yml"], in: dir)
            #expect(again.status == 2 && again.stderr.contains("checks.yml exists"), "\(again.output)")
        }
    }
}
