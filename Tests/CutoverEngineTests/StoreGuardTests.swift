import CutoverCore
import CutoverEngine
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// The metadata store is recognised by what it is, not by how its URL is written.
@Suite struct StoreGuardTests {
    @Test(.enabled(if: TestEnvironment.hasPostgres)) func aPostgresStoreIsRecognisedUnderAnotherHostName() async throws {
        try await TestEnvironment.withPostgresDatabase { storeDB in
            try await TestEnvironment.withPostgresDatabase { other in
                let store = try await SQLMetadataStore.open(storeDB)
                var alias = TestEnvironment.cliText(storeDB).replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
                alias += alias.contains("?") ? "&application_name=x" : "?application_name=x"
                await #expect(throws: CutoverError.self) { try await Connectors.refuseStore(try ConnectionURL(parsing: alias), store: store) }
                // Another database of the same server is not the store.
                try await Connectors.refuseStore(other, store: store)
            }
        }
    }

    @Test func aSQLiteStoreIsRecognisedThroughLinksAndItsSideFiles() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/store.db"))
            try FileManager.default.linkItem(atPath: dir + "/store.db", toPath: dir + "/hard.db")
            for path in ["store.db", "./store.db", "hard.db", "store.db-wal"] {
                await #expect(throws: CutoverError.self, "\(path)") {
                    try await Connectors.refuseStore(ConnectionURL(engine: .sqlite, database: dir + "/" + path), store: store)
                }
            }
            try await Connectors.refuseStore(ConnectionURL(engine: .sqlite, database: dir + "/new.db"), store: store)
        }
    }
}
