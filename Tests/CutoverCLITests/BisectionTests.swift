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

    @Test func partsReadAtOnceAreRunsOfWholeBuckets() {
        for (range, width, count) in [(Int64(10)..<110, Int64(4), 2), (1..<1_000_001, 977, 3), (5..<6, 1, 4), (0..<100, 7, 1)] {
            let parts = TableComparer.alignedParts(range, width: width, count: count)
            #expect(parts.count <= count && parts.first?.0.lowerBound == range.lowerBound && parts.last?.0.upperBound == range.upperBound)
            for (part, firstBucket) in parts {
                // A key's bucket within its part, plus the part's first bucket, is its bucket in the whole range.
                #expect((part.lowerBound - range.lowerBound) % width == 0)
                for key in [part.lowerBound, part.upperBound - 1] {
                    #expect((key - part.lowerBound) / width + firstBucket == (key - range.lowerBound) / width)
                }
            }
            #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.0.upperBound == $1.0.lowerBound })
        }
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

    /// The engine's row hash hashes most columns by their type's own function; where that function
    /// takes two values the compare tells apart for one (-0 and 0, 1.50 and 1.5 inside jsonb,
    /// '1 day' and '24 hours', 'A' and 'a' under a case-insensitive collation), the column is hashed
    /// by its text, so bisection still finds each one.
    @Test func valuesATypeHashTakesForEqualAreStillFound() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { a in
                try await TestEnvironment.withPostgresDatabase { b in
                    let ddl = """
                        CREATE COLLATION IF NOT EXISTS caseless (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
                        CREATE TABLE odd (id bigint PRIMARY KEY, f float8, r real, doc jsonb, span interval, name text COLLATE caseless,
                          amount numeric, at timestamp(3), atz timestamptz, clock time, zoned timetz, ok boolean, ref uuid, raw bytea);
                        INSERT INTO odd SELECT g, g / 4.0, g / 8.0, jsonb_build_object('n', g), interval '1 hour' * g, 'Name ' || g, g / 5.0,
                          timestamp '2020-01-01' + g * interval '1.001 second', timestamptz '2020-01-01 00:00+00' + g * interval '1 minute',
                          time '00:00' + g * interval '1 second', timetz '00:00+00', g % 2 = 0, md5(g::text)::uuid, int8send(g)
                        FROM generate_series(1, 30000) g;
                        """
                    try await TestEnvironment.psql(a, ddl + "UPDATE odd SET f = 0, r = 0 WHERE id IN (101, 102);")
                    try await TestEnvironment.psql(
                        b,
                        ddl + """
                            UPDATE odd SET f = 0, r = 0 WHERE id IN (101, 102);
                            UPDATE odd SET f = '-0' WHERE id = 101;
                            UPDATE odd SET r = '-0' WHERE id = 102;
                            UPDATE odd SET doc = '{"n": 2003.00}' WHERE id = 2003;
                            UPDATE odd SET span = interval '1 day' WHERE id = 24;
                            UPDATE odd SET name = 'NAME 7000' WHERE id = 7000;
                            UPDATE odd SET amount = 1.50 WHERE id = 15000;
                            UPDATE odd SET zoned = timetz '01:00+01' WHERE id = 29000;
                            UPDATE odd SET at = at + interval '1 millisecond' WHERE id = 25000;
                            """)
                    try await TestEnvironment.psql(a, "UPDATE odd SET amount = 1.5 WHERE id = 15000;")
                    func diff(_ strategy: String) async throws -> [String: Any] {
                        let result = try await CLI.run(
                            [
                                "diff", "--source", Self.url(a), "--target", Self.url(b), "--table", "public.odd", "--strategy", strategy, "--format",
                                "json",
                            ],
                            in: dir)
                        #expect(result.status == 1, "\(result.output)")
                        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
                    }
                    let merge = try await diff("merge"), bisect = try await diff("bisect")
                    func changed(_ report: [String: Any]) -> [String] {
                        ((report["changed"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
                    }
                    // 1.5 and 1.50 in an unconstrained numeric are one number to the compare: not changed.
                    #expect(
                        changed(merge) == ["id=24", "id=101", "id=102", "id=2003", "id=7000", "id=25000", "id=29000"], "\(merge)")
                    #expect(changed(bisect) == changed(merge), "\(bisect)")
                    #expect((bisect["method"] as? String)?.contains("the engine's own row hashes") == true, "\(bisect)")
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
