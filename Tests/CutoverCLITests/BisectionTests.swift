import CutoverCore
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
                    let table = """
                        CREATE TABLE facts (id bigint PRIMARY KEY, v text, n numeric(12,2), at timestamptz);
                        INSERT INTO facts SELECT g, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN '' ELSE 'v' || g END, g / 3.0,
                          timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 120000) g;
                        """
                    try await TestEnvironment.psql(a, table)
                    try await TestEnvironment.psql(b, table + """
                        UPDATE facts SET v = '' WHERE id = 10;            -- NULL → ''
                        UPDATE facts SET n = n + 0.01 WHERE id = 65432;
                        UPDATE facts SET at = at + interval '1 microsecond' WHERE id = 99999;
                        UPDATE facts SET v = 'dense' WHERE id BETWEEN 70000 AND 70400;
                        DELETE FROM facts WHERE id IN (1, 120000, 50000);
                        INSERT INTO facts (id, v) VALUES (0, 'before'), (500000, 'far after');
                        """)
                    func diff(_ strategy: String) async throws -> [String: Any] {
                        let result = try await CLI.run(["diff", "--source", Self.url(a), "--target", Self.url(b), "--table", "public.facts",
                                                        "--strategy", strategy, "--format", "json"], in: dir)
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

                    // Identical tables: bisection reads no rows and says so.
                    let same = try await CLI.run(["diff", "--source", Self.url(a), "--target", Self.url(a), "--table", "public.facts", "--strategy", "bisect"], in: dir)
                    #expect(same.status == 0 && same.stdout.contains("120,000 rows identical") && same.stdout.contains("0 range(s) merged"), "\(same.output)")

                    // Across engines there is no shared in-database checksum: bisect is refused, auto merges.
                    try CLI.sqliteFile(dir + "/f.db", "CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT, n NUMERIC(12,2), at TIMESTAMP);")
                    let refused = try await CLI.run(["diff", "--source", "sqlite:f.db", "--target", Self.url(a), "--table", "facts=public.facts", "--strategy", "bisect"], in: dir)
                    #expect(refused.status == 2 && refused.stderr.contains("cannot bisect"), "\(refused.output)")
                }
            }
        }
    }

    static func url(_ pg: ConnectionURL) -> String { "postgres://\(pg.user!):\(pg.password!)@\(pg.host!):\(pg.port!)/\(pg.database)" }
}
