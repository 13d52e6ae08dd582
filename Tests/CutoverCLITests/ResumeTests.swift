import CutoverCore
import CutoverStore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct ResumeTests {
    /// SIGKILL in the middle of a multi-chunk migrate; the rerun resumes and the target ends up equal
    /// to the source with no duplicates.
    @Test func killedMigrationResumesWithoutLosingOrDuplicatingRows() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                let source = dir + "/big.db"
                let session = try SQLiteSession(path: source, create: true)
                try session.executeScript(
                    """
                    CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, amount NUMERIC(12,2), at TIMESTAMP);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1500000)
                    INSERT INTO events SELECT n, 'kind ' || (n % 17), (n % 100000) / 100.0, datetime(1700000000 + n, 'unixepoch') FROM g;
                    """)
                let target = "postgres://\(pg.user!):\(pg.password!)@\(pg.host!):\(pg.port!)/\(pg.database)"
                let arguments = [
                    "migrate", "--source", "sqlite:big.db", "--target", target, "--chunk-rows", "5000", "--parallel", "1", "--no-validate",
                ]
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CLI.executable)
                process.arguments = arguments
                process.currentDirectoryURL = URL(fileURLWithPath: dir)
                // Kept in a file, so a run that never loads says why.
                FileManager.default.createFile(atPath: dir + "/first.log", contents: nil)
                let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/first.log"))
                process.standardOutput = log
                process.standardError = log
                try process.run()
                // Wait until some chunks are committed, then kill without warning. One open session
                // polls, so a busy machine cannot stretch the polling past the end of the load.
                let poller = UncheckedBox(try PostgresSession(url: pg))
                // A wait limit, not a timing claim: the loop ends at the first 20,000 rows; on a busy
                // machine (the whole suite on 2 cores) analysing 1.5M rows can take over a minute.
                let deadline = Date().addingTimeInterval(300)
                var loaded: Int64 = 0
                while Date() < deadline {
                    try await Task.sleep(nanoseconds: 20_000_000)
                    loaded = try await BlockingIO.run {
                        Int64((try? poller.value.execute("SELECT count(*) FROM events").firstValue) ?? "0") ?? 0
                    }
                    if loaded >= 20_000 { break }
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                try log.close()
                #expect(
                    loaded > 0 && loaded < 1_500_000,
                    "killed after \(loaded) rows; it said: \((try? String(contentsOfFile: dir + "/first.log", encoding: .utf8))?.suffix(2_000) ?? "")"
                )
                // The run created the table, so it loads without its key; the resumed run builds it.
                #expect(try await PrimaryKeyDeferralTests.primaryKeys(pg, "events") == "0")

                let rerun = try await CLI.run(
                    ["migrate", "--source", "sqlite:big.db", "--target", target, "--chunk-rows", "5000", "--resume"], in: dir)
                #expect(rerun.status == 0, "\(rerun.output)")
                #expect(rerun.stdout.contains("resuming run"))
                #expect(rerun.stdout.contains("validation: 1 passed, 0 failed"))
                let counts = try await CutoverPostgres.PostgresConnector(url: pg).execute("SELECT count(*), count(DISTINCT id) FROM events")
                #expect(counts.rows.first == [.text("1500000"), .text("1500000")])
                #expect(try await PrimaryKeyDeferralTests.primaryKeys(pg, "events") == "1")
                let show = try await CLI.run(["runs", "list"], in: dir)
                #expect(show.stdout.contains("succeeded"))
            }
        }
    }

    @Test func resumeWithNothingToResumeIsAUsageError() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try CLI.sqliteFile(dir + "/a.db", "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
            let result = try await CLI.run(["migrate", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--resume"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains("no unfinished run"))
        }
    }
}

import CutoverPostgres

extension CLI {
    static func sqliteFile(_ path: String, _ sql: String) throws {
        try SQLiteSession(path: path, create: true).executeScript(sql)
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct CancelTests {
    @Test func cancelledRunStopsAfterItsChunksInFlightAndResumes() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try CLI.sqliteFile(
                    dir + "/src.db",
                    """
                    CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300000) INSERT INTO facts SELECT n, 'v' || n FROM g;
                    """)
                let target = "postgres://\(pg.user!):\(pg.password!)@\(pg.host!):\(pg.port!)/\(pg.database)"
                let arguments = ["migrate", "--source", "sqlite:src.db", "--target", target, "--chunk-rows", "200", "--parallel", "1"]
                let (migrate, output) = try CLI.start(arguments, in: dir)
                // Watched in the store itself (a `runs list` process per look is slow on a busy machine,
                // and the cancel must land while chunks are still pending).
                var runID: String?
                for _ in 0..<400 where runID == nil {
                    try await Task.sleep(nanoseconds: 50_000_000)
                    guard FileManager.default.fileExists(atPath: dir + "/.cutover/cutover.db") else { continue }
                    let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
                    runID = try await store.runs(limit: 5).first { $0.status == .running }?.id
                }
                let id = try #require(runID)
                let cancel = try await CLI.run(["runs", "cancel", id], in: dir)
                #expect(cancel.status == 0, "\(cancel.output)")
                let log = await BlockingIOTestHelper.readAll(output)
                migrate.waitUntilExit()
                #expect(migrate.terminationStatus == 1, "\(log)")
                #expect(log.contains("cancelled"))
                let show = try await CLI.run(["runs", "show", id], in: dir)
                #expect(show.stdout.contains("\(id): migrate, cancelled"), "\(show.stdout)")
                #expect(show.stdout.contains("pending"))
                let again = try await CLI.run(["runs", "cancel", id], in: dir)
                #expect(again.status == 2 && again.stderr.contains("not running"))

                let resumed = try await CLI.run(arguments, in: dir)
                #expect(resumed.status == 0, "\(resumed.output)")
                #expect(resumed.stdout.contains("resuming run \(id)"))
                #expect(resumed.stdout.contains("validation: 1 passed, 0 failed"))
            }
        }
    }
}
