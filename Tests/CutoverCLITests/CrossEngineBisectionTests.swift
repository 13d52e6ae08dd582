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

                    // A column an engine cannot checksum in SQL refuses bisection by name; auto merges instead.
                    try await TestEnvironment.psql(pg, "ALTER TABLE facts ADD COLUMN ratio double precision")
                    try await connector.execute("ALTER TABLE \(snowflakeTable) ADD COLUMN RATIO DOUBLE")
                    let table = "public.facts=\(snowflakeTable)"
                    let refused = try await CLI.run(
                        ["diff", "--source", postgres, "--target", snowflake, "--table", table, "--strategy", "bisect"], in: dir)
                    #expect(
                        refused.status == 2 && refused.stderr.contains("column ratio: snowflake cannot checksum floating-point values"),
                        "\(refused.output)")
                    let auto = try await diff(postgres, snowflake, table, "auto")
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

/// Floats checksum as their bits and JSON as PostgreSQL's `jsonb` prints it, so a PostgreSQL ↔ SQLite
/// compare of such columns stays inside the databases — and still finds what the merge finds.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct FloatAndJSONChecksumTests {
    static let table = #"""
        CREATE TABLE docs (id bigint PRIMARY KEY, score float8, ratio real, doc jsonb, raw json);
        INSERT INTO docs SELECT g,
          CASE g % 9 WHEN 0 THEN 'NaN' WHEN 1 THEN 'Infinity' WHEN 2 THEN '-Infinity' WHEN 3 THEN 1.7976931348623157e308
            WHEN 4 THEN 5e-324 WHEN 5 THEN NULL WHEN 6 THEN 0.1 ELSE g / 7.0 END,
          (g / 3.0)::real,
          (CASE g % 6 WHEN 0 THEN NULL
            WHEN 1 THEN '{"b": 1, "aa": [1.50, -0, 1e2, 2.5E-3, -0.00, 1.5e1, {"z": null, "y": true}], "a": "é\n\"q\" \u0001 🚀 \\ /"}'
            WHEN 2 THEN '[]' WHEN 3 THEN '"text"' WHEN 4 THEN '{"id": ' || g || ', "tags": ["a", ' || (g % 10) || '], "nested": {}}'
            ELSE '12.000' END)::jsonb,
          (CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN '{"b":1,"a":2}' WHEN 2 THEN '{"a": 2, "b": 1}' ELSE '[1, 2]' END)::json
        FROM generate_series(1, 30000) g;
        """#

    @Test func floatsAndJSONAreChecksummedInBothDatabasesAndEveryChangeIsFound() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.psql(pg, Self.table)
                let postgres = SnowflakeCLITests.pgText(pg), sqlite = "sqlite:docs.db"
                let moved = try await CLI.run(["migrate", "--source", postgres, "--target", sqlite], in: dir)
                #expect(moved.status == 0 && moved.stdout.contains("30,000 rows identical"), "\(moved.output)")
                func diff(_ source: String, _ target: String, _ table: String, _ strategy: String) async throws -> [String: Any] {
                    let result = try await CLI.run(
                        ["diff", "--source", source, "--target", target, "--table", table, "--strategy", strategy, "--format", "json"], in: dir)
                    #expect(result.status <= 1, "\(result.output)")
                    return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
                }
                // Identical: no range is read row by row, in either direction.
                for (source, target, table) in [(postgres, sqlite, "public.docs=docs"), (sqlite, postgres, "docs=public.docs")] {
                    let same = try await diff(source, target, table, "bisect")
                    let method = same["method"] as? String ?? ""
                    #expect((same["counts"] as? [String: Int])?["changed"] == 0 && method.contains(" 0 range(s) merged"), "\(same)")
                }

                try CLI.sqliteFile(
                    dir + "/docs.db",
                    """
                    UPDATE docs SET score = 1.0000000000000002 WHERE id = 7;
                    UPDATE docs SET score = NULL WHERE id = 9;
                    UPDATE docs SET ratio = 10.000001 WHERE id = 30;
                    UPDATE docs SET doc = '{"id": 4, "tags": ["a", 4], "nested": {}, "x": 1}' WHERE id = 4;
                    UPDATE docs SET doc = '{"id": 16, "id": 16, "tags": ["a", 6], "nested": {}}' WHERE id = 16;
                    UPDATE docs SET doc = '{"id": 10.0, "tags": ["a", 0], "nested": {}}' WHERE id = 10;
                    UPDATE docs SET doc = '{"tags":["\\u0061",2],"nested":{},"id":22}' WHERE id = 22;
                    UPDATE docs SET raw = '{"a":2,"b":1}' WHERE id = 29001;
                    """)
                let merge = try await diff(postgres, sqlite, "public.docs=docs", "merge")
                let bisect = try await diff(postgres, sqlite, "public.docs=docs", "bisect")
                func changed(_ report: [String: Any]) -> [String] {
                    ((report["changed"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
                }
                // A float one ulp off, a NaN gone, a real changed, a key added, a key repeated: changed.
                // 10.0 for 10, an escaped "a" and a reordered json text are the same values: not.
                #expect(changed(merge) == ["id=4", "id=7", "id=9", "id=16", "id=30"], "\(merge)")
                #expect(changed(bisect) == changed(merge), "\(bisect)")
                let method = bisect["method"] as? String ?? ""
                #expect(method.contains("portable MD5 row checksums") && !method.contains(" 0 range(s) merged"), "\(method)")
            }
        }
    }
}
