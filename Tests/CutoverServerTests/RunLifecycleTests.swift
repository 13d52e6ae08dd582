import CutoverCore
import CutoverServer
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Runs outlive the server that started them: a shutdown marks them interrupted, and another
/// server resumes them from the ledger.
@Suite struct RunLifecycleTests {
    @Test func aShutdownInterruptsRunsAndAnotherServerResumesThemExactly() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let source = dir + "/big.db"
            try SQLiteSession(path: source, create: true).executeScript(
                """
                CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, amount REAL);
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1500000)
                INSERT INTO events SELECT n, 'kind ' || (n % 17), n / 7.0 FROM g;
                """)
            let setup = try await ServerSetup.make(in: dir, connections: ["big": "sqlite:\(source)"])
            let runs = Received()
            let first = try await CutoverServer.application(store: setup.store, config: setup.config, settings: setup.settings)
            try await first.test(.live) { client in
                var s = Session(client: client, directory: dir)
                #expect(
                    try await s.call(.post, "/api/v1/auth/register", json: #"{"username": "ada", "password": "lovelace-1815"}"#).status == .created)
                s.admin = try await s.login("ada", "lovelace-1815")
                #expect(
                    try await s.call(
                        .post, "/api/v1/auth/register", token: s.admin, json: #"{"username": "bob", "password": "password-bob", "role": "user"}"#
                    ).status == .created)
                s.user = try await s.login("bob", "password-bob")
                s.viewer = s.user
                let started = try await s.call(
                    .post, "/api/v1/migrations", token: s.user,
                    json: #"{"source": "big", "target": "scratch", "parallel": 1, "validate": false}"#)
                let runs = runs
                let runID = try #require(try s.object(started)["run_id"] as? String, "\(String(buffer: started.body))")
                await runs.add(runID)
                // Wait for the first chunk to land, then stop the server (the end of this closure is a graceful shutdown).
                for _ in 0..<600 {
                    let logs = try s.list(try await s.call(.get, "/api/v1/migrations/\(runID)/logs", token: s.user))
                    if logs.contains(where: { ($0["entry"] as? [String: Any])?["event"] as? String == "chunk.done" }) { break }
                    try await Task.sleep(nanoseconds: 50_000_000)
                }
            }
            let runID = try #require(await runs.all.first)
            let stopped = try #require(try await setup.store.run(id: runID))
            #expect(stopped.status == .interrupted, "\(stopped)")
            let loaded = try await setup.store.chunks(runID: runID).filter { $0.state == .done }.count
            #expect(loaded >= 1 && loaded < 6, "\(loaded) of 6 chunks before the shutdown")

            // Another server over the same store: the owner resumes it, and only the missing chunks load.
            let second = try await CutoverServer.application(store: setup.store, config: setup.config, settings: setup.settings)
            try await second.test(.router) { client in
                var s = Session(client: client, directory: dir)
                s.user = try await s.login("bob", "password-bob")
                s.viewer = s.user
                let listed = try s.list(try await s.call(.get, "/api/v1/migrations", token: s.user))
                #expect(listed.first { $0["id"] as? String == runID }?["status"] as? String == "interrupted")
                let resumed = try await s.call(.post, "/api/v1/migrations/\(runID)/resume", token: s.user)
                #expect(resumed.status == .accepted, "\(String(buffer: resumed.body))")
                #expect(try s.object(resumed)["run_id"] as? String == runID, "the same run continues")
                let done = try await s.finishedRun(runID)
                #expect(done["status"] as? String == "succeeded", "\(done)")
            }
            let counts = try SQLiteSession(path: dir + "/scratch.db", create: false).execute(
                "SELECT count(*), count(DISTINCT id), sum(id) FROM events")
            #expect(counts.rows.first == [.int(1_500_000), .int(1_500_000), .int(1_500_000 * 1_500_001 / 2)])
        }
    }

    @Test func aRunWhoseCoordinatorStoppedRenewingIsInterruptedForEveryReader() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let setup = try await ServerSetup.make(in: dir)
            try await setup.store.startRun(
                RunRecord(
                    id: "20260101-000000-dead", kind: "migrate", source: "chinook", target: "scratch", createdBy: "bob",
                    leaseOwner: "elsewhere:1:cafe", leaseUntil: ISOTime.string(Date().addingTimeInterval(-60))))
            try await withServer(setup) { s in
                let run = try s.object(try await s.call(.get, "/api/v1/migrations/20260101-000000-dead", token: s.viewer))["run"] as? [String: Any]
                #expect(run?["status"] as? String == "interrupted")
                // Not started through the API: the answer says how to resume it instead.
                let resume = try await s.call(.post, "/api/v1/migrations/20260101-000000-dead/resume", token: s.user)
                #expect(try resume.status == .conflict && s.errorMessage(resume).contains("cutover migrate"))
                #expect(try await s.call(.delete, "/api/v1/migrations/20260101-000000-dead", token: s.user).status == .noContent)
            }
            let cli = try await CLI.run(["runs", "list", "--store", "sqlite:store.db"], in: dir)
            #expect(!cli.stdout.contains("running"))
        }
    }
}
