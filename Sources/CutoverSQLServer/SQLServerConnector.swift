import CutoverCore
import Foundation

/// A live SQL Server source (`sqlserver://user:password@host:1433/database?schema=dbo`) through
/// FreeTDS's DB-Library: the catalog (the extract script's own queries), exact row counts, and rows
/// streamed in key order. SQL Server is a source only; its rows are never written here.
public struct SQLServerConnector: Connector {
    public let url: ConnectionURL
    /// The server's major version (15 is SQL Server 2019), which decides whether it can compute
    /// the portable checksum; nil when it did not say.
    public let majorVersion: Int?
    public var dialect: any Dialect { SQLServerDialect(utf8Collations: (majorVersion ?? 0) >= SQLServerChecksum.firstMajorVersion) }

    /// Connects once, so a wrong host, password or database fails here, before any work starts.
    public init(url: ConnectionURL) async throws {
        self.url = url
        majorVersion = try await BlockingIO.run {
            let session = try TDSSession(url: url)
            defer { session.close() }
            let answer = try session.resultSets("SELECT CONVERT(int, SERVERPROPERTY('ProductMajorVersion'))").last
            return answer?.rows.first?.first.flatMap { Int($0.displayText) }
        }
    }

    /// The URL's `?schema=`, which analyze and plan read when no `--schema` is given.
    var schema: String? { url.parameters["schema"] ?? url.schema }

    private func session<T: Sendable>(_ work: @escaping @Sendable (TDSSession) throws -> T) async throws -> T {
        let url = url
        return try await BlockingIO.run {
            let session = try TDSSession(url: url)
            defer { session.close() }
            return try work(session)
        }
    }

    public func catalog(_ scope: Scope) async throws -> Catalog {
        let schemas = scope.schemas.isEmpty ? (schema.map { [$0] } ?? []) : scope.schemas
        let script = SQLServerExtractScript.text(schemas: schemas, tables: scope.tables)
        let source = "SQL Server at \(url)"
        let exact = scope.exactCounts
        return try await session { session in
            // FOR JSON splits a long document over rows of one column: they are one text.
            let answer = try session.resultSets(script).last
            let text = (answer?.rows ?? []).map { row in row.first?.displayText ?? "" }.joined()
            guard !text.isEmpty else { throw CutoverError(.query, "\(source) answered the catalog query with nothing") }
            var catalog = try SQLServerExport(text: text, source: source).catalog(in: Scope(schemas: schemas, tables: scope.tables))
            guard exact else { return catalog }
            let tables = catalog.tables.indices.filter { catalog.tables[$0].kind == .table }
            guard !tables.isEmpty else { return catalog }
            let counts = try session.resultSets(
                tables.map { "SELECT COUNT_BIG(*) FROM \(SQLServerDialect().qualified(catalog.tables[$0].ref));" }.joined(separator: "\n"))
            guard counts.count == tables.count else {
                throw CutoverError(.query, "\(source) answered \(counts.count) row counts for \(tables.count) tables")
            }
            for (index, answer) in zip(tables, counts) {
                catalog.tables[index].rowCount = try rowCount(answer: answer.rows.first?.first, of: catalog.tables[index].ref)
                catalog.tables[index].rowCountIsExact = true
            }
            return catalog
        }
    }

    public func rowCount(_ table: TableRef) async throws -> Int64 {
        let sql = "SELECT COUNT_BIG(*) FROM \(dialect.qualified(table))"
        let answer = try await execute(sql)
        return try rowCount(answer: answer.rows.first?.first, of: table)
    }

    public func read(_ request: ReadRequest) -> RowStream {
        let url = url
        let sql = request.selectSQL(dialect, expression: SQLServerReading.expression)
        let columnCount = request.columns.count
        let batchSize = request.batchSize
        return RowStream { try SQLServerRows(url: url, sql: sql, columnCount: columnCount, batchSize: batchSize) }
    }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats {
        throw CutoverError(.usage, "SQL Server is a source only: Cutover does not write into it (\(url))")
    }

