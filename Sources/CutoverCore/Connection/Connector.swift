import Foundation

/// Which part of a database to look at.
public struct Scope: Sendable, Hashable {
    /// Schemas to include; empty means every user schema.
    public var schemas: [String]
    /// Tables to include (`name` or `schema.name`); empty means all.
    public var tables: [String]
    /// Count rows exactly (`count(*)`) instead of using the engine's statistics.
    public var exactCounts: Bool
    /// Which columns' values to profile where the engine does not enforce declared types (SQLite).
    public var profile: ProfileDepth

    /// `none`: declared types only. `risky`: the columns whose values a target could change without
    /// a word (declared decimals, dates and times, booleans) — what a migration needs to choose types
    /// that hold every value. `all`: every column, for `analyze` and `plan`.
    public enum ProfileDepth: Int, Sendable, Hashable, Comparable {
        case none, risky, all
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// This scope, profiling at least to `depth`.
    public func profiling(_ depth: ProfileDepth) -> Scope {
        var scope = self
        scope.profile = max(profile, depth)
        return scope
    }

    public init(schemas: [String] = [], tables: [String] = [], exactCounts: Bool = true, profile: ProfileDepth = .none) {
        self.schemas = schemas
        self.tables = tables
        self.exactCounts = exactCounts
        self.profile = profile
    }

    public func includes(_ ref: TableRef) -> Bool {
        tables.isEmpty || tables.contains { $0 == ref.name || $0 == ref.description }
    }

    /// Whether the scope takes `ref`, reading each requested name as the engine reads it.
    public func includes(_ ref: TableRef, folding: NameFolding) -> Bool {
        tables.isEmpty || tables.contains { folding.names($0, ref) }
    }
}

/// How an engine resolves a name written without quotes: Snowflake folds it to upper case,
/// PostgreSQL to lower case, SQLite compares without regard to case. A name in double quotes is
/// taken as written. The same rule serves source and target, tables, schemas and columns.
public enum NameFolding: Sendable {
    case upper, lower, caseInsensitive

    /// Whether `requested` (`name`, `schema.name`, `"Quoted"`) names `ref`. SQLite's one schema
    /// answers to `main`.
    public func names(_ requested: String, _ ref: TableRef) -> Bool {
        let wanted = TableRef(parsing: requested)
        if let schema = wanted.schema {
            let actual = ref.schema ?? (self == .caseInsensitive ? "main" : "")
            guard matches(schema, actual) else { return false }
        }
        return matches(wanted.name, ref.name)
    }

