import CutoverCore
import CutoverEngine
import CutoverPostgres
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Testing

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct MoverTests {
    static let mixedTable = """
        CREATE TABLE items (
            id bigint PRIMARY KEY, n integer, amount numeric(38,10), label varchar(40), body text, stamp timestamp,
            stamp_tz timestamptz, day date, flag boolean, uid uuid, doc jsonb, f float8, raw bytea, tags text[], span interval
        );
        INSERT INTO items
        SELECT g, g % 1000, (g * 1234567.0123456789)::numeric(38,10), 'label ' || g,
               CASE WHEN g % 7 = 0 THEN NULL WHEN g % 7 = 1 THEN '' WHEN g % 7 = 2 THEN E'tab\\there\\nnew "q" \\\\ é 🚀' ELSE md5(g::text) END,
               timestamp '2024-01-01' + g * interval '37 seconds 123456 microseconds', timestamptz '2024-01-01 00:00:00+02' + g * interval '1 minute',
               date '2000-01-01' + g, g % 3 = 0, md5(g::text)::uuid, jsonb_build_object('g', g, 'even', g % 2 = 0),
               CASE g % 5 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-0'::float8 WHEN 2 THEN 1.7976931348623157e308 WHEN 3 THEN 1e-300 ELSE g / 3.0 END,
               decode(md5(g::text), 'hex'), ARRAY['a' || g, NULL, 'x y'], g * interval '1 second'
        FROM generate_series(1, 5000) g;
        """

    @Test func postgresToPostgresInParallelChunksIsExact() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(source, Self.mixedTable)
                    let jobs = try await testJobs(dir)
                    let options = MoveOptions(rowsPerChunk: 400, parallel: 4)
                    let outcome = try await jobs.migrate(
                        source: source, target: target, scope: Scope(), config: CutoverConfig(), options: options, validate: true)
                    #expect(outcome.succeeded, "\(outcome.results)")
                    #expect(outcome.results.first?.rows == 5000)
                    #expect(outcome.results.first?.chunks ?? 0 >= 12)
                    #expect(outcome.validation?.allPassed == true)
                    // Bit-exact on the server side too: compare every column as text with EXCEPT across a dblink-free path.
                    let left = try await PostgresConnector(url: source).execute("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
                    let right = try await PostgresConnector(url: target).execute("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
                    #expect(left.rows == right.rows)
                    let chunks = try await jobs.store.chunks(runID: outcome.runID)
                    #expect(chunks.allSatisfy { $0.state == .done })
                    #expect(chunks.reduce(0) { $0 + ($1.rows ?? 0) } == 5000)
                    #expect(chunks.allSatisfy { $0.checksum?.hasPrefix("pg-binary:") == true })
                    // The same source gives the same chunk checksums; a changed row changes only its chunk's.
                    try await TestEnvironment.psql(source, "UPDATE items SET label = 'changed' WHERE id = 4321")
                    try await TestEnvironment.withPostgresDatabase { again in
                        let rerun = try await jobs.migrate(
                            source: source, target: again, scope: Scope(), config: CutoverConfig(), options: options, validate: false)
                        let after = try await jobs.store.chunks(runID: rerun.runID)
                        let differing = try zip(chunks, after).filter { $0.checksum != $1.checksum }.map { try ChunkBounds.parse($0.0.bounds) }
                        #expect(differing.count == 1)
                        if case .integerRange(_, let lower, let upper) = differing.first {
                            #expect((lower ?? .min) <= 4321 && 4321 < (upper ?? .max))
                        }
                    }
                }
            }
        }
    }

    @Test func postgresToSQLiteAndBackKeepsTheValues() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { back in
                    try await TestEnvironment.psql(source, Self.mixedTable + "; UPDATE items SET f = 0 WHERE f = '-0'::float8 AND id % 5 = 1")
                    let jobs = try await testJobs(dir)
                    let sqlite = ConnectionURL(engine: .sqlite, database: dir + "/mid.db")
                    let there = try await jobs.migrate(
                        source: source, target: sqlite, scope: Scope(), config: CutoverConfig(),
                        options: MoveOptions(rowsPerChunk: 1000), validate: true)
                    #expect(there.succeeded, "\(there.results) \(String(describing: there.validation?.tables.first?.changedRows.prefix(2)))")
                    #expect(try await jobs.store.chunks(runID: there.runID).allSatisfy { $0.checksum?.hasPrefix("values-postgres:1000:") == true })
                    let home = try await jobs.migrate(
                        source: sqlite, target: back, scope: Scope(), config: CutoverConfig(),
                        options: MoveOptions(rowsPerChunk: 1000), validate: true)
                    #expect(home.succeeded, "\(home.results)")
                    let (report, _) = try await jobs.validate(source: source, target: back, scope: Scope(), config: CutoverConfig())
                    #expect(report.allPassed, "\(report.tables.first?.changedRows.prefix(3) ?? [])")
                }
            }
        }
    }

    @Test func upsertAndIncrementalMoveOnlyNewAndChangedRowsIncludingNullWatermarks() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(
                        source,
                        """
                        CREATE TABLE "Orders" ("OrderId" int PRIMARY KEY, status text, "Updated At" timestamp);
                        INSERT INTO "Orders" SELECT g, 'new', timestamp '2024-01-01' + g * interval '1 hour' FROM generate_series(1, 100) g;
                        INSERT INTO "Orders" VALUES (101, 'no watermark yet', NULL);
                        """)
                    let jobs = try await testJobs(dir)
                    let options = MoveOptions(watermark: "Updated At")
                    let first = try await jobs.migrate(
                        source: source, target: target, scope: Scope(), config: CutoverConfig(), options: options, validate: true)
                    #expect(first.succeeded, "\(first.results)")
                    #expect(first.results.first?.rows == 101)
                    try await TestEnvironment.psql(
                        source,
                        """
                        UPDATE "Orders" SET status = 'shipped', "Updated At" = timestamp '2030-01-01' WHERE "OrderId" IN (5, 6);
                        INSERT INTO "Orders" VALUES (102, 'later', timestamp '2030-01-02'), (103, 'still null', NULL);
                        """)
                    let second = try await jobs.migrate(
                        source: source, target: target, scope: Scope(), config: CutoverConfig(), options: options, validate: true)
                    #expect(second.succeeded, "\(second.results)")
                    // 2 updated + 1 new past the watermark + the 2 rows whose watermark is NULL + the row at the
                    // watermark itself (the bound is inclusive: a row written later with the same value is not skipped).
                    #expect(second.results.first?.rows == 6)
                    #expect(second.validation?.allPassed == true)
                    let watermark = try await jobs.store.watermark(source: source.description, target: target.description, table: "public.Orders")
                    #expect(watermark?.value?.hasPrefix("2030-01-02") == true)
                }
            }
        }
    }

    @Test func chunksAreNeverClaimedTwiceByConcurrentWorkers() async throws {
        try await TestEnvironment.withPostgresDatabase { storeURL in
            let store = try await SQLMetadataStore.open(storeURL)
            let run = RunRecord(id: RunRecord.newID(), kind: "migrate", source: nil, target: nil)
            try await store.startRun(run)
            try await store.addChunks((0..<60).map { ChunkRecord(runID: run.id, table: "t", number: $0, bounds: try ChunkBounds.all.encoded()) })
            let claimed = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<5 {
                    group.addTask {
                        let own = try await SQLMetadataStore.open(storeURL)  // its own connection, like another process
                        var mine: [Int] = []
                        while let chunk = try await own.claimChunk(runID: run.id, owner: "w\(worker)", leaseSeconds: 60) {
                            mine.append(chunk.number)
                            var done = chunk
                            done.state = .done
                            try await own.finishChunk(done)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(claimed.sorted() == Array(0..<60))
        }
    }

    @Test func expiredLeasesAreTakenOver() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/s.db"))
            let run = RunRecord(id: RunRecord.newID(), kind: "migrate", source: nil, target: nil)
            try await store.startRun(run)
            try await store.addChunks([ChunkRecord(runID: run.id, table: "t", number: 0, bounds: try ChunkBounds.all.encoded())])
            #expect(try await store.claimChunk(runID: run.id, owner: "dead", leaseSeconds: -1)?.number == 0)
            let taken = try await store.claimChunk(runID: run.id, owner: "alive", leaseSeconds: 60)
            #expect(taken?.leaseOwner == "alive")
            #expect(taken?.attempts == 2)
            #expect(try await store.claimChunk(runID: run.id, owner: "third", leaseSeconds: 60) == nil)
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct MoverBadRowTests {
    func source(_ dir: String) throws -> ConnectionURL {
        let path = dir + "/people.db"
        try SQLiteSession(path: path, create: true).executeScript(
            """
            CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(8) NOT NULL, age INTEGER, born DATE);
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
            INSERT INTO people SELECT n, 'p' || n, n % 90, '2000-01-01' FROM g;
            UPDATE people SET born = '2024-02-30' WHERE id IN (17, 500, 999);
            UPDATE people SET age = 'old' WHERE id = 640;
            """)
        return ConnectionURL(engine: .sqlite, database: path)
    }

    @Test func rejectModeLoadsTheRestAndRecordsEachRefusedRowWithItsReason() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let jobs = try await testJobs(dir)
                let outcome = try await jobs.migrate(
                    source: try source(dir), target: pg, scope: Scope(), config: CutoverConfig(),
                    options: MoveOptions(rowsPerChunk: 300, onError: .reject), validate: true)
                let result = try #require(outcome.results.first)
                #expect(result.succeeded)
                #expect(result.rows == 996)
                #expect(result.rejected == 4)
                #expect(Summary.line(outcome).contains("4 rejected"))
                #expect(outcome.validation?.tables.first?.missing == 4)  // validation still tells the truth
                let rejects = try await jobs.store.rejects(runID: outcome.runID)
                #expect(Set(rejects.compactMap(\.key)) == ["id=17", "id=500", "id=999", "id=640"])
                #expect(rejects.first { $0.key == "id=17" }?.reason.contains("out of range") == true)
                #expect(rejects.first { $0.key == "id=640" }?.reason.contains("invalid input syntax for type bigint") == true)
                #expect(rejects.first { $0.key == "id=17" }?.values?.contains("2024-02-30") == true)
                #expect(try await PostgresConnector(url: pg).rowCount(TableRef(schema: "public", name: "people")) == 996)
            }
        }
    }

    @Test func failModeStopsTheTableWithTheKeyAndLoadsNothingOfIt() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let jobs = try await testJobs(dir)
                let outcome = try await jobs.migrate(
                    source: try source(dir), target: pg, scope: Scope(), config: CutoverConfig(),
                    options: MoveOptions(rowsPerChunk: 300, parallel: 1), validate: false)
                let result = try #require(outcome.results.first)
                #expect(!result.succeeded)
                #expect(result.error?.contains("key=id=17") == true)
            }
        }
    }

    @Test func deleteMissingRemovesTargetRowsGoneAtTheSource() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let path = dir + "/s.db"
                try SQLiteSession(path: path, create: true).executeScript(
                    """
                    CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));
                    INSERT INTO t VALUES (1, 'x', 'one'), (1, 'y', 'two'), (2, 'x', 'three'), (3, 'z', 'four');
                    """)
                let jobs = try await testJobs(dir)
                let url = ConnectionURL(engine: .sqlite, database: path)
                #expect(
                    try await jobs.migrate(source: url, target: pg, scope: Scope(), config: CutoverConfig(), options: MoveOptions(), validate: true)
                        .succeeded)
                try SQLiteSession(path: path, create: false).executeScript(
                    "DELETE FROM t WHERE (a, b) IN ((1, 'y'), (3, 'z')); UPDATE t SET v = 'changed' WHERE a = 2")
                let second = try await jobs.migrate(
                    source: url, target: pg, scope: Scope(), config: CutoverConfig(),
                    options: MoveOptions(mode: .upsert, deleteMissing: true), validate: true)
                #expect(second.succeeded, "\(second.results)")
                #expect(second.results.first?.deleted == 2)
                #expect(second.validation?.allPassed == true)
            }
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct MoverKeyRangeTests {
    @Test(arguments: ["uuid", "date"])
    func uuidAndDateKeysSplitIntoRangesAndLoadExactly(keyType: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    let key = keyType == "uuid" ? "md5(g::text)::uuid" : "date '1990-01-01' + g"
                    try await TestEnvironment.psql(
                        source,
                        """
                        CREATE TABLE keyed (k \(keyType) PRIMARY KEY, v text);
                        INSERT INTO keyed SELECT \(key), 'v' || g FROM generate_series(1, 3000) g;
                        """)
                    let jobs = try await testJobs(dir)
                    let outcome = try await jobs.migrate(
                        source: source, target: target, scope: Scope(), config: CutoverConfig(),
                        options: MoveOptions(rowsPerChunk: 500, parallel: 3), validate: true)
                    #expect(outcome.succeeded, "\(outcome.results)")
                    #expect(outcome.results.first?.chunks ?? 0 >= 6)
                    #expect(outcome.results.first?.rows == 3000)
                    #expect(outcome.validation?.allPassed == true)
                }
            }
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct KeylessChunkTests {
    @Test func keylessTablesSplitByRowLocatorBothWaysAndKeepDuplicates() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let path = dir + "/bag.db"
                try SQLiteSession(path: path, create: true).executeScript(
                    """
                    CREATE TABLE bag (label TEXT, n INTEGER);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10000)
                    INSERT INTO bag SELECT 'item ' || (n % 997), n % 13 FROM g;
                    """)
                let jobs = try await testJobs(dir)
                let options = MoveOptions(rowsPerChunk: 1000, parallel: 3)
                let toPostgres = try await jobs.migrate(
                    source: ConnectionURL(engine: .sqlite, database: path), target: pg, scope: Scope(),
                    config: CutoverConfig(), options: options, validate: true)
                #expect(toPostgres.succeeded, "\(toPostgres.results)")
                #expect(toPostgres.results.first?.chunks == 10)
                #expect(toPostgres.validation?.allPassed == true)
                let logs = try await jobs.store.logs(runID: toPostgres.runID)
                #expect(logs.contains { $0.event == "table.warning" && $0.message.contains("no key") })

                let back = ConnectionURL(engine: .sqlite, database: dir + "/back.db")
                let toSQLite = try await jobs.migrate(
                    source: pg, target: back, scope: Scope(schemas: ["public"]), config: CutoverConfig(),
                    options: options, validate: true)
                #expect(toSQLite.succeeded, "\(toSQLite.results)")
                #expect((toSQLite.results.first?.chunks ?? 0) > 1)
                #expect(try SQLiteSession(path: back.database, create: false).execute("SELECT count(*) FROM bag").rows.first?.first == .int(10000))
            }
        }
    }

    /// A chunk that committed but was never marked done cannot be cleared by range in a keyless
    /// table: resuming empties the table and reloads it, so nothing is duplicated.
    @Test func resumingAKeylessTableReloadsItFromEmpty() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let path = dir + "/bag.db"
                try SQLiteSession(path: path, create: true).executeScript(
                    """
                    CREATE TABLE bag (label TEXT);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) INSERT INTO bag SELECT 'x' || (n % 7) FROM g;
                    """)
                let jobs = try await testJobs(dir)
                let source = ConnectionURL(engine: .sqlite, database: path)
                let first = try await jobs.migrate(
                    source: source, target: pg, scope: Scope(), config: CutoverConfig(),
                    options: MoveOptions(rowsPerChunk: 1000), validate: false)
                #expect(first.succeeded)
                // As if the process died after chunk 2 committed but before the ledger said so.
                var chunk = try #require(try await jobs.store.chunks(runID: first.runID).first { $0.number == 2 })
                chunk.state = .running
                try await jobs.store.finishChunk(chunk)
                try await jobs.store.setRunStatus(id: first.runID, status: .failed)
                let resumed = try await jobs.migrate(
                    source: source, target: pg, scope: Scope(), config: CutoverConfig(),
                    options: MoveOptions(rowsPerChunk: 1000, resume: true), validate: true)
                #expect(resumed.runID == first.runID)
                #expect(resumed.succeeded, "\(resumed.results)")
                #expect(try await PostgresConnector(url: pg).rowCount(TableRef(schema: "public", name: "bag")) == 5000)
            }
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct RebuildIndexTests {
    @Test(arguments: [false, true])
    func secondaryIndexesAreDroppedForTheLoadAndRebuiltEvenWhenItFails(loadFails: Bool) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.psql(
                    pg,
                    """
                    CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(10), at text);
                    CREATE INDEX events_kind ON events (kind);
                    CREATE UNIQUE INDEX events_kind_at ON events (kind, at);
                    INSERT INTO events VALUES (-1, 'old', 'before');
                    """)
                let path = dir + "/new.db"
                try SQLiteSession(path: path, create: true).executeScript(
                    """
                    CREATE TABLE events (id INTEGER PRIMARY KEY, kind VARCHAR(10), at TEXT);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000) INSERT INTO events SELECT n, 'k' || (n % 5), 't' || n FROM g;
                    \(loadFails ? "UPDATE events SET kind = 'far too long for ten' WHERE id = 1500;" : "")
                    """)
                let jobs = try await testJobs(dir)
                let outcome = try await jobs.migrate(
                    source: ConnectionURL(engine: .sqlite, database: path), target: pg, scope: Scope(),
                    config: CutoverConfig(), options: MoveOptions(mode: .append, rowsPerChunk: 500, rebuildIndexes: true),
                    validate: false)
                #expect(outcome.succeeded == !loadFails, "\(outcome.results)")
                let logs = try await jobs.store.logs(runID: outcome.runID)
                #expect(logs.contains { $0.event == "table.indexes_dropped" && $0.message.contains("2 secondary index") })
                let indexes = try await PostgresConnector(url: pg).execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY 1")
                #expect(indexes.rows.map { $0.first?.displayText ?? "" } == ["events_kind", "events_kind_at", "events_pkey"])
            }
        }
    }
}
