import CutoverCore
import CutoverPostgres
import CutoverTesting
import Foundation
import Testing

/// A table the run creates in PostgreSQL is loaded without its primary key, which is built once
/// after the load (one sort instead of an index insert per row); the key is there before the
/// validation, and a key the loaded rows cannot satisfy fails the table by name.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PrimaryKeyDeferralTests {
    static func primaryKeys(_ pg: ConnectionURL, _ table: String) async throws -> String {
        try await PostgresConnector(url: pg).execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = '\(table)'::regclass AND contype = 'p'"
        ).rows.first?.first?.displayText ?? "?"
    }

    @Test func theKeyIsBuiltAfterTheLoadAndBeforeTheValidation() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try CLI.sqliteFile(
                    dir + "/src.db",
                    """
                    CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 30000) INSERT INTO facts SELECT n, 'v' || n FROM g;
                    """)
                let target = TestEnvironment.cliText(pg)
                let moved = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target, "--chunk-rows", "5000"], in: dir)
                #expect(moved.status == 0 && moved.stdout.contains("validation: 1 passed"), "\(moved.output)")
                #expect(try await Self.primaryKeys(pg, "facts") == "1")
                let log = try await CLI.run(["runs", "show", try #require(CLI.runID(in: moved.stdout))], in: dir)
                #expect(log.stdout.contains("table.primary_key_deferred"), "\(log.output)")

                // --mode upsert needs the key while it loads; an existing table keeps its key too.
                let upsert = try await CLI.run(
                    ["migrate", "--source", "sqlite:src.db", "--target", target, "--mode", "upsert", "--chunk-rows", "5000"], in: dir)
                #expect(upsert.status == 0, "\(upsert.output)")
                let again = try await CLI.run(["runs", "show", try #require(CLI.runID(in: upsert.stdout))], in: dir)
                #expect(!again.stdout.contains("table.primary_key_deferred"), "\(again.output)")
            }
        }
    }

    /// Keys the source keeps apart and the target's type does not ('a' and 'a ' in char(3)): the
    /// rows load, the key cannot be built, and the table fails saying so and what to do.
    @Test func aKeyTheRowsCannotSatisfyFailsTheTable() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { pg in
                    try await TestEnvironment.psql(
                        source, "CREATE TABLE codes (code text PRIMARY KEY, v int); INSERT INTO codes VALUES ('a', 1), ('a ', 2), ('b', 3);")
                    try "overrides:\n  columns:\n    public.codes.code: char(3)\n".write(
                        toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
                    let moved = try await CLI.run(
                        ["migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(pg), "--no-validate"], in: dir)
                    #expect(moved.status != 0, "\(moved.output)")
                    #expect(moved.output.contains("primary key could not be built") && moved.output.contains("duplicate"), "\(moved.output)")
                    #expect(moved.output.contains("ADD PRIMARY KEY") && !moved.output.contains(pg.password!), "\(moved.output)")
                    #expect(try await Self.primaryKeys(pg, "codes") == "0")

                    // Fixed at the target, the same command resumes the run and builds the key it still owes.
                    try await TestEnvironment.psql(pg, "DELETE FROM codes WHERE v = 2")
                    let rerun = try await CLI.run(
                        ["migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(pg), "--no-validate"], in: dir)
                    #expect(rerun.status == 0 && rerun.stdout.contains("resuming run"), "\(rerun.output)")
                    #expect(try await Self.primaryKeys(pg, "codes") == "1")
                }
            }
        }
    }
}