    /// The name an identifier as written is stored under (quoted: as written; SQLite keeps it).
    public func stored(_ written: String) -> String {
        if written.count >= 2, written.hasPrefix("\""), written.hasSuffix("\"") {
            return String(written.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        switch self {
        case .upper: return written.uppercased()
        case .lower: return written.lowercased()
        case .caseInsensitive: return written
        }
    }

    /// A table name as written, resolved to the names stored.
    public func stored(_ ref: TableRef) -> TableRef { TableRef(schema: ref.schema.map { stored($0) }, name: stored(ref.name)) }

    /// Whether an identifier as written (perhaps quoted) names the identifier `actual`.
    public func matches(_ written: String, _ actual: String) -> Bool {
        if written.count >= 2, written.hasPrefix("\""), written.hasSuffix("\"") {
            return String(written.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") == actual
        }
        if written == actual { return true }
        switch self {
        case .upper: return written.uppercased() == actual
        case .lower: return written.lowercased() == actual
        case .caseInsensitive: return written.lowercased() == actual.lowercased()
        }
    }
}

/// The rows of a query or rule: column names and values.
public struct ResultSet: Sendable {
    public var columns: [String]
    public var rows: [[Value]]
    public init(columns: [String], rows: [[Value]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// What a write loaded: rows, bytes and, where computed, their checksum.
public struct WriteStats: Sendable {
    public var rows: Int64
    public var bytes: Int64
    /// Checksum of the rows as read from the source, when the path that moved them computed one.
    public var checksum: RowChecksum?
    public init(rows: Int64 = 0, bytes: Int64 = 0, checksum: RowChecksum? = nil) {
        self.rows = rows
        self.bytes = bytes
        self.checksum = checksum
    }
}

/// How a read is ordered so two engines can be merged row by row.
public struct ReadRequest: Sendable {
    public var table: TableRef
    public var columns: [Column]
    /// Columns to sort by (byte order for text), or empty for the engine's natural order.
    public var orderBy: [Column]
    /// Rows per batch.
    public var batchSize: Int
    /// Only rows matching this predicate (a key range, a watermark); nil for all rows.
    public var filter: RowFilter?

    public init(table: TableRef, columns: [Column], orderBy: [Column] = [], batchSize: Int = 10_000, filter: RowFilter? = nil) {
        self.table = table
        self.columns = columns
        self.orderBy = orderBy
        self.batchSize = batchSize
        self.filter = filter
    }
}

extension ReadRequest {
    /// The SELECT for this request in `dialect`: the columns, the filter, and an order every engine
    /// agrees on (text by its bytes).
    /// `expression` may read a column as something else than itself (PostgreSQL's locale-formatted
    /// money as numeric), keeping its name.
    public func selectSQL(_ dialect: any Dialect, expression: (Column) -> String? = { _ in nil }) -> String {
        let list = columns.map { column in expression(column).map { "\($0) AS \(dialect.quote(column.name))" } ?? dialect.quote(column.name) }
        var sql = "SELECT \(list.joined(separator: ", ")) FROM \(dialect.readSource(table))"
        if let filter { sql += " WHERE " + filter.sql(dialect) }
        if !orderBy.isEmpty {
            sql += " ORDER BY " + orderBy.map { dialect.byteOrder(dialect.quote($0.name), type: $0.canonical) }.joined(separator: ", ")
        }
        return sql
    }
}

/// A row predicate every engine can evaluate: conjunction of column comparisons with literals.
public struct RowFilter: Sendable, Hashable, Codable {
    /// How a column compares with the term's value.
    public enum Comparison: String, Sendable, Codable { case greaterOrEqual = ">=", less = "<", greater = ">", lessOrEqual = "<=" }
    /// One comparison of a column with a literal.
    public struct Term: Sendable, Hashable, Codable {
        public var column: String
        public var comparison: Comparison
        /// The literal as canonical text; integers are written bare, everything else quoted.
        public var value: String
        public var isNumeric: Bool
        /// Compare text by its UTF-8 bytes (the dialect's ``Dialect/byteOrder(_:type:)``), so every
        /// engine puts the same rows on each side of the value whatever its collation.
        public var bytewise: Bool
        public init(column: String, _ comparison: Comparison, _ value: String, isNumeric: Bool, bytewise: Bool = false) {
            self.column = column
            self.comparison = comparison
            self.value = value
            self.isNumeric = isNumeric
            self.bytewise = bytewise
        }
    }
    /// An incremental load's window on its watermark column: rows within `terms`, or whose column
    /// is NULL (a watermark cannot order NULLs, so they are never skipped).
    public struct Window: Sendable, Hashable, Codable {
        public var column: String
        public var terms: [Term]
        public init(column: String, terms: [Term]) {
            self.column = column
            self.terms = terms
        }
    }
    /// One bucket of the rows hashed over `columns` (see ``Dialect/hashBucket(_:count:)``).
    public struct Bucket: Sendable, Hashable, Codable {
        public var columns: [String]
        public var index: Int
        public var count: Int
        public init(columns: [String], index: Int, count: Int) {
            self.columns = columns
            self.index = index
            self.count = count
        }
    }
    /// All must hold.
    public var terms: [Term]
    /// Must hold as well, when set.
    public var window: Window?
    /// Must hold as well, when set.
    public var bucket: Bucket?

    public init(terms: [Term], window: Window? = nil, bucket: Bucket? = nil) {
        self.terms = terms
        self.window = window
        self.bucket = bucket
    }

    public var isEmpty: Bool { terms.isEmpty && window == nil && bucket == nil }

    /// The predicate in `dialect`'s SQL.
    public func sql(_ dialect: any Dialect) -> String {
        func conjunction(_ terms: [Term]) -> String? {
            terms.isEmpty
                ? nil
                : terms.map { term in
                    let column =
                        term.bytewise ? dialect.byteOrder(dialect.quote(term.column), type: .text(maxLength: nil)) : dialect.quote(term.column)
                    return "\(column) \(term.comparison.rawValue) \(term.isNumeric ? term.value : dialect.literal(term.value))"
                }.joined(separator: " AND ")
        }
        var conditions = conjunction(terms).map { [$0] } ?? []
        if let window {
            // With no bound yet (a first load) every row is in the window: no condition at all.
            if let bounded = conjunction(window.terms) { conditions.append("(\(bounded) OR \(dialect.quote(window.column)) IS NULL)") }
        }
        if let bucket {
            // Bucket filters are only planned for engines that hash (Mover checks); elsewhere the
            // statement fails naming the missing function rather than reading the wrong rows.
            let hashed = dialect.hashBucket(bucket.columns.map(dialect.quote), count: bucket.count) ?? "cutover_hash_bucket_unsupported()"
            conditions.append("\(hashed) = \(bucket.index)")
        }
        return conditions.isEmpty ? "1 = 1" : conditions.joined(separator: " AND ")
    }
}

/// How a write lands in the target.
public struct WriteOptions: Sendable, Hashable {
    /// Whether rows are inserted or merged by key.
    public enum Mode: Sendable, Hashable {
        /// Plain insert (COPY).
        case insert
        /// Insert, or update the row with the same key.
        case upsert(key: [String])
    }
    public var mode: Mode
    /// Delete the rows matching this filter first, in the same transaction, so reloading a chunk
    /// is idempotent. `RowFilter(terms: [])` deletes every row.
    public var replacing: RowFilter?
    /// A name unique to this write (run, table, chunk, attempt) for engines that keep the files of
    /// a load: Snowflake's kept staged files are filed under it.
    public var name: String?

    public init(mode: Mode = .insert, replacing: RowFilter? = nil, name: String? = nil) {
        self.mode = mode
        self.replacing = replacing
        self.name = name
    }
}

/// One database engine, spoken through the canonical model.
///
/// Engine-specific SQL lives only behind this protocol and the engine's ``Dialect``. Each read or
/// write opens its own session, so reads and writes can run side by side.
public protocol Connector: Sendable {
    /// Where it connects (shown with the password masked).
    var url: ConnectionURL { get }
    /// The engine's SQL, for the queries built outside the connector.
    var dialect: any Dialect { get }

    /// Introspects tables, columns, keys, indexes, constraints, types and sizes.
    func catalog(_ scope: Scope) async throws -> Catalog
    /// Exact `count(*)`.
    func rowCount(_ table: TableRef) async throws -> Int64
    /// Streams the table's rows in batches; the stream pulls one batch at a time (back-pressure).
    func read(_ request: ReadRequest) -> RowStream
    /// Writes every batch of `rows` into `table` (which must exist) through the engine's bulk path,
    /// all in one transaction: either every row lands or none does.
    func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats
    /// Runs SQL (DDL or a query) and returns its rows, if any.
    @discardableResult
    func execute(_ sql: String) async throws -> ResultSet
    /// Runs one statement for the SQL runner within `query`'s limits. A read-only query runs in a
    /// session that cannot write, whatever the statement says (see ``RunnerQuery``).
    func run(_ query: RunnerQuery) async throws -> RunnerAnswer
    /// This database frozen at one moment for every read of `tables` made through the snapshot's
    /// connector (queries built with ``Dialect/readSource(_:)``); nil where the engine cannot share a
    /// snapshot between sessions. The snapshot lasts as long as its connector.
    func snapshot(of tables: [TableRef]) async throws -> Snapshot?
}

/// A target that takes rows from a source of its own engine without decoding them (PostgreSQL's
/// binary COPY from one server straight into another): the mover's fastest path where it applies.
public protocol PassThroughTarget: Connector {
    /// Whether rows read at `source` can reach this target untouched (same engine, same wire format).
    func canPassThrough(from source: any Connector) -> Bool
    /// Copies the rows `request` reads at `source` into `table` in one transaction, as ``Connector/write(_:to:columns:options:)`` would.
    func transfer(
        _ request: ReadRequest, from source: any Connector, to table: TableRef, columns: [Column], options: WriteOptions
    ) async throws
        -> WriteStats
}

/// A source that describes a database without holding its rows (a SQL Server export): analyze and
/// plan read it; what needs rows refuses it before connecting anything else.
public protocol CatalogOnlySource: Connector {
    /// What to tell someone who asked for rows.
    var noRows: CutoverError { get }
    /// Counts and column aggregates computed at the source, if they were exported: what can be
    /// validated without its rows.
    var aggregates: SourceAggregates? { get }
}

/// Exact row counts and, per numeric column, the count of values, sum, minimum and maximum as
/// decimal text — computed where the rows are, compared where they went.
public struct SourceAggregates: Sendable, Codable, Hashable {
    /// One table's exact row count and its numeric columns' aggregates.
    public struct Table: Sendable, Codable, Hashable {
        public var schema: String?
        public var name: String
        public var rows: Int64
        public var columns: [ColumnAggregate]
        /// Portable checksums of the rows by key bucket, where the table has a single integer key.
        public var checksum: KeyBucketChecksums?

        public init(schema: String?, name: String, rows: Int64, columns: [ColumnAggregate], checksum: KeyBucketChecksums? = nil) {
            self.schema = schema
            self.name = name
            self.rows = rows
            self.columns = columns
            self.checksum = checksum
        }

        public var ref: TableRef { TableRef(schema: schema, name: name) }
    }

    /// One column's count of values and, for exact numbers, sum, minimum and maximum as decimal text.
    public struct ColumnAggregate: Sendable, Codable, Hashable {
        public var name: String
        /// Values that are not NULL.
        public var count: Int64
        public var sum: String?
        public var min: String?
        public var max: String?

        public init(name: String, count: Int64, sum: String?, min: String?, max: String?) {
            self.name = name
            self.count = count
            self.sum = sum
            self.min = min
            self.max = max
        }
    }

    /// The ``PortableChecksum`` of a table's rows in buckets of `width` keys from `low` (bucket
    /// `(key - low) / width`), each column spelled in its ``ChecksumForm``: a target computes the same
    /// buckets and any bucket that differs holds a row that differs.
    public struct KeyBucketChecksums: Sendable, Codable, Hashable {
        public struct Bucket: Sendable, Codable, Hashable {
            public var bucket: Int64
            public var rows: Int64
            /// The sum of the rows' hashes as decimal text (compared modulo 2^64).
            public var sum: String

            public init(bucket: Int64, rows: Int64, sum: String) {
                self.bucket = bucket
                self.rows = rows
                self.sum = sum
            }
        }

        public var key: String
        /// Every column of the table, in order: the checksum covers exactly these.
        public var columns: [String]
        /// Each column's ``ChecksumForm/code``, comma-separated.
        public var forms: String
        /// The smallest and largest key; nil when the table is empty.
        public var low: Int64?
        public var high: Int64?
        public var width: Int64
        public var buckets: [Bucket]

        public init(key: String, columns: [String], forms: String, low: Int64?, high: Int64?, width: Int64, buckets: [Bucket]) {
            self.key = key
            self.columns = columns
            self.forms = forms
            self.low = low
            self.high = high
            self.width = width
            self.buckets = buckets
        }

        /// The forms, or nil when one does not read.
        public var checksumForms: [ChecksumForm]? {
            let forms = self.forms.isEmpty ? [] : self.forms.split(separator: ",").map { ChecksumForm(code: $0) }
            return forms.contains { $0 == nil } ? nil : forms.compactMap { $0 }
        }
    }

    public var tables: [Table]
    /// When they were computed, as the source's clock said.
    public var computedAt: String?

    public init(tables: [Table], computedAt: String?) {
        self.tables = tables
        self.computedAt = computedAt
    }

    public func table(_ ref: TableRef) -> Table? {
        tables.first { NameFolding.caseInsensitive.names(ref.description, $0.ref) }
    }
}

/// One statement for the SQL runner, and what it may do.
///
/// Read-only is enforced by the session, not by looking at the text: PostgreSQL runs the statement
/// as a cursor in a `READ ONLY` transaction that is rolled back, SQLite on a read-only connection
/// whose authorizer allows nothing but reading, Snowflake as a subquery (which cannot write). The
/// database role the connection signs in with remains the real boundary: what it may read, the
/// runner may show.
public struct RunnerQuery: Sendable {
    public var sql: String
    public var readOnly: Bool
    /// Rows fetched at most; the answer says when there were more.
    public var maxRows: Int
    /// The statement is cancelled after this long.
    public var timeout: TimeInterval
    /// Refuse, before the statement runs, when the connection's role is a superuser or may read or
    /// write the server's files or run programs there (PostgreSQL).
    public var refusePrivilegedRole: Bool
    /// Say in the answer what else the role could do (write, read files); costs a catalog query.
    public var reportRole: Bool

    public init(
        sql: String, readOnly: Bool = true, maxRows: Int = 1000, timeout: TimeInterval = 30, refusePrivilegedRole: Bool = true,
        reportRole: Bool = true
    ) {
        self.sql = sql
        self.readOnly = readOnly
        self.maxRows = maxRows
        self.timeout = timeout
        self.refusePrivilegedRole = refusePrivilegedRole
        self.reportRole = reportRole
    }
}

/// What a runner statement returned.
public struct RunnerAnswer: Sendable {
    public var columns: [String]
    public var rows: [[Value]]
    /// More rows were there than `maxRows`.
    public var truncated: Bool
    /// Rows a writing statement changed.
    public var affectedRows: Int64?
    /// What the caller should know about the connection, e.g. that its role could write.
    public var warnings: [String]

    public init(columns: [String], rows: [[Value]], truncated: Bool, affectedRows: Int64? = nil, warnings: [String] = []) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.affectedRows = affectedRows
        self.warnings = warnings
    }
}

/// One side of a compare pinned to a moment, or why it could not be.
public struct Snapshot: Sendable {
    /// Reads through this connector all see one moment; nil when none could be taken here.
    public var connector: (any Connector)?
    /// Which moment, or why there is none.
    public var description: String
    public init(connector: (any Connector)?, description: String) {
        self.connector = connector
        self.description = description
    }
}

extension Connector {
    public func snapshot(of tables: [TableRef]) async throws -> Snapshot? { nil }

    /// The row count a `count(*)` of `table` answered. Anything but a whole number is an error: a
    /// count read as 0 on both sides would pass a row-count check that compared nothing.
    public func rowCount(answer value: Value?, of table: TableRef) throws -> Int64 {
        if let n = value?.wholeNumber { return n }
        throw CutoverError(
            .query, "count(*) of \(table) answered \(value?.displayText ?? "no row"), not a whole number",
            hint: "check the table with \(url.engine.rawValue)'s own client")
    }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column]) async throws -> WriteStats {
        try await write(rows, to: table, columns: columns, options: WriteOptions())
    }

    /// One table as this engine's catalog describes it (without exact row counts); nil when it does not exist.
    public func describe(_ table: TableRef) async throws -> Table? {
        do {
            return try await catalog(Scope(schemas: table.schema.map { [$0] } ?? [], tables: [table.name], exactCounts: false)).table(table)
        } catch let error as CutoverError where error.code == .tableNotFound {
            return nil
        }
    }

    /// Runs several statements in order, stopping at the first failure.
    public func executeScript(_ statements: [String]) async throws {
        for statement in statements { try await execute(statement) }
    }
}

/// Pull-based source of batches behind a ``RowStream``. Called from one task at a time.
public protocol BatchSource: AnyObject {
    /// The next batch, or nil at the end. Blocking; ``RowStream`` calls it off the cooperative pool.
    func nextBatch() throws -> RowBatch?
    /// Releases the session; called once, also when the consumer stops early.
    func close()
}

/// An async sequence of ``RowBatch``es. Nothing is read until a consumer asks for the next batch,
/// so memory stays at one batch per stream.
public struct RowStream: AsyncSequence, Sendable {
    public typealias Element = RowBatch
    private let open: @Sendable () throws -> any BatchSource

    public init(open: @escaping @Sendable () throws -> any BatchSource) { self.open = open }

    public func makeAsyncIterator() -> Iterator { Iterator(open: open) }

    /// Pulls batches one at a time.
    public final class Iterator: AsyncIteratorProtocol {
        private let open: @Sendable () throws -> any BatchSource
        private var source: (any BatchSource)?
        private var finished = false

        init(open: @escaping @Sendable () throws -> any BatchSource) { self.open = open }

        deinit { source?.close() }

        public func next() async throws -> RowBatch? {
            if finished { return nil }
            let box = UncheckedBox(self)
            do {
                let batch = try await BlockingIO.run { () throws -> UncheckedBox<RowBatch?> in
                    let iterator = box.value
                    if iterator.source == nil { iterator.source = try iterator.open() }
                    return UncheckedBox(try iterator.source!.nextBatch())
                }.value
                if batch == nil { finish() }
                return batch
            } catch {
                finish()
                throw error
            }
        }

        private func finish() {
            finished = true
            source?.close()
            source = nil
        }
    }

    /// The same stream, adding each row's hash to `checksum` as batches pass (one task reads a stream).
    public func checksummed(into checksum: ChecksumAccumulator) -> RowStream {
        let open = self.open
        return RowStream { ChecksumSource(inner: try open(), accumulator: checksum) }
    }

    /// A stream over batches already in memory (tests, small generated data).
    public static func batches(_ batches: [RowBatch]) -> RowStream {
        RowStream { ArraySource(batches) }
    }
}

/// Collects a ``RowChecksum`` while a stream is read.
/// `@unchecked Sendable`: only the one task reading the stream writes it, and it is read after.
public final class ChecksumAccumulator: @unchecked Sendable {
    public private(set) var checksum: RowChecksum
    public init(algorithm: String) { checksum = RowChecksum(algorithm: algorithm) }
    func add(_ batch: RowBatch) {
        for row in 0..<batch.rowCount { checksum.add(rowHash: StableHasher.hash(batch.row(row))) }
    }
}

private final class ChecksumSource: BatchSource {
    let inner: any BatchSource
    let accumulator: ChecksumAccumulator
    init(inner: any BatchSource, accumulator: ChecksumAccumulator) {
        self.inner = inner
        self.accumulator = accumulator
    }
    func nextBatch() throws -> RowBatch? {
        let batch = try inner.nextBatch()
        if let batch { accumulator.add(batch) }
        return batch
    }
    func close() { inner.close() }
}

private final class ArraySource: BatchSource {
    var remaining: [RowBatch]
    init(_ batches: [RowBatch]) { remaining = batches.reversed() }
    func nextBatch() throws -> RowBatch? { remaining.popLast() }
    func close() {}
}
