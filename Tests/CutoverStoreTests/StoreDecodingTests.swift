import CutoverCore
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Rows are read by column name, and a row the store cannot have written is an error naming the
/// table and column — never an empty string, a 0 or a skipped row (a reject with no reason, an
/// archived month counted as nothing).
@Suite struct StoreDecodingTests {
    @Test func rowsChangedByHandAreErrorsNamingTheirColumn() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let path = dir + "/store.db"
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: path))
            try await store.startRun(RunRecord(id: "r1", kind: "migrate", source: nil, target: nil))
            try await store.addRejects([RejectRecord(runID: "r1", table: "main.t", chunk: 0, key: "id=1", reason: "too long", values: "{}")])
            try await store.saveProject(ProjectRecord(id: "p1", name: "orders"))
            try await store.audit(AuditRecord(username: "ann", action: "sign_in", resource: nil, outcome: "ok"))
            #expect(try await store.rejects(runID: "r1").map(\.reason) == ["too long"])

            func expectError(
                _ sql: String, _ message: String, _ read: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
            )
                async throws
            {
                try SQLiteSession(path: path, create: false).executeScript(sql)
                await #expect(sourceLocation: sourceLocation) {
                    try await read()
                } throws: { error in
                    (error as? CutoverError)?.description.contains(message) == true
                }
            }
            // NOT NULL holds in every backend; a value of the wrong kind is what a careless edit leaves.
            try await expectError("UPDATE rejects SET chunk_no = 'first'", "rejects.chunk_no holds first, not a whole number") {
                _ = try await store.rejects(runID: "r1")
            }
            try await expectError(
                "INSERT INTO archived_counts (month, table_name, status, rows) VALUES ('2026-01', 'logs', '*', 'lots')",
                "archived_counts.rows holds lots, not a whole number"
            ) {
                _ = try await store.monthlyOverview(maxAge: 0, refresh: true)
            }
        }
    }
}
