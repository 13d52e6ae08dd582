import CutoverCore

/// SQLite's types and SQL. Declared type names are chosen so that SQLite's type affinity keeps
/// values exact and so that reading the file back recovers the canonical type.
public struct SQLiteDialect: Dialect {
    public var nameFolding: NameFolding { .caseInsensitive }
    public init() {}
    public var engine: ConnectionURL.Engine { .sqlite }
    public var supportsSchemas: Bool { false }
    public var supportsAlterAddForeignKey: Bool { false }
    public var defaultSchema: String? { nil }

    /// Through Cutover's own aggregate, registered on every connection Cutover opens.
    public func portableChecksumSQL(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String? {
        SQLiteChecksum.sql(self, table, columns: columns, key: key, range: range, width: width)
    }

    public func typeChoice(for type: CanonicalType) -> TypeChoice {
        switch type {
        case .boolean: return TypeChoice("BOOLEAN", "stored as 0/1 (NUMERIC affinity)")
        case .integer: return TypeChoice("INTEGER", "SQLite integers are 64-bit")
        case .decimal(let p, let s):
            if let p, p <= 15 {
                return TypeChoice("NUMERIC(\(p),\(s ?? 0))", "NUMERIC affinity stores an 8-byte REAL, exact to 15 significant digits")
            }
            let spelled = p.map { "DECIMAL_TEXT(\($0),\(s ?? 0))" } ?? "DECIMAL_TEXT"
            return TypeChoice(
                spelled, "more than 15 significant digits: kept as exact decimal text (TEXT affinity); arithmetic in SQLite would round",
                review: p == nil)
        case .float:
            return TypeChoice(
                "REAL",
                "8-byte IEEE float; NaN is written as the text 'NaN' because SQLite turns a NaN REAL into NULL; SQLite's REAL affinity reads -0.0 back as 0.0"
            )
        case .text(let max):
            return max.map { TypeChoice("VARCHAR(\($0))", "TEXT affinity; SQLite does not enforce the length") }
                ?? TypeChoice("TEXT", "TEXT affinity")
        case .char(let n): return TypeChoice("CHAR(\(n))", "TEXT affinity; padded values are kept as read")
        case .binary: return TypeChoice("BLOB", "raw bytes")
        case .date: return TypeChoice("DATE", "ISO-8601 text YYYY-MM-DD, understood by SQLite's date functions")
        case .time(let tz): return TypeChoice(tz ? "TIMETZ" : "TIME", "ISO-8601 text HH:MM:SS.ffffff")
        case .timestamp(let tz, _):
            return tz
                ? TypeChoice("TIMESTAMPTZ", "ISO-8601 text in UTC with offset") : TypeChoice("TIMESTAMP", "ISO-8601 text YYYY-MM-DD HH:MM:SS.ffffff")
        case .interval: return TypeChoice("INTERVAL", "ISO-8601 duration text")
        case .uuid: return TypeChoice("UUID", "canonical 36-character text")
        case .json(let binary):
            return TypeChoice(binary ? "JSONB_TEXT" : "JSON_TEXT", "JSON text (TEXT affinity, so JSON scalars are not turned into numbers)")
        case .array: return TypeChoice("TEXT", "SQLite has no arrays: the PostgreSQL array literal is kept as text", review: true)
        case .enumeration(let name, let values):
            return TypeChoice("TEXT", "enum \(name) kept as text; allowed values: \(values.joined(separator: ", "))")
        case .unknown(let native):
            return TypeChoice(
                native.hasPrefix("(") ? "" : native, "no rule for \(native): declared type kept, SQLite stores values as given", review: true)
        }
    }

    public func identityClause(for kind: IdentityKind, type: CanonicalType) -> String? { nil }

    public func rowLocator(_ table: TableRef) -> RowLocator? {
        RowLocator(column: "rowid", kind: .integer, extentSQL: "SELECT min(rowid), max(rowid) FROM \(qualified(table))")
    }
}
