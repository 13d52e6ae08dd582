import CutoverCore
import CutoverStore
import CutoverTesting
import Testing

/// The same behaviour on every backend.
@Suite struct MetadataStoreTests {
    static func backends() -> [String] { TestEnvironment.hasPostgres ? ["sqlite", "postgres"] : ["sqlite"] }

    func withStore(_ backend: String, _ body: (ConnectionURL) async throws -> Void) async throws {
        if backend == "postgres" {
            try await TestEnvironment.withPostgresDatabase { try await body($0) }
        } else {
            try await TestEnvironment.withTemporaryDirectory { try await body(ConnectionURL(engine: .sqlite, database: $0 + "/nested/dir/store.db")) }
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
            try await store.log(LogEntry(runID: id, table: "public.orders", event: "table.done", message: "done with postgres://u:pw@h/db",
                                         fields: ["rows": "10"]))
            try await store.finishRun(id: id, status: "succeeded", summary: "1 table", error: nil)
            let run = try #require(try await store.run(id: id))
            #expect(run.status == "succeeded")
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

    @Test(arguments: backends())
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

    @Test func snowflakeStoreIsRefusedWithAClearMessage() async throws {
        await #expect {
            try await SQLMetadataStore.open(try ConnectionURL(parsing: "snowflake://u@acct/db/schema"))
        } throws: { error in
            "\(error)".contains("sqlite:.cutover/cutover.db")
        }
    }
}
