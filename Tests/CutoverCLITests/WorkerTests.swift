import CutoverCore
import CutoverPostgres
import CutoverStore
import CutoverTesting
import Foundation
import Testing

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct WorkerTests {
    /// `cutover migrate` and a `cutover worker` share one run through a PostgreSQL store: every chunk
    /// is loaded once, by one of them, and the result validates.
    @Test func twoProcessesFinishOneRunTogether() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.withPostgresDatabase { storeDB in
                    try CLI.sqliteFile(
                        dir + "/src.db",
                        """
                        CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n REAL);
                        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 60000)
                        INSERT INTO facts SELECT n, 'value ' || n, n / 3.0 FROM g;
                        """)
                    let url = TestEnvironment.cliText(pg)
                    let common = ["--source", "sqlite:src.db", "--target", url, "--store", TestEnvironment.cliText(storeDB), "--parallel", "1"]
                    // The coordinator loads one chunk, then is held until the worker has loaded one too: both
                    // take chunks whatever the machine's load (timing it once let the coordinator finish first).
                    let release = dir + "/release"
                    let (coordinator, output) = try CLI.start(
                        ["migrate", "--chunk-rows", "250"] + common, in: dir,
                        environment: ["CUTOVER_FAILPOINTS": "move.chunk.hold:1", "CUTOVER_FAILPOINT_RELEASE": release])

                    let store = try await SQLMetadataStore.open(storeDB)
                    func doneChunks(_ id: String) async throws -> Int { try await store.chunks(runID: id).filter { $0.state == .done }.count }
                    var runID: String?
                    for _ in 0..<1200 where runID == nil {
                        try await Task.sleep(nanoseconds: 50_000_000)
                        if let run = try await store.runs(limit: 1).first, run.status == .running, try await doneChunks(run.id) == 1 {
                            runID = run.id
                        }
                    }
                    let id = try #require(runID)
                    let (workerProcess, workerPipe) = try CLI.start(["worker", "--run", id] + common, in: dir)
                    // A second chunk done can only be the worker's: the coordinator is held.
                    var waited = 0
                    while try await doneChunks(id) < 2, waited < 1200 {
                        try await Task.sleep(nanoseconds: 50_000_000)
                        waited += 1
                    }
                    FileManager.default.createFile(atPath: release, contents: nil)
                    let workerOutput = await BlockingIOTestHelper.readAll(workerPipe)
                    workerProcess.waitUntilExit()
                    let coordinatorOutput = await BlockingIOTestHelper.readAll(output)
                    coordinator.waitUntilExit()
                    #expect(workerProcess.terminationStatus == 0, "\(workerOutput)")
                    #expect(coordinator.terminationStatus == 0, "\(coordinatorOutput)")
                    #expect(coordinatorOutput.contains("validation: 1 passed, 0 failed"))

                    let chunks = try await store.chunks(runID: id)
                    #expect(chunks.count == 240)
                    #expect(chunks.allSatisfy { $0.state == .done && $0.attempts == 1 })
                    let logs = try await store.logs(runID: id).filter { $0.event == "chunk.done" }
                    #expect(logs.count == 240)
                    // Both processes took chunks (owners are host:pid:worker while leased; the logs say who finished what).
                    let doneLine = workerOutput.split(separator: "\n").first { $0.hasPrefix("worker done: loaded ") } ?? ""
                    let workerChunks = Int(doneLine.split(separator: " ").dropFirst(3).first ?? "0") ?? 0
                    #expect(workerChunks > 0 && workerChunks < 240, "\(workerOutput)")
                    let counts = try await PostgresConnector(url: pg).execute("SELECT count(*), count(DISTINCT id) FROM facts")
                    #expect(counts.rows.first == [.text("60000"), .text("60000")])
                }
            }
        }
    }

    @Test func workerWithADifferentPlanIsTurnedAway() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try CLI.sqliteFile(dir + "/src.db", "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
            try await store.startRun(
                RunRecord(
                    id: "r1", kind: "migrate", source: nil, target: nil, planHash: "not-this-plan", leaseOwner: "elsewhere:1:x",
                    leaseUntil: ISOTime.string(Date().addingTimeInterval(3600))))
            let result = try await CLI.run(["worker", "--run", "r1", "--source", "sqlite:src.db", "--target", "sqlite:dst.db"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains("differ from run r1"))
        }
    }
}

enum BlockingIOTestHelper {
    static func readAll(_ pipe: Pipe) async -> String {
        (try? await BlockingIO.run { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }) ?? ""
    }
}
