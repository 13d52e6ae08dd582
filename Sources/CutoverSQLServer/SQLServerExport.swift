import CutoverCore
import Foundation

/// What `cutover sqlserver extract-script` has SQL Server write (one JSON document, FOR JSON's
/// names), read back into a catalog: tables, columns with their types, keys, indexes, foreign keys,
/// check constraints, row counts and sizes — so `analyze` and `plan` work without a network path
/// to the server.
public struct SQLServerExport: Sendable {
    public static let format = "cutover-sqlserver-export/1"

    struct Document: Decodable {
        var format: String
        var database: String
        var serverVersion: String?
        var extractedAt: String?
        var tables: [ExportTable]?

        enum CodingKeys: String, CodingKey {
            case format, database, tables
            case serverVersion = "server_version"
            case extractedAt = "extracted_at"
        }
    }

    struct ExportTable: Decodable {
        var schema: String
        var name: String
        /// `U` a table, `V` a view (sys.objects.type); older exports have none: tables.
        var kind: String?
        var definition: String?
        var rows: Int64?
        var bytes: Int64?
        var columns: [ExportColumn]?
        var indexes: [ExportIndex]?
        var foreignKeys: [ExportForeignKey]?
        var checks: [ExportCheck]?

        enum CodingKeys: String, CodingKey {
            case schema, name, kind, definition, rows, bytes, columns, indexes, checks
            case foreignKeys = "foreign_keys"
        }
    }

    struct ExportColumn: Decodable {
        var name: String
        var ordinal: Int
        var type: String
        var maxLength: Int?
        var precision: Int?
        var scale: Int?
        var nullable: Bool
        var collation: String?
        var identity: Bool?
        var computed: Bool?
        var computedDefinition: String?
        var sparse: Bool?
        var `default`: String?

        enum CodingKeys: String, CodingKey {
            case name, ordinal, type, precision, scale, nullable, collation, identity, computed, sparse, `default`
            case maxLength = "max_length"
            case computedDefinition = "computed_definition"
        }
    }

    struct ExportIndex: Decodable {
        struct Key: Decodable { var name: String }
        var name: String?
        var primary: Bool
        var unique: Bool
        var uniqueConstraint: Bool?
        var columns: [Key]?

        enum CodingKeys: String, CodingKey {
            case name, primary, unique, columns
            case uniqueConstraint = "unique_constraint"
        }
    }

    struct ExportForeignKey: Decodable {
        struct Pair: Decodable {
            var column: String
            var refColumn: String
            enum CodingKeys: String, CodingKey {
                case column
                case refColumn = "ref_column"
            }
        }
        var name: String?
        var refSchema: String
        var refTable: String
        var onDelete: String?
        var onUpdate: String?
        var columns: [Pair]?

        enum CodingKeys: String, CodingKey {
            case name, columns
            case refSchema = "ref_schema"
            case refTable = "ref_table"
            case onDelete = "on_delete"
            case onUpdate = "on_update"
        }
    }

    struct ExportCheck: Decodable {
        var name: String?
        var definition: String
    }

    public let catalog: Catalog
    /// When the script ran, as SQL Server's clock said.
    public let extractedAt: String?
    /// The file read.
    public let path: String

    /// Counts and aggregates, when the second script's output is in the folder too.
    public let aggregates: SourceAggregates?

    /// Reads `path`: the export file, or a folder holding the export and, optionally, the output of
    /// the aggregates script (`extract-script --aggregates-for`).
    public init(path: String) throws {
        let (exportFile, aggregatesFile) = try Self.files(at: path)
        try self.init(exportFile, aggregates: aggregatesFile)
    }

    /// The export a live connection answered when it ran the extract script; `source` names the
    /// server in messages.
    init(text: String, source: String) throws {
        try self.init(ExportFile(path: source, text: text), aggregates: nil)
    }

    private init(_ exportFile: ExportFile, aggregates aggregatesFile: ExportFile?) throws {
        let file = exportFile.path
        let document = try Self.decode(Document.self, exportFile)
        guard document.format == Self.format else {
            throw CutoverError(
                .usage, "\(file) is a \(document.format) file; this Cutover reads \(Self.format)", hint: "extract it again with this version's script"
            )
        }
        extractedAt = document.extractedAt
        self.path = file
        let tables = try (document.tables ?? []).map(Self.table)
        catalog = Catalog(
            engine: .sqlserver, database: document.database,
            serverVersion: document.serverVersion.map { String($0.prefix { $0 != "\n" }).trimmingCharacters(in: .whitespaces) },
            schemas: Array(Set(tables.compactMap(\.ref.schema))).sorted(), tables: tables)
        aggregates = try aggregatesFile.map { file in
            let read = try Self.decode(AggregatesDocument.self, file)
            guard read.database.caseInsensitiveCompare(document.database) == .orderedSame else {
                throw CutoverError(.usage, "\(file.path) has the aggregates of database \(read.database), the export is of \(document.database)")
            }
            return SourceAggregates(tables: read.tables ?? [], computedAt: read.extractedAt)
        }
    }

    public static let aggregatesFormat = "cutover-sqlserver-aggregates/1"

    struct AggregatesDocument: Decodable {
        var format: String
        var database: String
        var extractedAt: String?
        var tables: [SourceAggregates.Table]?

        enum CodingKeys: String, CodingKey {
            case format, database, tables
            case extractedAt = "extracted_at"
        }
    }

    /// The JSON of a file, with sqlcmd's line breaks and a byte-order mark taken out.
    /// One file of an export, read once: its path and its text with sqlcmd's line breaks removed.
    struct ExportFile: Equatable {
        var path: String
        var text: String

