import CutoverCore
import Dispatch
import Foundation

/// Snowflake through its REST protocol. Reads stream result pages (one chunk in memory at a
/// time); writes stage rows as CSV in a temporary VARCHAR table (PUT + COPY INTO where the stage
/// hands out an upload URL, batched array binds otherwise), then convert and insert — or MERGE for
/// upserts — inside one transaction. Every read and write runs in its own session.
public struct SnowflakeConnector: Connector {
    public let url: ConnectionURL
    let settings: SnowflakeSettings
    /// Set on a snapshot's connector: every read sees the tables as they were at this instant.
    var asOf: String?
    public var dialect: any Dialect { SnowflakeDialect(asOf: asOf) }

    /// Logs in once to check the URL and credentials, so errors surface before any work.
    public init(url: ConnectionURL) async throws {
        self.url = url
        settings = try SnowflakeSettings(url)
        try await withClient { _ = try await $0.run("SELECT CURRENT_DATABASE() AS DB") }
    }

    func withClient<T: Sendable>(_ body: @Sendable (SnowflakeClient) async throws -> T) async throws -> T {
        let client = SnowflakeClient(settings: settings)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    public func execute(_ sql: String) async throws -> ResultSet {
        try await withClient { client in
            let data = try await client.run(sql)
            let pages = SnowflakeResultPages(data, client: client)
            return ResultSet(columns: pages.columns.map(\.name), rows: try await pages.all())
        }
    }

    public func rowCount(_ table: TableRef) async throws -> Int64 {
        try rowCount(answer: try await execute("SELECT COUNT(*) AS N FROM \(dialect.qualified(table))").rows.first?.first, of: table)
    }

    public func catalog(_ scope: Scope) async throws -> Catalog {
        try await withClient { client in try await SnowflakeCatalogReader(client: client, settings: settings).read(scope) }
    }

    public func read(_ request: ReadRequest) -> RowStream {
        let settings = settings
        let sql = request.selectSQL(dialect)
        let types = request.columns.map(\.canonical)
        let batchSize = request.batchSize
        return RowStream { SnowflakeReadSource(settings: settings, sql: sql, types: types, batchSize: batchSize) }
    }

    /// Time Travel: the current instant, read back with `AT(TIMESTAMP => …)`. Each table is tried
    /// first, because Time Travel can be off (a retention of 0 days, an emulator); then the
    /// snapshot says why each range is read at its own moment instead.
    public func snapshot(of tables: [TableRef]) async throws -> Snapshot? {
        let now = try await execute("SELECT TO_VARCHAR(CURRENT_TIMESTAMP(), 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM') AS NOW").rows.first?.first?
            .displayText
        guard let now else { return nil }
        var pinned = self
        pinned.asOf = now
        for table in tables {
            do {
                _ = try await pinned.execute("SELECT 1 FROM \(pinned.dialect.readSource(table)) LIMIT 1")
            } catch {
                return Snapshot(
                    connector: nil,
                    description: "Snowflake Time Travel is not available for \(table) (\(error.redactedDescription)): "
                        + "each range is read by its own statement at its own moment")
            }
        }
        return Snapshot(
            connector: pinned, description: "Snowflake Time Travel AT(TIMESTAMP => '\(now)'), shared by every query and read of this side")
    }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats {
        let settings = settings
        return try await withClient { client in
            let load = SnowflakeLoad(client: client, settings: settings, table: table, columns: columns)
            return try await load.run(rows, options: options)
        }
    }
}

/// Bridges a result's async pages to the blocking ``BatchSource`` a ``RowStream`` pulls from. It
/// runs on ``BlockingIO``'s own threads, so waiting here never blocks the cooperative pool.
final class SnowflakeReadSource: BatchSource {
    let settings: SnowflakeSettings
    let sql: String
    let types: [CanonicalType]
    let batchSize: Int
    private var client: SnowflakeClient?
    private var pages: SnowflakeResultPages?
    private var pending: [[Value]] = []
    private var pendingIndex = 0
    private var exhausted = false

