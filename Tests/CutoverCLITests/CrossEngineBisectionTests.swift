import CutoverCore
import CutoverSnowflake
import CutoverTesting
import Foundation
import Testing

/// Checksum bisection between different engines: PostgreSQL, SQLite (Cutover's own aggregate) and
/// the Snowflake emulator compute the same portable checksum for every column type it covers, and
/// bisection finds exactly what the streaming merge finds.
@Suite(.enabled(if: TestEnvironment.hasPostgres && TestEnvironment.hasSnowflake)) struct CrossEngineBisectionTests {
    static let table = """
        CREATE TABLE facts (id bigint PRIMARY KEY, label text, code char(5), amount numeric(12,2), qty integer, paid boolean,
          due date, at timestamp(6), at_tz timestamptz, clock time, raw bytea, ref uuid);
        INSERT INTO facts SELECT g,
          CASE WHEN g % 11 = 0 THEN NULL WHEN g % 13 = 0 THEN '' WHEN g % 17 = 0 THEN 'héllo 世界 ' || g ELSE 'v' || g END,
          CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || (g % 100) END,
          CASE WHEN g % 19 = 0 THEN NULL ELSE (g - 15000) / 7.0 END::numeric(12,2),
          g % 1000 - 500, CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
          date '1969-12-25' + g % 400, timestamp '1969-12-31 23:59:58.5' + g * interval '1.000001 second',
          timestamptz '2024-03-31 01:30:00+02' + g * interval '17 minutes',
          time '00:00:00' + (g % 86400) * interval '1.25 second',
          CASE WHEN g % 5 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END,
          CASE WHEN g % 9 = 0 THEN NULL ELSE md5(g::text)::uuid END
        FROM generate_series(1, 30000) g;
        """

    @Test func portableChecksumsAgreeAcrossEnginesAndFindEveryDifference() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.withSnowflakeDatabase { sf in
                    try await TestEnvironment.psql(pg, Self.table)
                    let postgres = SnowflakeCLITests.pgText(pg), snowflake = TestEnvironment.cliText(sf), sqlite = "sqlite:facts.db"
                    for target in [sqlite, snowflake] {
                        let moved = try await CLI.run(["migrate", "--source", postgres, "--target", target], in: dir)
                        #expect(moved.status == 0, "\(moved.output)")
                    }
                    let snowflakeTable = "PUBLIC.FACTS"
                    func diff(_ source: String, _ target: String, _ table: String, _ strategy: String) async throws -> [String: Any] {
                        let result = try await CLI.run(
                            ["diff", "--source", source, "--target", target, "--table", table, "--strategy", strategy, "--format", "json"], in: dir)
                        #expect(result.status <= 1, "\(result.output)")
                        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
                    }
                    func counts(_ report: [String: Any]) -> [Int?] {
                        let counts = report["counts"] as? [String: Int]
                        return [counts?["missing"], counts?["extra"], counts?["changed"]]
                    }

                    // Identical copies: every range checksum agrees across engines, so no row is read.
                    for (target, table) in [(sqlite, "public.facts=facts"), (snowflake, "public.facts=\(snowflakeTable)")] {
                        let same = try await diff(postgres, target, table, "bisect")
                        #expect(counts(same) == [0, 0, 0], "\(target): \(same)")
                        let method = same["method"] as? String ?? ""
                        #expect(method.contains("portable MD5 row checksums") && method.contains(" 0 range(s) merged"), "\(target): \(method)")
                    }
                    // SQLite declares the CHAR column as text, which PostgreSQL's char(5) would pad: leave it out.
                    let back = try await CLI.run(
                        [
                            "diff", "--source", sqlite, "--target", postgres, "--table", "facts=public.facts", "--strategy", "bisect",
                            "--columns", "id,label,amount,qty,paid,due,at,at_tz,clock,raw,ref", "--format", "json",
                        ], in: dir)
                    #expect(back.status == 0, "\(back.output)")
                    let backReport = try #require(try JSONSerialization.jsonObject(with: Data(back.stdout.utf8)) as? [String: Any])
                    #expect(
                        counts(backReport) == [0, 0, 0] && (backReport["method"] as? String)?.contains(" 0 range(s) merged") == true, "\(backReport)")

                    // The same changes on both targets.
                    let changes = [
                        "UPDATE facts SET label = '' WHERE id = 11",  // NULL → ''
                        "UPDATE facts SET amount = amount + 0.01 WHERE id = 12345",
                        "UPDATE facts SET code = 'c1   x' WHERE id = 29999",
                        "UPDATE facts SET paid = NOT paid WHERE id = 20000",
                        "DELETE FROM facts WHERE id IN (1, 15000)",
                        "INSERT INTO facts (id, label) VALUES (40000, 'new')",
                    ]
                    try CLI.sqliteFile(dir + "/facts.db", changes.joined(separator: ";\n"))
                    let connector = try await SnowflakeConnector(url: sf)
                    for change in changes { try await connector.execute(change.replacingOccurrences(of: "facts", with: snowflakeTable)) }
                    // A timestamp microseconds off, on each engine's own terms (SQLite keeps it as text).
                    try CLI.sqliteFile(dir + "/facts.db", "UPDATE facts SET at = substr(at, 1, length(at) - 1) || '9' WHERE id = 777")
                    try await connector.execute("UPDATE \(snowflakeTable) SET \"AT\" = DATEADD(microsecond, 1, \"AT\") WHERE ID = 777")

                    for (target, table) in [(sqlite, "public.facts=facts"), (snowflake, "public.facts=\(snowflakeTable)")] {
                        let merge = try await diff(postgres, target, table, "merge"), bisect = try await diff(postgres, target, table, "bisect")
                        #expect(counts(merge) == [2, 1, 5], "\(target): \(merge)")
                        #expect(counts(bisect) == counts(merge), "\(target): \(bisect)")
                        #expect((bisect["missing"] as? [String]) == ["id=1", "id=15000"])
                        #expect((bisect["extra"] as? [String]) == ["id=40000"])
                        let changed = ((bisect["changed"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
                        #expect(changed == ["id=11", "id=777", "id=12345", "id=20000", "id=29999"], "\(target): \(changed)")
                        #expect((bisect["method"] as? String)?.contains("portable MD5 row checksums") == true)
                    }

                    // The emulator has no Time Travel: the Snowflake side says why it is not pinned.
                    let pinned = try await diff(postgres, snowflake, "public.facts=\(snowflakeTable)", "bisect")
                    let consistency = pinned["consistency"] as? String ?? ""
                    #expect(consistency.contains("REPEATABLE READ") && consistency.contains("Time Travel is not available"), "\(consistency)")
                    #expect(!consistency.contains(sf.password!))

                    // A column no engine spells alike refuses bisection by name; auto merges instead.
                    try await TestEnvironment.psql(pg, "ALTER TABLE facts ADD COLUMN ratio double precision")
                    try CLI.sqliteFile(dir + "/facts.db", "ALTER TABLE facts ADD COLUMN ratio DOUBLE PRECISION")
                    let refused = try await CLI.run(
                        ["diff", "--source", postgres, "--target", sqlite, "--table", "public.facts=facts", "--strategy", "bisect"], in: dir)
                    #expect(refused.status == 2 && refused.stderr.contains("column ratio: floating-point"), "\(refused.output)")
                    let auto = try await diff(postgres, sqlite, "public.facts=facts", "auto")
                    #expect(counts(auto) == [2, 1, 5] && (auto["method"] as? String)?.hasPrefix("row hash merge") == true, "\(auto)")
                }
            }
        }
    }

    /// When an engine refuses the checksum SQL for a value ('infinity' has no day number), `auto`
    /// merges and says so; `--strategy bisect` reports the error.
    @Test func aRefusedChecksumQueryFallsBackToTheMerge() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.psql(
                    pg,
                    """
                    CREATE TABLE days (id bigint PRIMARY KEY, day date);
                    INSERT INTO days SELECT g, CASE WHEN g = 7 THEN 'infinity' ELSE date '2000-01-01' + g END FROM generate_series(1, 25000) g;
                    """)
                let postgres = SnowflakeCLITests.pgText(pg)
                let moved = try await CLI.run(["migrate", "--source", postgres, "--target", "sqlite:days.db", "--no-validate"], in: dir)
                #expect(moved.status == 0, "\(moved.output)")
                let auto = try await CLI.run(
                    ["diff", "--source", postgres, "--target", "sqlite:days.db", "--table", "public.days=days", "--format", "json"], in: dir)
                #expect(auto.status == 0, "\(auto.output)")
                let report = try #require(try JSONSerialization.jsonObject(with: Data(auto.stdout.utf8)) as? [String: Any], "\(auto.output)")
                let method = report["method"] as? String ?? ""
                #expect(
                    method.hasPrefix("row hash merge") && method.contains("checksum bisection failed") && method.contains("infinite"), "\(method)")
                let forced = try await CLI.run(
                    ["diff", "--source", postgres, "--target", "sqlite:days.db", "--table", "public.days=days", "--strategy", "bisect"], in: dir)
                #expect(forced.status == 3 && forced.stderr.contains("infinite"), "the forced strategy could not run: \(forced.output)")
                #expect(!forced.output.contains(pg.password!))
            }
        }
    }
}
