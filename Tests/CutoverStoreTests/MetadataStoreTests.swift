import Foundation
import CutoverCore
import CutoverStore
import CutoverTesting
import Testing

/// The same behaviour on every backend.
@Suite struct MetadataStoreTests {
    /// Every backend a team can use.
    static func backends() -> [String] { serverBackends() + (TestEnvironment.hasSnowflake ? ["snowflake"] : []) }
    /// The backends with transactions that lock rows or the database (Snowflake's emulator has neither).
    static func serverBackends() -> [String] { TestEnvironment.hasPostgres ? ["sqlite", "postgres"] : ["sqlite"] }

    static func withStore(_ backend: String, _ body: (ConnectionURL) async throws -> Void) async throws {
        switch backend {
        case "postgres": try await TestEnvironment.withPostgresDatabase { try await body($0) }
        case "snowflake": try await TestEnvironment.withSnowflakeDatabase { try await body($0) }
        default:
            try await TestEnvironment.withTemporaryDirectory { try await body(ConnectionURL(engine: .sqlite, database: $0 + "/nested/dir/store.db")) }
        }
    }

    func withStore(_ backend: String, _ body: (ConnectionURL) async throws -> Void) async throws { try await Self.withStore(backend, body) }

    /// Cancelling is one transaction: a run that ended in the meantime stays as it ended (it was
    /// read, then set to `cancelling` with its end time cleared, by two separate calls).
    @Test(arguments: backends())
    func onlyARunningRunCanBeAskedToCancel(backend: String) async throws {
        try await withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            try await store.startRun(RunRecord(id: "r-running", kind: "migrate", source: nil, target: nil))
            try await store.startRun(RunRecord(id: "r-done", kind: "migrate", source: nil, target: nil))
            try await store.finishRun(id: "r-done", status: .succeeded, summary: "ok", error: nil)
            #expect(try await store.requestCancel(runID: "r-done") == false)
            let done = try await store.run(id: "r-done")
            #expect(done?.status == .succeeded && done?.finishedAt != nil)
            #expect(try await store.requestCancel(runID: "r-running") == true)
            // Read back as cancelling, or as interrupted: this test's run has no coordinator holding a lease.
            #expect([.cancelling, .interrupted].contains(try await store.run(id: "r-running")?.status))
            #expect(try await store.requestCancel(runID: "r-running") == false)
            #expect(try await store.requestCancel(runID: "nope") == false)
        }
    }

    @Test(arguments: backends())
    func recordsRunsTablesAndLogs(backend: String) async throws {
        try await withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            #expect(try await store.schemaVersion() == SQLMetadataStore.latestSchemaVersion)
            let id = RunRecord.newID()
            try await store.startRun(RunRecord(id: id, kind: "migrate", source: "postgres://u:***@h/db", target: "sqlite:t.db"))
            try await store.recordTable(RunTableRecord(runID: id, table: "public.orders", status: "moved", sourceRows: 10, targetRows: 10))
            try await store.recordTable(RunTableRecord(runID: id, table: "public.orders", status: "failed", message: "retry"))
            try await store.log(
                LogEntry(
                    runID: id, table: "public.orders", event: "table.done", message: "done with postgres://u:pw@h/db",
                    fields: ["rows": "10"]))
            try await store.finishRun(id: id, status: .succeeded, summary: "1 table", error: nil)
            let run = try #require(try await store.run(id: id))
            #expect(run.status == .succeeded)
            #expect(run.finishedAt != nil)
            let tables = try await store.tables(runID: id)
            #expect(tables.count == 1)
            #expect(tables.first?.status == "failed")
            let logs = try await store.logs(runID: id)
            #expect(logs.first?.fields["rows"] == "10")
            #expect(logs.first?.message.contains(":pw@") == false)
            #expect(try await store.runs(limit: 10).map(\.id) == [id])
        }
    }

    @Test(arguments: serverBackends())
    func migrationsApplyOnceWhenManyProcessesOpenTogether(backend: String) async throws {
        try await withStore(backend) { url in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await SQLMetadataStore.open(url).schemaVersion() } }
                for try await version in group { #expect(version == SQLMetadataStore.latestSchemaVersion) }
            }
        }
    }

    @Test(arguments: backends())
    func concurrentWritersLoseNothing(backend: String) async throws {
        try await withStore(backend) { url in
            let id = RunRecord.newID()
            try await SQLMetadataStore.open(url).startRun(RunRecord(id: id, kind: "migrate", source: nil, target: nil))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        let store = try await SQLMetadataStore.open(url)  // a separate connection, as a separate process would have
                        for n in 0..<50 { try await store.log(LogEntry(runID: id, event: "e", message: "\(writer)-\(n)")) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await SQLMetadataStore.open(url).logs(runID: id).count == 200)
        }
    }

    @Test(arguments: backends())
    func chunkLedgerWatermarksRejectsAndRulesWork(backend: String) async throws {
        try await withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            let id = RunRecord.newID()
            try await store.startRun(RunRecord(id: id, kind: "migrate", source: nil, target: nil, planHash: "plan-1"))
            let chunks = (0..<3).map { ChunkRecord(runID: id, table: "public.t", number: $0, bounds: "{}") }
            try await store.addChunks(chunks)
            try await store.addChunks(chunks)  // already there: kept once, state kept
            #expect(try await store.chunks(runID: id).count == 3)
            var first = try #require(try await store.claimChunk(runID: id, owner: "w1", leaseSeconds: 60))
            #expect(first.number == 0 && first.leaseOwner == "w1" && first.attempts == 1)
            #expect(try await store.claimChunk(runID: id, owner: "w2", leaseSeconds: 60)?.number == 1)
            first.state = .done
            first.rows = 42
            try await store.finishChunk(first)
            try await store.releaseChunks(runID: id)
            let states = try await store.chunks(runID: id).map(\.state)
            #expect(states == [.done, .pending, .pending])
            #expect(try await store.resumableRun(planHash: "plan-1")?.id == id)

            #expect(try await store.watermark(source: "s", target: "t", table: "x") == nil)
            try await store.setWatermark(source: "s", target: "t", table: "x", column: "updated_at", value: "1", runID: id)
            try await store.setWatermark(source: "s", target: "t", table: "x", column: "updated_at", value: "2", runID: id)
            #expect(try await store.watermark(source: "s", target: "t", table: "x")?.value == "2")

            try await store.addRejects([RejectRecord(runID: id, table: "public.t", chunk: 1, key: "7", reason: "too long", values: "{}")])
            #expect(try await store.rejects(runID: id).map(\.key) == ["7"])
            try await store.clearRejects(runID: id, table: "public.t", chunk: 1)
            #expect(try await store.rejects(runID: id).isEmpty)

            let rule = StoredRule(
                contentHash: "h1", name: "no negatives", description: nil, severity: .error, sql: "SELECT 1 WHERE 1 = 0",
                warnIf: nil, errorIf: nil, side: .target)
            #expect(try await store.saveRules([rule, rule]) == 1)
            #expect(try await store.saveRules([rule]) == 0)
            #expect(try await store.rules().count == 1)
            // The same name with other content is the rule's next version, not a second rule.
            var changed = rule
            changed.contentHash = "h2"
            changed.sql = "SELECT 2 WHERE 1 = 0"
            changed.category = "finance"
            #expect(try await store.saveRules([changed]) == 1)
            let current = try await store.rules()
            #expect(current.count == 1 && current.first?.version == 2 && current.first?.category == "finance", "\(current)")
            #expect(try await store.ruleVersions(name: "no negatives").map(\.contentHash) == ["h2", "h1"])
            #expect(try await store.saveRules([rule]) == 1, "back to the first content: a third version")
            #expect(try await store.ruleVersions(name: "no negatives").map(\.version) == [3, 2, 1])
            #expect(try await store.rules().map(\.contentHash) == ["h1"])
        }
    }

    @Test func anUnsupportedStoreEngineIsRefusedWithAClearMessage() async throws {
        await #expect {
            try await SQLMetadataStore.open(try ConnectionURL(parsing: "mssql://u@host/db"))
        } throws: { error in
            "\(error)".contains("sqlite:.cutover/cutover.db")
        }
    }
}