    init(settings: SnowflakeSettings, sql: String, types: [CanonicalType], batchSize: Int) {
        self.settings = settings
        self.sql = sql
        self.types = types
        self.batchSize = batchSize
    }

    func nextBatch() throws -> RowBatch? {
        var batch = RowBatch(columnCount: types.count, reservingRows: min(batchSize, 10_000))
        while batch.rowCount < batchSize {
            if pendingIndex == pending.count {
                if exhausted { break }
                let box = UncheckedBox(self)
                let page = try Self.wait { try await box.value.nextPage() }
                guard let page else { exhausted = true; break }
                pending = page
                pendingIndex = 0
                continue
            }
            let row = pending[pendingIndex]
            pendingIndex += 1
            for (value, type) in zip(row, types) { batch.append(SnowflakeValues.coerce(value, to: type)) }
        }
        return batch.isEmpty ? nil : batch
    }

    private func nextPage() async throws -> [[Value]]? {
        if pages == nil {
            let client = SnowflakeClient(settings: settings)
            self.client = client
            pages = SnowflakeResultPages(try await client.run(sql), client: client)
        }
        return try await pages?.next()
    }

    func close() {
        guard let client else { return }
        self.client = nil
        Task { await client.close() }
    }

    /// Waits on this (non-cooperative) thread for async work.
    static func wait<T>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = AsyncOutcome<T>()
        Task {
            do { outcome.result = .success(try await work()) } catch { outcome.result = .failure(error) }
            outcome.done.signal()
        }
        outcome.done.wait()
        return try outcome.result!.get()
    }
}

/// The result of async work a blocking thread waits for; written once, read after the signal.
private final class AsyncOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
    let done = DispatchSemaphore(value: 0)
}

enum SnowflakeValues {
    /// A value as read from Snowflake, carried the way `type` stores values (see ``CanonicalType/storage``).
    static func coerce(_ value: Value, to type: CanonicalType) -> Value {
        switch (value, type.storage) {
        case (.null, _): return .null
        case (.int(let i), .text): return .text(String(i))
        case (.double(let d), .text):
            if case .decimal = type { return .text(DecimalText.plain(d)) }
            return .text(CanonicalForm.floatText(d, bits: 64))
        case (.text(let s), .int): return Int64(s).map(Value.int) ?? value
        case (.text(let s), .double): return Double(parsingSQL: s).map(Value.double) ?? value
        case (.int(let i), .double): return .double(Double(i))
        case (.text(let s), .bytes): return .bytes(Array(s.utf8))
        case (.bool(let b), .text): return .text(b ? "true" : "false")
        default: return value
        }
    }
}

extension SnowflakeConnector {
    /// The SQL runner's statement. Read-only: the statement becomes a subquery (`SELECT * FROM (…)`),
    /// which Snowflake parses only as a query, and one statement per request is all Snowflake takes
    /// (`MULTI_STATEMENT_COUNT` = 1). Cutover cannot see the role's grants from here: the answer
    /// says so, and the role is the boundary. Cancelled after the timeout.
    public func run(_ query: RunnerQuery) async throws -> RunnerAnswer {
        let sql = query.readOnly ? "SELECT * FROM (\(query.sql)\n) LIMIT \(query.maxRows + 1)" : query.sql
        let parameters = ["STATEMENT_TIMEOUT_IN_SECONDS": max(1, Int(query.timeout)), "MULTI_STATEMENT_COUNT": 1]
        return try await withClient { client in
            let data = try await client.run(sql, parameters: parameters)
            let pages = SnowflakeResultPages(data, client: client)
            var rows: [[Value]] = []
            while rows.count <= query.maxRows, let page = try await pages.next() { rows += page }
            var warnings = [
                "Snowflake: Cutover cannot check the grants of the role this connection uses"
                    + (settings.role.map { " (\($0))" } ?? "") + "; give the runner a role that can only read"
            ]
            if !query.readOnly { warnings = [] }
            return RunnerAnswer(
                columns: pages.columns.map(\.name), rows: Array(rows.prefix(query.maxRows)), truncated: rows.count > query.maxRows,
                warnings: warnings)
        }
    }
}