        init(_ path: String) throws {
            self.path = path
            text = try SQLServerExport.text(of: path)
        }

        init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ file: ExportFile) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(file.text.utf8))
        } catch {
            throw CutoverError(
                .usage, "\(file.path) is not a Cutover SQL Server export: \(Self.describe(error))",
                hint: "produce it with the script of `cutover sqlserver extract-script` (sqlcmd … -y 0 -h -1 -o FILE)")
        }
    }

    static func text(of file: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CutoverError(.io, "cannot read the SQL Server export \(file): \(error.localizedDescription)")
        }
        // sqlcmd breaks long output lines; a JSON text has no raw line breaks of its own, so they are dropped.
        var text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// The export file and the aggregates file (if any) at `path`: a file is the export; a folder
    /// holds one export and at most one aggregates file, told apart by their `format`.
    static func files(at path: String) throws -> (export: ExportFile, aggregates: ExportFile?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CutoverError(
                .usage, "there is no SQL Server export at \(path)",
                hint: "sqlserver-export:DIR names the folder (or file) the extract script's output was saved to")
        }
        guard isDirectory.boolValue else { return (try ExportFile(path), nil) }
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
            .map { try ExportFile((path as NSString).appendingPathComponent($0)) }
        struct Format: Decodable { var format: String }
        // A file whose format cannot be read is taken for an export, so reading it names what is wrong.
        let aggregates = files.filter { file in
            (try? JSONDecoder().decode(Format.self, from: Data(file.text.utf8)))?.format == aggregatesFormat
        }
        let exports = files.filter { !aggregates.contains($0) }
        guard exports.count == 1, let export = exports.first, aggregates.count <= 1 else {
            let names = files.map { ($0.path as NSString).lastPathComponent }.joined(separator: ", ")
            throw CutoverError(
                .usage,
                exports.isEmpty
                    ? "\(path) holds no .json export"
                    : "\(path) holds \(exports.count) exports and \(aggregates.count) aggregates files (\(names))",
                hint: "keep one export (and at most one aggregates file) per folder, or name the export file itself")
        }
        return (export, aggregates.first)
    }

    static func table(_ exported: ExportTable) throws -> Table {
        let ref = TableRef(schema: exported.schema, name: exported.name)
        let columns = (exported.columns ?? []).sorted { $0.ordinal < $1.ordinal }.map { column -> Column in
            let mapping = SQLServerTypes.map(
                .init(
                    type: column.type, maxLength: column.maxLength, precision: column.precision, scale: column.scale, collation: column.collation,
                    isComputed: column.computed ?? false, computedDefinition: column.computedDefinition, isSparse: column.sparse ?? false))
            var made = Column(
                name: column.name, ordinal: column.ordinal, nativeType: mapping.native, canonical: mapping.canonical, isNullable: column.nullable,
                defaultExpression: column.default, identity: column.identity == true ? .byDefault : nil)
            if !mapping.notes.isEmpty || !mapping.evidence.isEmpty {
                var advice = ProfileAdvice(made)
                advice.notes = mapping.notes
                advice.evidence = mapping.evidence
                made.advice = advice
            }
            return made
        }
        let known = Set(columns.map(\.name))
        func keyColumns(_ index: ExportIndex) throws -> [String] {
            let names = (index.columns ?? []).map(\.name)
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw CutoverError(.usage, "the export's index \(index.name ?? "?") on \(ref) names a column it does not list: \(unknown)")
            }
            return names
        }
        let indexes = exported.indexes ?? []
        let primary = try indexes.first(where: \.primary).map { KeyConstraint(name: $0.name, columns: try keyColumns($0)) }
        let unique = try indexes.filter { !$0.primary && $0.uniqueConstraint == true }.map {
            KeyConstraint(name: $0.name, columns: try keyColumns($0))
        }
        let plain = try indexes.filter { !$0.primary && $0.uniqueConstraint != true }.map {
            Index(name: $0.name ?? "", columns: try keyColumns($0), isUnique: $0.unique)
        }
        let foreignKeys = (exported.foreignKeys ?? []).map { key in
            ForeignKey(
                name: key.name, columns: (key.columns ?? []).map(\.column), referencedTable: TableRef(schema: key.refSchema, name: key.refTable),
                referencedColumns: (key.columns ?? []).map(\.refColumn), onDelete: action(key.onDelete), onUpdate: action(key.onUpdate))
        }
        let isView = exported.kind?.trimmingCharacters(in: .whitespaces).uppercased() == "V"
        return Table(
            ref: ref, kind: isView ? .view : .table, columns: columns, primaryKey: primary, uniqueKeys: unique, foreignKeys: foreignKeys,
            indexes: plain,
            checks: (exported.checks ?? []).map { CheckConstraint(name: $0.name, expression: $0.definition) }, rowCount: exported.rows,
            rowCountIsExact: false, sizeBytes: exported.bytes, viewDefinition: isView ? exported.definition : nil)
    }

    /// The catalog's tables within `scope` (names compared as SQL Server's default collations do: without case).
    public func catalog(in scope: Scope) -> Catalog {
        var within = catalog
        within.tables = within.tables.filter { table in
            (scope.schemas.isEmpty || scope.schemas.contains { $0.caseInsensitiveCompare(table.ref.schema ?? "") == .orderedSame })
                && scope.includes(table.ref, folding: .caseInsensitive)
        }
        return within
    }

    /// `NO_ACTION` → nil (the default), `SET_NULL` → `SET NULL`.
    static func action(_ description: String?) -> String? {
        guard let description, description != "NO_ACTION" else { return nil }
        return description.replacingOccurrences(of: "_", with: " ")
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\(key.stringValue) is missing at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        default: return "\(error)"
        }
    }
}
