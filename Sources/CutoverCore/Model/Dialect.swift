/// A target type chosen for a canonical type, with the reason written down for the plan.
public struct TypeChoice: Sendable, Hashable, Codable {
    /// The target's SQL type, e.g. `NUMBER(12,2)`.
    public var sqlType: String
    public var rationale: String
    /// Some source values cannot be represented exactly.
    public var isLossy: Bool
    /// A person should confirm the choice before data moves.
    public var needsReview: Bool

    public init(_ sqlType: String, _ rationale: String, lossy: Bool = false, review: Bool = false) {
        self.sqlType = sqlType
        self.rationale = rationale
        self.isLossy = lossy
        self.needsReview = review
    }
}

/// What an engine's SQL looks like: quoting, names, types and DDL. One per engine, in that
/// engine's module; the planner and mover never write engine-specific SQL themselves.
public protocol Dialect: Sendable {
    /// The engine this dialect speaks.
    var engine: ConnectionURL.Engine { get }
    /// Quotes an identifier exactly as given.
    func quote(_ identifier: String) -> String
    /// The name an object gets in this engine (e.g. Snowflake upper-cases plain lower-case names so
    /// they stay usable unquoted).
    func targetName(_ sourceName: String) -> String
    /// How this engine resolves a name written without quotes (see ``NameFolding``).
    var nameFolding: NameFolding { get }
    /// The rule that maps a canonical type to this engine's type.
    func typeChoice(for type: CanonicalType) -> TypeChoice
    /// Column clause for an identity column of `type`, or nil when identity is expressed otherwise.
    func identityClause(for kind: IdentityKind, type: CanonicalType) -> String?
    /// Whether tables live in schemas (SQLite has one namespace per file).
    var supportsSchemas: Bool { get }
    /// Whether foreign keys can be added after the table exists.
    var supportsAlterAddForeignKey: Bool { get }
    /// Whether secondary indexes exist in this engine.
    var supportsIndexes: Bool { get }
    /// The schema to use when the source had none (SQLite) and this engine has schemas.
    var defaultSchema: String? { get }
    /// A SQL string literal.
    func literal(_ text: String) -> String
    /// ORDER BY expression that sorts text by its UTF-8 bytes, so two engines agree on row order.
    func byteOrder(_ quotedColumn: String, type: CanonicalType) -> String
    /// Drops a table (and what depends on it) for `--replace`.
    func dropTable(_ table: TableRef) -> String
    /// After loading explicit values into an identity column, moves the generator past the largest
    /// value; nil where the engine does that itself.
    func resetIdentity(_ table: TableRef, column: String) -> String?
    /// Where an identity cannot be moved after the load (Snowflake): a function that turns
    /// `createDDL` into the same with `column`'s identity starting at a given value, so rows
    /// inserted after the load do not collide with loaded ones; nil where
    /// ``resetIdentity(_:column:)`` does the job (and the start need not be looked up).
    func identityStart(column: String, in createDDL: [String]) -> ((Int64) -> [String])?
    /// A standalone sequence continuing at `start`; nil where the engine has no sequences.
    func createSequence(_ sequence: TableRef, start: Int64, increment: Int64) -> String?
    /// Upper-case words the engine reserves: a table or column so named works (Cutover quotes every
    /// name) but must be quoted in every query a person writes.
    var reservedWords: Set<String> { get }
    /// Refreshes the planner's statistics after a bulk load; nil where the engine has none to refresh.
    func analyze(_ table: TableRef) -> String?
    /// Statements that drop a freshly created, still empty table's primary key for its load and
    /// build it again afterwards (one sort instead of an index insert per row); nil where the
    /// engine's key cannot be added later or costs nothing to keep.
    func primaryKeyDeferral(_ table: TableRef, key: [String]) -> (drop: String, restore: String)?
    /// How to split a table without a key: the engine's physical row locator (SQLite `rowid`,
    /// PostgreSQL `ctid` block ranges), and the query that returns its extent; nil where there is none.
    func rowLocator(_ table: TableRef) -> RowLocator?
    /// An expression numbering each row's bucket `0..<count` by a hash of `quotedColumns`, the same
    /// for equal rows on every read; nil where the engine has no such hash (or needs none: it has a
    /// ``rowLocator(_:)``).
    func hashBucket(_ quotedColumns: [String], count: Int) -> String?
    /// A query returning, for the rows whose integer `key` lies in `range`, one row per bucket of
    /// `width` keys that has rows: the bucket number (`(key - lower) / width`), its row count and an
    /// order-independent checksum of `columns`, computed inside the database. nil where the engine has
    /// no checksum that two databases of this engine are known to compute identically.
    func rangeChecksumSQL(_ table: TableRef, columns: [(name: String, type: String)], key: String, range: Range<Int64>, width: Int64) -> String?
    /// The same buckets as ``rangeChecksumSQL(_:columns:key:range:width:)``, with the ``PortableChecksum`` of `columns` spelled
    /// in each one's ``ChecksumForm``, which every engine computes identically; nil where the engine
    /// cannot compute it.
    func portableChecksumSQL(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String?
    /// The table as named after FROM in a read: its qualified name, plus a time-travel clause where
    /// the dialect reads the database as it was at one moment.
    func readSource(_ table: TableRef) -> String
    /// Deletes every row of `table`, keeping its definition (a transactional empty, unlike TRUNCATE on some engines).
    func deleteAll(_ table: TableRef) -> String
    /// Drops the index `index` (its schema is the table's) of `table` if it is there.
    func dropIndex(_ index: TableRef, on table: TableRef) -> String
    /// `query` (which ends in its ORDER BY) cut to `rows` rows after skipping `offset`.
    func limit(_ query: String, rows: Int, offset: Int) -> String
    /// The number of characters (code points, trailing blanks counted) of a text expression.
    func characterLength(_ expression: String) -> String
    /// A numeric expression as a double, where the engine would otherwise average integers in
    /// integer arithmetic (or overflow multiplying them).
    func asDouble(_ expression: String) -> String
    /// `count(expression)` as a 64-bit integer (`*` for rows; `DISTINCT x` for distinct values):
    /// T-SQL's COUNT is a 32-bit int that fails past 2^31 rows.
    func count(_ expression: String) -> String
}

/// A physical row address usable to split a keyless table into ranges.
public struct RowLocator: Sendable, Hashable {
    /// How rows are addressed: an integer rowid, or a page and tuple.
    public enum Kind: Sendable, Hashable {
        /// An integer (SQLite rowid): `extentSQL` returns min and max.
        case integer
        /// PostgreSQL ctid: `extentSQL` returns the number of pages; ranges are `'(page,0)'` literals.
        case pageTuple
    }
    public var column: String
    public var kind: Kind
    public var extentSQL: String
    public init(column: String, kind: Kind, extentSQL: String) {
        self.column = column
        self.kind = kind
        self.extentSQL = extentSQL
    }
}

extension Dialect {
    public func identityStart(column: String, in createDDL: [String]) -> ((Int64) -> [String])? { nil }
    public func createSequence(_ sequence: TableRef, start: Int64, increment: Int64) -> String? { nil }
    public var reservedWords: Set<String> { [] }