extension MetadataStoreTests {
    /// One coordinator per run: a lease that is claimed by one claimer at a time, renewed by its
    /// holder, taken over only when it ran out or its holder is gone, and shown as `interrupted`
    /// to every reader once nobody renews it.
    @Test(arguments: backends())
    func runLeasesHaveOneHolder(backend: String) async throws {
        try await withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            let live = ISOTime.string(Date().addingTimeInterval(60))
            try await store.startRun(RunRecord(id: "held", kind: "migrate", source: nil, target: nil, leaseOwner: "a:1:x", leaseUntil: live))
            #expect(try await store.claimRun(id: "held", owner: "b:2:y", leaseSeconds: 30, replacing: nil) == false, "a live lease holds")
            #expect(try await store.renewRunLease(id: "held", owner: "a:1:x", leaseSeconds: 30))
            #expect(try await store.renewRunLease(id: "held", owner: "b:2:y", leaseSeconds: 30) == false)
            // An hour: the lease must still be live when this test looks again, however loaded the machine.
            #expect(try await store.claimRun(id: "held", owner: "b:2:y", leaseSeconds: 3600, replacing: "a:1:x"), "its holder is known to be gone")
            #expect(try await store.run(id: "held")?.leaseOwner == "b:2:y")

            try await store.startRun(
                RunRecord(
                    id: "stale", kind: "migrate", source: nil, target: nil, leaseOwner: "c:3:z",
                    leaseUntil: ISOTime.string(Date().addingTimeInterval(-5))))
            #expect(try await store.run(id: "stale")?.status == .interrupted, "nobody renews it")
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for n in 0..<4 { group.addTask { try await store.claimRun(id: "stale", owner: "claimer:\(n):q", leaseSeconds: 30, replacing: nil) } }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(claims.filter { $0 }.count == 1, "\(claims)")
            #expect(try await store.run(id: "stale")?.status == .running)

            try await store.startRun(
                RunRecord(
                    id: "dead", kind: "migrate", source: nil, target: nil, leaseOwner: "d:4:w",
                    leaseUntil: ISOTime.string(Date().addingTimeInterval(-5))))
            #expect(try await store.interruptRuns(ownedBy: nil) == ["dead"])
            #expect(try await store.interruptRuns(ownedBy: "b:2:") == ["held"])
            #expect(try await store.run(id: "held")?.status == .interrupted)
            try await store.finishRun(id: "stale", status: .succeeded, summary: nil, error: nil)
            #expect(try await store.run(id: "stale")?.leaseOwner == nil)
        }
    }
}
