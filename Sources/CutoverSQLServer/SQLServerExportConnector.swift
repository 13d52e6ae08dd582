import CutoverCore
import Foundation

/// A SQL Server database as its export describes it (`sqlserver-export:PATH`): the catalog and row
/// counts, for `analyze` and `plan`, and the aggregates exported beside it for `validate`. It holds
/// no rows, so moving and row comparisons need a live connection (``SQLServerConnector``); they say so.
public struct SQLServerExportConnector: CatalogOnlySource {
    public let url: ConnectionURL
    public var dialect: any Dialect { SQLServerDialect() }
    public let export: SQLServerExport

    /// `sqlserver-export:PATH` parses as engine `sqlserver` with `export=PATH`.
    public static let exportParameter = "export"

    public init(url: ConnectionURL) throws {
        guard let path = url.parameters[Self.exportParameter] else {
            throw CutoverError(
                .unsupportedURL, "a SQL Server export URL names the export's file or folder",
                hint: "sqlserver-export:FILE.json or sqlserver-export:FOLDER")
        }
        self.url = url
        export = try SQLServerExport(path: path)
    }

    public func catalog(_ scope: Scope) async throws -> Catalog { export.catalog(in: scope) }

    public func rowCount(_ table: TableRef) async throws -> Int64 {
        guard let found = export.catalog.tables.first(where: { NameFolding.caseInsensitive.names(table.description, $0.ref) }) else {
            throw CutoverError(.tableNotFound, "the SQL Server export has no table \(table)", context: ["table": table.description])
        }
        guard let rows = found.rowCount else { throw CutoverError(.query, "the SQL Server export has no row count for \(table)") }
        return rows
    }

    static func noRows(_ what: String) -> CutoverError {
        CutoverError(
            .usage,
            "a SQL Server export holds the catalog and row counts, not rows: \(what) needs a live connection (sqlserver://user:password@host:1433/database)",
            hint: "use the export with `cutover analyze` and `cutover plan`")
    }

    public var noRows: CutoverError {
        var error = Self.noRows("moving or comparing rows")
        error.hint =
            "use the export with `cutover analyze` and `cutover plan`; to validate a target, add the output of `cutover sqlserver extract-script --aggregates-for` to the export's folder"
        return error
    }

    public var aggregates: SourceAggregates? { export.aggregates }

    public func read(_ request: ReadRequest) -> RowStream { RowStream { throw Self.noRows("reading rows") } }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats {
        throw Self.noRows("writing")
    }

    public func execute(_ sql: String) async throws -> ResultSet { throw Self.noRows("running SQL") }
    public func run(_ query: RunnerQuery) async throws -> RunnerAnswer { throw Self.noRows("running SQL") }
    public func snapshot(of tables: [TableRef]) async throws -> Snapshot? { nil }
}