    public func qualified(_ table: TableRef) -> String {
        if supportsSchemas, let schema = table.schema { return quote(schema) + "." + quote(table.name) }
        return quote(table.name)
    }

    public func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    public func byteOrder(_ quotedColumn: String, type: CanonicalType) -> String { quotedColumn }

    /// Standard SQL double-quote quoting.
    public func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func targetName(_ sourceName: String) -> String { sourceName }
    public func dropTable(_ table: TableRef) -> String { "DROP TABLE IF EXISTS \(qualified(table))" }
    public func resetIdentity(_ table: TableRef, column: String) -> String? { nil }
    public func analyze(_ table: TableRef) -> String? { "ANALYZE \(qualified(table))" }
    public func primaryKeyDeferral(_ table: TableRef, key: [String]) -> (drop: String, restore: String)? { nil }
    public func rowLocator(_ table: TableRef) -> RowLocator? { nil }
    public func hashBucket(_ quotedColumns: [String], count: Int) -> String? { nil }
    public func rangeChecksumSQL(
        _ table: TableRef, columns: [(name: String, type: String)], key: String, range: Range<Int64>, width: Int64
    )
        -> String?
    { nil }
    public func portableChecksumSQL(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String? { nil }
    public func readSource(_ table: TableRef) -> String { qualified(table) }
    public func deleteAll(_ table: TableRef) -> String { "DELETE FROM \(qualified(table))" }
    public func dropIndex(_ index: TableRef, on table: TableRef) -> String { "DROP INDEX IF EXISTS \(qualified(index))" }
    public func limit(_ query: String, rows: Int, offset: Int) -> String { query + " LIMIT \(rows)" + (offset > 0 ? " OFFSET \(offset)" : "") }
    public func characterLength(_ expression: String) -> String { "length(\(expression))" }
    public func asDouble(_ expression: String) -> String { expression }
    public func count(_ expression: String) -> String { "count(\(expression))" }

    /// The portable checksum query of an SQL engine, from its spelling of each form (`text`, nil
    /// for a form it cannot spell), of the first 60 bits of an MD5 hex (`hash`), of the bucket number
    /// and of the sum of hashes as text; nil when a column's form cannot be spelled.
    public func portableChecksumQuery(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64,
        text: (String, ChecksumForm) -> String?, hash: (String) -> String, bucket: (String) -> String, sum: (String) -> String
    ) -> String? {
        var frames: [String] = []
        for column in columns {
            guard let value = text(quote(column.name), column.form) else { return nil }
            frames.append("COALESCE(LENGTH(\(value)) || ':' || \(value), '-')")
        }
        let k = quote(key)
        return "SELECT bucket, COUNT(*), \(sum(hash("h"))) FROM (SELECT \(bucket("\(k) - \(range.lowerBound)")) AS bucket, "
            + "MD5(\(frames.joined(separator: " || "))) AS h FROM \(readSource(table)) WHERE \(k) >= \(range.lowerBound) AND \(k) < \(range.upperBound)) AS hashed "
            + "GROUP BY bucket"
    }
    public var supportsSchemas: Bool { true }
    public var supportsAlterAddForeignKey: Bool { true }
    public var supportsIndexes: Bool { true }
    public var defaultSchema: String? { "public" }
}