    /// The last result with columns of `sql` (a batch may hold several statements).
    @discardableResult
    public func execute(_ sql: String) async throws -> ResultSet {
        try await session { session in try session.resultSets(sql).last ?? ResultSet(columns: [], rows: []) }
    }

    /// Not offered: SQL Server has no session that refuses writes whatever the statement says,
    /// which is what makes the runner safe on the other engines.
    public func run(_ query: RunnerQuery) async throws -> RunnerAnswer {
        throw CutoverError(
            .notPermitted, "the SQL runner does not run statements on SQL Server: it could not hold them to reading only",
            hint: "query SQL Server with its own client (sqlcmd, SSMS)")
    }

    public func snapshot(of tables: [TableRef]) async throws -> Snapshot? { nil }
}

/// One read's rows, a batch at a time, on a session of its own.
final class SQLServerRows: BatchSource {
    private let session: TDSSession
    private let columnCount: Int
    private let batchSize: Int
    private var finished = false

    init(url: ConnectionURL, sql: String, columnCount: Int, batchSize: Int) throws {
        session = try TDSSession(url: url)
        self.columnCount = columnCount
        self.batchSize = max(1, batchSize)
        try session.send(sql)
        guard let columns = try session.nextColumns() else {
            throw CutoverError(
                .query, "SQL Server at \(session.place) answered a read with no result (not even an empty one)", context: ["query": sql])
        }
        guard columns.count == columnCount else {
            throw CutoverError(.query, "SQL Server at \(session.place) answered \(columns.count) columns for a read of \(columnCount)")
        }
    }

    func nextBatch() throws -> RowBatch? {
        guard !finished else { return nil }
        var batch = RowBatch(columnCount: columnCount, reservingRows: batchSize)
        while batch.rowCount < batchSize {
            guard try session.nextRow(into: &batch) else {
                finished = true
                break
            }
        }
        return batch.isEmpty ? nil : batch
    }

    func close() { session.close() }
}

/// How each SQL Server type is read so its value arrives exactly: numbers, bits, text and bytes
/// as DB-Library delivers them; every other type as the server's own text of it, in a style that
/// keeps every digit (and that ``CanonicalForm`` reads).
public enum SQLServerReading {
    /// The expression that reads `column` (its ``Column/nativeType`` as the catalog gives it); nil
    /// for the column itself.
    public static func expression(_ column: Column) -> String? {
        expression(quoted: SQLServerDialect().quote(column.name), type: column.nativeType)
    }

    /// The expression that reads the column `quoted` of SQL Server type `type`; nil for the column itself.
    static func expression(quoted: String, type: String) -> String? {
        let type = type.lowercased()
        let base = type.prefix { $0 != "(" }
        switch base {
        // Exact decimal text: every digit of the scale.
        case "decimal", "numeric": return "CONVERT(varchar(48), \(quoted))"
        // Style 2: four decimals, no thousands separators (style 0 rounds to two).
        case "money", "smallmoney": return "CONVERT(varchar(32), \(quoted), 2)"
        case "date": return "CONVERT(char(10), \(quoted), 23)"
        // Style 121: yyyy-mm-dd hh:mi:ss with every fractional digit the type has.
        case "datetime", "datetime2", "smalldatetime": return "CONVERT(varchar(27), \(quoted), 121)"
        case "time": return "CONVERT(varchar(16), \(quoted), 121)"
        // Style 127: ISO 8601 with the value's own offset.
        case "datetimeoffset": return "CONVERT(varchar(40), \(quoted), 127)"
        case "uniqueidentifier": return "CONVERT(char(36), \(quoted))"
        case "xml": return "CONVERT(nvarchar(max), \(quoted))"
        case "sql_variant": return "CONVERT(nvarchar(4000), \(quoted))"
        case "hierarchyid": return "\(quoted).ToString()"
        case "geography", "geometry": return "\(quoted).STAsText()"
        default: return nil
        }
    }
}
