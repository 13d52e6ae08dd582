import CutoverCore
import CutoverEngine
import CutoverPostgres
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Testing

func testJobs(_ directory: String) async throws -> Jobs {
    let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: directory + "/store.db"))
    return Jobs(store: store, artifactsRoot: directory + "/runs", say: { _ in })
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct ChinookRoundTripTests {
    /// SQLite → PostgreSQL → SQLite keeps every row identical, and validation proves it at each hop.
    @Test func chinookSurvivesSQLiteToPostgresToSQLite() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let jobs = try await testJobs(dir)
                let original = ConnectionURL(engine: .sqlite, database: try TestEnvironment.chinookCopy(in: dir))
                let first = try await jobs.migrate(
                    source: original, target: pg, scope: Scope(), config: CutoverConfig(), options: MoveOptions(), validate: true)
                #expect(first.succeeded)
                #expect(first.results.count == 11)
                #expect(first.validation?.passed == 11)
                #expect(first.results.first { $0.source == "Track" }?.rows == 3503)

                let roundTrip = ConnectionURL(engine: .sqlite, database: dir + "/back.sqlite")
                let second = try await jobs.migrate(
                    source: pg, target: roundTrip, scope: Scope(schemas: ["public"]), config: CutoverConfig(),
                    options: MoveOptions(), validate: true)
                #expect(second.succeeded)
                #expect(second.validation?.passed == 11)

                // The original and the round-tripped file agree row for row.
                let (report, _) = try await jobs.validate(source: original, target: roundTrip, scope: Scope(), config: CutoverConfig())
                #expect(report.allPassed)
                #expect(report.tables.first { $0.table == "InvoiceLine" }?.sourceRows == 2240)

                // Raw values too, not just canonical forms: compare with sqlite3's own output.
                let query = "SELECT * FROM Invoice ORDER BY InvoiceId"
                let before = try SQLiteSession(path: original.database, create: false).execute(query).rows
                let after = try SQLiteSession(path: roundTrip.database, create: false).execute(query).rows
                #expect(before.count == after.count)
                #expect(before.map { $0.map(\.displayText) } == after.map { $0.map(\.displayText) })

                // Identity continues past the loaded values in PostgreSQL.
                let next = try await PostgresConnector(url: pg).execute("INSERT INTO \"Artist\" (\"Name\") VALUES ('New') RETURNING \"ArtistId\"")
                #expect(next.rows.first?.first == .text("276"))
            }
        }
    }

    @Test func targetWithRowsIsLeftAloneUnlessReplaceIsGiven() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let jobs = try await testJobs(dir)
                let source = ConnectionURL(engine: .sqlite, database: try TestEnvironment.chinookCopy(in: dir))
                let scope = Scope(tables: ["Genre"])
                _ = try await jobs.migrate(source: source, target: pg, scope: scope, config: CutoverConfig(), options: MoveOptions(), validate: false)
                let again = try await jobs.migrate(
                    source: source, target: pg, scope: scope, config: CutoverConfig(), options: MoveOptions(), validate: false)
                #expect(!again.succeeded)
                #expect(again.results.first?.error?.contains("--replace") == true)
                #expect(try await PostgresConnector(url: pg).rowCount(TableRef(schema: "public", name: "Genre")) == 25)
                let replaced = try await jobs.migrate(
                    source: source, target: pg, scope: scope, config: CutoverConfig(), options: MoveOptions(replace: true), validate: true)
                #expect(replaced.succeeded)
            }
        }
    }

    @Test func refusedValueFailsNamingTableKeyAndColumnAndLeavesTargetEmpty() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let path = dir + "/bad.db"
                // February has no 30th: an ISO spelling no profile can widen a type for.
                try SQLiteSession(path: path, create: true).executeScript(
                    """
                    CREATE TABLE people (id INTEGER PRIMARY KEY, name DATE);
                    INSERT INTO people VALUES (1, '2024-02-01'), (2, '2024-02-02'), (3, '2024-02-30'), (4, '2024-02-04');
                    CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT);
                    INSERT INTO other VALUES (1, 'x');
                    """)
                let jobs = try await testJobs(dir)
                let outcome = try await jobs.migrate(
                    source: ConnectionURL(engine: .sqlite, database: path), target: pg, scope: Scope(),
                    config: CutoverConfig(), options: MoveOptions(), validate: true)
                #expect(!outcome.succeeded)
                let error = try #require(outcome.results.first { $0.source == "people" }?.error)
                #expect(error.contains("out of range"))
                #expect(error.contains("table=people"))
                #expect(error.contains("key=id=3"))
                #expect(error.contains("column") && error.contains("name"))
                #expect(outcome.results.first { $0.source == "other" }?.succeeded == true)
                #expect(try await PostgresConnector(url: pg).rowCount(TableRef(schema: "public", name: "people")) == 0)
            }
        }
    }
}

@Suite struct ValidationTests {
    func makePair(_ dir: String) throws -> (ConnectionURL, ConnectionURL) {
        let schema = """
            CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, amount NUMERIC(10,2), note TEXT, PRIMARY KEY (a, b));
            CREATE TABLE bag (x TEXT, y INTEGER);
            """
        let left = dir + "/left.db", right = dir + "/right.db"
        try SQLiteSession(path: left, create: true).executeScript(
            schema + """
                INSERT INTO t VALUES (1, '11', 1.50, NULL), (11, '1', 2, ''), (2, 'x', 3, 'same'), (3, 'gone', 4, NULL), (4, 'é', 5, 'a');
                INSERT INTO bag VALUES ('p', 1), ('p', 1), ('q', 2);
                """)
        try SQLiteSession(path: right, create: true).executeScript(
            schema + """
                INSERT INTO t VALUES (1, '11', 1.5, NULL), (11, '1', 2.00, NULL), (2, 'x', 3, 'same'), (4, 'é', 5, 'b'), (5, 'new', 6, NULL);
                INSERT INTO bag VALUES ('p', 1), ('q', 2), ('q', 2);
                """)
        return (ConnectionURL(engine: .sqlite, database: left), ConnectionURL(engine: .sqlite, database: right))
    }

    @Test func findsMissingExtraAndChangedRowsWithTheirColumns() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (left, right) = try makePair(dir)
            let (report, path) = try await testJobs(dir).validate(source: left, target: right, scope: Scope(), config: CutoverConfig())
            #expect(FileManager.default.fileExists(atPath: path))
            let t = try #require(report.tables.first { $0.table == "t" })
            #expect(!t.passed)
            #expect(t.missingKeys == ["a=3,b=gone"])
            #expect(t.extraKeys == ["a=5,b=new"])
            // 1.50 = 1.5 and 2 = 2.00, but '' ≠ NULL and 'a' ≠ 'b'.
            #expect(t.changed == 2)
            #expect(t.changedRows.map(\.key).sorted() == ["a=11,b=1", "a=4,b=é"])
            #expect(t.changedRows.allSatisfy { $0.columns == ["note"] })
            let bag = try #require(report.tables.first { $0.table == "bag" })
            #expect(!bag.passed)  // same row count, different multiset
            #expect(bag.sourceRows == 3 && bag.targetRows == 3)
        }
    }

    @Test func identicalTablesPass() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (left, _) = try makePair(dir)
            let (report, _) = try await testJobs(dir).validate(source: left, target: left, scope: Scope(), config: CutoverConfig())
            #expect(report.allPassed)
        }
    }
}
