import CutoverCore
import CutoverPostgres
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Two `cutover migrate` processes on one plan: the run has one coordinator, so the second stops
/// with a message instead of taking over chunks, and the first ends exact — keyless table included.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct ConcurrentRunTests {
    @Test func aSecondProcessOnTheSamePlanIsTurnedAwayAndNothingIsDuplicated() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try SQLiteSession(path: dir + "/src.db", create: true).executeScript(
                    """
                    CREATE TABLE keyed (id INTEGER PRIMARY KEY, v TEXT);
                    CREATE TABLE keyless (v TEXT, n INTEGER);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300000)
                    INSERT INTO keyed SELECT n, 'v' || n FROM g;
                    INSERT INTO keyless SELECT v, id FROM keyed;
                    """)
                let arguments = [
                    "migrate", "--source", "sqlite:src.db", "--target", TestEnvironment.cliText(pg), "--chunk-rows", "5000", "--parallel", "1",
                ]
                // The first process loads one chunk and is then held until the second has been turned away:
                // on a loaded machine it could otherwise finish before the second starts, which then resumes.
                let release = dir + "/release"
                let (first, output) = try CLI.start(
                    arguments, in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk.hold:1", "CUTOVER_FAILPOINT_RELEASE": release])

                let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
                var started = false
                for _ in 0..<600 where !started {
                    try await Task.sleep(nanoseconds: 25_000_000)
                    if let run = try await store.runs(limit: 1).first, run.status == .running {
                        started = try await store.chunks(runID: run.id).contains { $0.state == .done }
                    }
                }
                #expect(started)
                let second = try await CLI.run(arguments, in: dir)
                #expect(second.status == 3, "\(second.output)")
                #expect(second.stderr.contains("is running") && second.stderr.contains("cutover worker --run"), "\(second.output)")
                FileManager.default.createFile(atPath: release, contents: nil)

                let log = await BlockingIOTestHelper.readAll(output)
                first.waitUntilExit()
                #expect(first.terminationStatus == 0, "\(log)")
                let counts = try await PostgresConnector(url: pg).execute(
                    "SELECT (SELECT count(*) FROM keyed), (SELECT count(*) FROM keyless), (SELECT count(DISTINCT n) FROM keyless)")
                #expect(counts.rows.first == [.text("300000"), .text("300000"), .text("300000")])
            }
        }
    }
}
