import CutoverCore
import CutoverPostgres
import CutoverTesting
import Foundation
import Testing

@testable import CutoverEngine

@Suite struct BisectionSplitTests {
    @Test func splitsMatchTheBucketsTheDatabaseComputes() {
        let parts = TableComparer.split(10..<110, into: 32)
        #expect(parts.first == 10..<14 && parts.last == 106..<110 && parts.count == 25)
        // (key - lower) / width names the part holding the key.
        let width: Int64 = 4
        for key in Int64(10)..<110 { #expect(parts[Int((key - 10) / width)].contains(key)) }
        #expect(TableComparer.split(5..<6, into: 32) == [5..<6])
    }
}

/// Checksum bisection between two PostgreSQL databases finds exactly what the streaming merge finds:
/// sparse changes, a dense block of changes, rows missing and extra at both ends, NULL vs ''.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct BisectionTests {
    @Test func bisectionAndMergeAgreeOnEveryDifference() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { a in
                try await TestEnvironment.withPostgresDatabase { b in
                    let ddl = """
                        CREATE TABLE facts (id bigint PRIMARY KEY, v text, n numeric(12,2), at timestamptz);
                        INSERT INTO facts SELECT g, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN '' ELSE 'v' || g END, g / 3.0,
                          timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 120000) g;
                        """
                    try await TestEnvironment.psql(a, ddl)
                    try await TestEnvironment.psql(
                        b,
                        ddl + """
                            UPDATE facts SET v = '' WHERE id = 10;            -- NULL → ''
                            UPDATE facts SET n = n + 0.01 WHERE id = 65432;
                            UPDATE facts SET at = at + interval '1 microsecond' WHERE id = 99999;
                            UPDATE facts SET v = 'dense' WHERE id BETWEEN 70000 AND 70400;
                            DELETE FROM facts WHERE id IN (1, 120000, 50000);
                            INSERT INTO facts (id, v) VALUES (0, 'before'), (500000, 'far after');
                            """)
                    func diff(_ strategy: String) async throws -> [String: Any] {
                        let result = try await CLI.run(
                            [
                                "diff", "--source", Self.url(a), "--target", Self.url(b), "--table", "public.facts",
                                "--strategy", strategy, "--format", "json",
                            ], in: dir)
                        #expect(result.status == 1, "\(result.output)")
                        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
                    }
                    let merge = try await diff("merge"), bisect = try await diff("bisect")
                    let counts = { (r: [String: Any]) in (r["counts"] as? [String: Int]).map { [$0["missing"], $0["extra"], $0["changed"]] } }
                    #expect(counts(merge) == [3, 2, 404])
                    #expect(counts(bisect) == counts(merge))
                    #expect((bisect["missing"] as? [String]) == (merge["missing"] as? [String]))
                    #expect((bisect["extra"] as? [String]) == ["id=0", "id=500000"])
                    let changedKeys = ((bisect["changed"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
                    #expect(changedKeys.prefix(2) == ["id=10", "id=65432"], "\(changedKeys)")
                    #expect((bisect["method"] as? String)?.hasPrefix("checksum bisection by key (id)") == true)
                    #expect((merge["method"] as? String)?.hasPrefix("row hash merge") == true)
                    #expect((bisect["consistency"] as? String)?.contains("REPEATABLE READ snapshot") == true, "\(bisect["consistency"] ?? "")")

                    // Identical tables: bisection reads no rows and says so.
                    let same = try await CLI.run(
                        ["diff", "--source", Self.url(a), "--target", Self.url(a), "--table", "public.facts", "--strategy", "bisect"], in: dir)
                    #expect(
                        same.status == 0 && same.stdout.contains("120,000 rows identical") && same.stdout.contains("0 range(s) merged"),
                        "\(same.output)")

                    // A timestamp without a zone against one with: no common checksum form, bisect is refused.
                    try CLI.sqliteFile(dir + "/f.db", "CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT, n NUMERIC(12,2), at TIMESTAMP);")
                    let refused = try await CLI.run(
                        ["diff", "--source", "sqlite:f.db", "--target", Self.url(a), "--table", "facts=public.facts", "--strategy", "bisect"], in: dir
                    )
                    #expect(refused.status == 2 && refused.stderr.contains("cannot bisect"), "\(refused.output)")
                }
            }
        }
    }

    static func url(_ pg: ConnectionURL) -> String { "postgres://\(pg.user!):\(pg.password!)@\(pg.host!):\(pg.port!)/\(pg.database)" }
}

/// Small fan-outs force several levels of bisection and the dense switch on a small table.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct DeepBisectionTests {
    @Test func recursionAndTheDenseSwitchFindEveryDifference() async throws {
        try await TestEnvironment.withPostgresDatabase { a in
            try await TestEnvironment.withPostgresDatabase { b in
                let ddl = "CREATE TABLE t (id bigint PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20000) g;"
                try await TestEnvironment.psql(a, ddl)
                try await TestEnvironment.psql(
                    b,
                    ddl + """
                        UPDATE t SET v = 'sparse' WHERE id IN (17, 9001, 19999);
                        UPDATE t SET v = 'dense' WHERE id BETWEEN 12000 AND 12999 AND id % 3 = 0;
                        DELETE FROM t WHERE id = 5000;
                        """)
                let source = try await PostgresConnector(url: a), target = try await PostgresConnector(url: b)
                let catalog = try await source.catalog(Scope(tables: ["t"]))
                let plan = try Planner(targetEngine: .postgres).plan(catalog, source: a)
                let tablePlan = try #require(plan.tables.first), table = try #require(catalog.tables.first)
                var comparer = TableComparer(source: source, target: target)
                comparer.strategy = .bisect
                (comparer.topFanOut, comparer.fanOut, comparer.mergeBelow) = (8, 4, 200)
                let bisected = try await comparer.compare(tablePlan, table)
                comparer.strategy = .merge
                let merged = try await comparer.compare(tablePlan, table)
                #expect([bisected.missing, bisected.extra, bisected.changed] == [1, 0, 337])
                #expect([merged.missing, merged.extra, merged.changed] == [1, 0, 337])
                #expect(bisected.missingKeys == ["id=5000"])
                #expect(bisected.changedRows.map(\.key).prefix(2) == ["id=17", "id=9001"])
                // 8 top parts, then 4-way splits: several levels ran, and far fewer rows than the table were merged.
                #expect(bisected.method.contains("range checksums") && !bisected.method.contains(" 8 range checksums"), "\(bisected.method)")
            }
        }
    }
}
