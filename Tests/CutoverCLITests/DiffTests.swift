import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite struct DiffTests {
    func prepare(_ dir: String) throws {
        let schema = "CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, amount NUMERIC(10,2), note TEXT, PRIMARY KEY (a, b));"
        try CLI.sqliteFile(
            dir + "/left.db",
            schema + """
                INSERT INTO t VALUES (1, '11', 1.50, NULL), (11, '1', 2, ''), (2, 'x', 3, 'same'), (3, 'gone', 4, NULL), (4, 'é', 5, 'a');
                """)
        try CLI.sqliteFile(
            dir + "/right.db",
            schema.replacingOccurrences(of: "TABLE t", with: "TABLE t_copy") + """
                INSERT INTO t_copy VALUES (1, '11', 1.5, NULL), (11, '1', 2.00, NULL), (2, 'x', 3, 'same'), (4, 'é', 9, 'b'), (5, 'new', 6, NULL);
                """)
    }

    @Test func jsonReportsCountsKeysColumnsAndFetchSQL() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try prepare(dir)
            let result = try await CLI.run(
                ["diff", "--source", "sqlite:left.db", "--target", "sqlite:right.db", "--table", "t=t_copy", "--format", "json"], in: dir)
            #expect(result.status == 1, "\(result.output)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let counts = try #require(json["counts"] as? [String: Any])
            #expect(counts["missing"] as? Int == 1 && counts["extra"] as? Int == 1 && counts["changed"] as? Int == 2)
            #expect(json["missing"] as? [String] == ["a=3,b=gone"])
            #expect(json["extra"] as? [String] == ["a=5,b=new"])
            let changed = try #require(json["changed"] as? [[String: Any]])
            let row = try #require(changed.first { ($0["key"] as? String) == "a=4,b=é" })
            #expect(row["columns"] as? [String] == ["amount", "note"])
            #expect((row["source"] as? [String: String])?["amount"] == "5")
            #expect((row["target"] as? [String: String])?["amount"] == "9")
            #expect(row["targetSQL"] as? String == "SELECT * FROM \"t_copy\" WHERE \"a\" = 4 AND \"b\" = 'é'")
            #expect(json["sampleLimit"] as? Int == 20)
            #expect((json["consistency"] as? String)?.contains("snapshot per side") == true)
        }
    }

    @Test func columnsAndKeyCanBeChosen() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try prepare(dir)
            // Only amount: the note differences disappear, 4/é still differs.
            let some = try await CLI.run(
                ["diff", "--source", "sqlite:left.db", "--target", "sqlite:right.db", "--table", "t=t_copy", "--columns", "amount"], in: dir)
            #expect(some.status == 1)
            #expect(some.stdout.contains("changed a=4,b=é: amount 5 → 9"))
            #expect(!some.stdout.contains("note"))
            #expect(some.stdout.contains("source: SELECT * FROM \"t\" WHERE"))
            let unknown = try await CLI.run(
                ["diff", "--source", "sqlite:left.db", "--target", "sqlite:right.db", "--table", "t=t_copy", "--key", "nope"], in: dir)
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("no column nope"))
            try CLI.sqliteFile(dir + "/left.db", "CREATE VIEW v AS SELECT * FROM t")
            let view = try await CLI.run(["diff", "--source", "sqlite:left.db", "--target", "sqlite:left.db", "--table", "v"], in: dir)
            #expect(view.status == 2 && view.stderr.contains("v is a view"), "\(view.output)")
            let same = try await CLI.run(["diff", "--source", "sqlite:left.db", "--target", "sqlite:left.db", "--table", "t"], in: dir)
            #expect(same.status == 0)
            #expect(same.stdout.contains("identical"))
            // 0 equal, 1 differences, 2 usage, 3 could not run: a CI job can tell them apart.
            let missing = try await CLI.run(["diff", "--source", "sqlite:left.db", "--target", "sqlite:right.db", "--table", "t"], in: dir)
            #expect(missing.status == 3 && missing.stderr.contains("t"), "the target has no table t: \(missing.output)")
            let unreachable = try await CLI.run(
                ["diff", "--source", "sqlite:left.db", "--target", "postgres://u:pw@127.0.0.1:1/x", "--table", "t"], in: dir)
            #expect(unreachable.status == 3, "\(unreachable.output)")
            let usage = try await CLI.run(
                ["diff", "--source", "sqlite:left.db", "--target", "sqlite:right.db", "--table", "t", "--strategy", "guess"], in: dir)
            #expect(usage.status == 2, "\(usage.output)")
        }
    }
}

@Suite struct DiffToleranceTests {
    @Test func tolerancesHideWhatTheyNameAndStrictCountsIt() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let schema = "CREATE TABLE m (id INTEGER PRIMARY KEY, v REAL, note TEXT, at TIMESTAMP);"
            try CLI.sqliteFile(dir + "/a.db", schema + "INSERT INTO m VALUES (1, 1.000, '', '2024-01-01 00:00:00.123456'), (2, 5, 'x', NULL);")
            try CLI.sqliteFile(dir + "/b.db", schema + "INSERT INTO m VALUES (1, 1.004, NULL, '2024-01-01 00:00:00.123999'), (2, 5, 'x', NULL);")
            let base = ["diff", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--table", "m"]
            let exact = try await CLI.run(base, in: dir)
            #expect(exact.status == 1)
            #expect(exact.stdout.contains("changed id=1"))
            let tolerant = try await CLI.run(base + ["--tolerance", "v=0.01", "--tolerance", "note=empty-null", "--tolerance", "at=ms"], in: dir)
            #expect(tolerant.status == 0, "\(tolerant.output)")
            #expect(tolerant.stdout.contains("1 row(s) differ only within tolerances"))
            #expect(tolerant.stdout.contains("tolerated id=1:"))
            #expect(
                tolerant.stdout.contains("(epsilon 0.01)") && tolerant.stdout.contains("(empty-null)")
                    && tolerant.stdout.contains("(3 fraction digits)"))
            let strict = try await CLI.run(
                base + ["--tolerance", "v=0.01", "--tolerance", "note=empty-null", "--tolerance", "at=ms", "--strict"], in: dir)
            #expect(strict.status == 1)
            #expect(strict.stdout.contains("counted as changed: --strict"))
            let partial = try await CLI.run(base + ["--tolerance", "v=0.01"], in: dir)
            #expect(partial.status == 1)  // note and at still differ
            let bad = try await CLI.run(base + ["--tolerance", "nope=0.1"], in: dir)
            #expect(bad.status == 2 && bad.stderr.contains("nope"))
        }
    }
}

@Suite struct ValidateToleranceTests {
    @Test func validateAcceptsPerTableTolerances() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let schema = "CREATE TABLE m (id INTEGER PRIMARY KEY, v REAL);"
            try CLI.sqliteFile(dir + "/a.db", schema + "INSERT INTO m VALUES (1, 1.000), (2, 2);")
            try CLI.sqliteFile(dir + "/b.db", schema + "INSERT INTO m VALUES (1, 1.004), (2, 2);")
            let base = ["validate", "--source", "sqlite:a.db", "--target", "sqlite:b.db"]
            #expect(try await CLI.run(base, in: dir).status == 1)
            let tolerant = try await CLI.run(base + ["--tolerance", "m.v=0.01"], in: dir)
            #expect(tolerant.status == 0, "\(tolerant.output)")
            #expect(try await CLI.run(base + ["--tolerance", "m.v=0.01", "--strict"], in: dir).status == 1)
            #expect(try await CLI.run(base + ["--tolerance", "other.v=0.01"], in: dir).status == 1)
        }
    }
}
