import CutoverCore

/// SQL Server's SQL: bracket quoting, `N'…'` literals, case-insensitive names (the default
/// collations). SQL Server is a source (live, or its catalog from an export); its types as a target
/// are spelled for completeness of the dialect, not offered by `plan`.
public struct SQLServerDialect: Dialect {
    /// Whether the server has UTF-8 collations (SQL Server 2019 and later), which the portable
    /// checksum needs (``SQLServerChecksum``); a dialect made without knowing the server has none.
    public let utf8Collations: Bool

    public init(utf8Collations: Bool = false) { self.utf8Collations = utf8Collations }
    public var engine: ConnectionURL.Engine { .sqlserver }
    public var nameFolding: NameFolding { .caseInsensitive }
    public var supportsSchemas: Bool { true }
    public var supportsAlterAddForeignKey: Bool { true }
    public var supportsIndexes: Bool { true }
    public var defaultSchema: String? { "dbo" }

    public func quote(_ identifier: String) -> String { "[" + identifier.replacingOccurrences(of: "]", with: "]]") + "]" }
    public func literal(_ text: String) -> String { "N'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    public func analyze(_ table: TableRef) -> String? { "UPDATE STATISTICS \(qualified(table))" }
    /// T-SQL names an index by its table: `DROP INDEX [name] ON [schema].[table]`.
    public func dropIndex(_ index: TableRef, on table: TableRef) -> String { "DROP INDEX IF EXISTS \(quote(index.name)) ON \(qualified(table))" }
    /// Text in code-point order whatever the column's collation (a `_CI` collation would put 'a'
    /// and 'B' the other way round from every other engine): BIN2 orders by UTF-16 code unit, which
    /// is code-point order except that characters above U+FFFF come before U+E000–U+FFFF. A
    /// `uniqueidentifier` sorts by its last group first, so it is ordered by its text.
    public func byteOrder(_ quotedColumn: String, type: CanonicalType) -> String {
        switch type {
        case .text, .char, .enumeration, .unknown, .json: return "CONVERT(nvarchar(max), \(quotedColumn)) COLLATE Latin1_General_100_BIN2"
        case .uuid: return "CONVERT(char(36), \(quotedColumn)) COLLATE Latin1_General_100_BIN2"
        default: return quotedColumn
        }
    }

    /// T-SQL has no LIMIT: `OFFSET … ROWS FETCH NEXT … ROWS ONLY` after the ORDER BY.
    public func limit(_ query: String, rows: Int, offset: Int) -> String { query + " OFFSET \(offset) ROWS FETCH NEXT \(rows) ROWS ONLY" }

    /// LEN drops trailing blanks and, outside an `_SC` collation, counts a character above U+FFFF
    /// as two: a supplementary-character collation and a closing mark count what other engines count.
    public func characterLength(_ expression: String) -> String {
        "(LEN(CONVERT(nvarchar(max), \(expression)) COLLATE Latin1_General_100_CI_AS_SC + N'.') - 1)"
    }
    /// AVG of an int is an int in T-SQL (AVG of 1 and 2 is 1), and int * int overflows at 2^31.
    public func asDouble(_ expression: String) -> String { "CAST(\(expression) AS float)" }
    /// COUNT is an int in T-SQL: past 2^31 rows it fails with an overflow error.
    public func count(_ expression: String) -> String { "COUNT_BIG(\(expression))" }

    public func typeChoice(for type: CanonicalType) -> TypeChoice {
        switch type {
        case .boolean: return TypeChoice("BIT", "0/1")
        case .integer(let bits): return TypeChoice(bits <= 16 ? "SMALLINT" : bits <= 32 ? "INT" : "BIGINT", "same width")
        case .decimal(let p, let s):
            guard let p else { return TypeChoice("DECIMAL(38,10)", "unconstrained numeric: 38 digits, 10 after the point", review: true) }
            return p <= 38
                ? TypeChoice("DECIMAL(\(p),\(s ?? 0))", "same precision")
                : TypeChoice("DECIMAL(38,\(min(s ?? 0, 38)))", "SQL Server keeps 38 digits", lossy: true, review: true)
        case .float(let bits): return TypeChoice(bits <= 32 ? "REAL" : "FLOAT", "IEEE float of the same width")
        case .text(let max):
            return max.map { $0 <= 4000 ? TypeChoice("NVARCHAR(\($0))", "Unicode text") : TypeChoice("NVARCHAR(MAX)", "Unicode text over 4,000") }
                ?? TypeChoice("NVARCHAR(MAX)", "Unicode text")
        case .char(let n): return TypeChoice("NCHAR(\(n))", "fixed-length Unicode text")
        case .binary: return TypeChoice("VARBINARY(MAX)", "bytes")
        case .date: return TypeChoice("DATE", "same")
        case .time: return TypeChoice("TIME(7)", "100 ns ticks")
        case .timestamp(let tz, let p):
            return TypeChoice(
                tz ? "DATETIMEOFFSET(\(min(p ?? 7, 7)))" : "DATETIME2(\(min(p ?? 7, 7)))", "same precision up to 100 ns", lossy: (p ?? 0) > 7)
        case .interval: return TypeChoice("NVARCHAR(100)", "SQL Server has no interval: ISO-8601 text", review: true)
        case .uuid: return TypeChoice("UNIQUEIDENTIFIER", "same")
        case .json: return TypeChoice("NVARCHAR(MAX)", "JSON text (check with ISJSON)")
        case .array: return TypeChoice("NVARCHAR(MAX)", "SQL Server has no arrays: JSON text", review: true)
        case .enumeration(let name, _): return TypeChoice("NVARCHAR(255)", "enum \(name) as text")
        case .unknown(let native): return TypeChoice(native, "no rule for \(native)", review: true)
        }
    }

    public func identityClause(for kind: IdentityKind, type: CanonicalType) -> String? { "IDENTITY(1,1)" }
}
