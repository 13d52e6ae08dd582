import CutoverCore
import Foundation

/// One Snowflake session for callers that work synchronously on their own threads (the metadata
/// store runs its SQL on ``BlockingIO``): statements with `?` parameters bound as text, results
/// as text. Not for bulk data — the connector streams that.
public final class SnowflakeStatementSession: @unchecked Sendable {
    private let client: SnowflakeClient

    public init(url: ConnectionURL) throws {
        client = SnowflakeClient(settings: try SnowflakeSettings(url))
        let client = self.client
        try SnowflakeReadSource.wait { try await client.login() }
    }

    /// Runs one statement; every parameter is bound as TEXT (NULL for nil) and Snowflake casts it
    /// to the column or expression it meets.
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        let client = self.client
        var bindings: [String: Binding] = [:]
        for (index, parameter) in parameters.enumerated() { bindings[String(index + 1)] = Binding(type: "TEXT", value: .one(parameter)) }
        let frozen = bindings
        return try SnowflakeReadSource.wait {
            let pages = SnowflakeResultPages(try await client.run(sql, bindings: frozen), client: client)
            return try await pages.all().map { row in row.map { $0.isNull ? nil : $0.displayText } }
        }
    }

    /// Logs out in the background: a deinit may run on any thread, so it must not wait.
    deinit {
        let client = self.client
        Task { await client.close() }
    }
}
