import CutoverCore

/// PostgreSQL through libpq: catalogs for introspection, `COPY … TO STDOUT` for reads and
/// `COPY … FROM STDIN` for writes, in the text format. Every read and write opens its own session.
public struct PostgresConnector: PassThroughTarget {
    public let url: ConnectionURL
    public var dialect: any Dialect { PostgresDialect() }
    /// Set on the connector ``snapshot()`` returns: every session it opens imports this snapshot.
    var pinned: ExportedSnapshot?

    /// Connects once to check the URL, credentials and database, so errors surface before any work.
    public init(url: ConnectionURL) async throws {
        self.url = url
        let url = url
        _ = try await BlockingIO.run { _ = try PostgresSession(url: url) }
    }

    func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let (url, pinned) = (url, pinned)
        return try await BlockingIO.run { try body(try Self.session(url, pinned)) }
    }

    /// A new session, inside the pinned snapshot when there is one.
    static func session(_ url: ConnectionURL, _ pinned: ExportedSnapshot?) throws -> PostgresSession {
        let session = try PostgresSession(url: url)
        if let pinned {
            _ = try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            _ = try session.execute("SET TRANSACTION SNAPSHOT '\(pinned.id)'")
        }
        return session
    }

    /// A REPEATABLE READ snapshot exported by a session held open for as long as the returned
    /// connector lives; its queries and reads (each in its own session) all see that moment.
    public func snapshot(of tables: [TableRef]) async throws -> Snapshot? {
        let url = url
        let exported = try await BlockingIO.run { try ExportedSnapshot(url: url) }
        var pinned = self
        pinned.pinned = exported
        return Snapshot(
            connector: pinned, description: "PostgreSQL REPEATABLE READ snapshot \(exported.id), shared by every query and read of this side")
    }

    public func catalog(_ scope: Scope) async throws -> Catalog {
        try await withSession { try PostgresCatalogReader(session: $0).read(scope) }
    }

    public func rowCount(_ table: TableRef) async throws -> Int64 {
        let sql = "SELECT count(*) FROM \(dialect.qualified(table))"
        let answer = try await withSession { try $0.execute(sql).firstValue }
        return try rowCount(answer: answer.map(Value.text), of: table)
    }

    public func read(_ request: ReadRequest) -> RowStream {
        let url = url
        // Values leave as text for other engines: money as the number it is, not "$1,234.50".
        let dialect = PostgresDialect()
        let copy = "COPY (\(request.selectSQL(dialect) { $0.nativeType == "money" ? dialect.quote($0.name) + "::numeric" : nil })) TO STDOUT"
        let storage = request.columns.map(\.canonical.storage)
        let batchSize = request.batchSize
        let pinned = pinned
        return RowStream {
            let session = try Self.session(url, pinned)
            try session.beginCopyOut(copy)
            return CopyOutSource(session: session, storage: storage, batchSize: batchSize)
        }
    }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats {
        let load = try LoadTransaction(url: url, table: table, columns: columns, options: options, format: .text)
        let session = UncheckedBox(load)
        try await BlockingIO.run { try session.value.begin() }
        let encodings = columns.map { CopyTextCodec.Encoding($0.canonical) }
        var bytes: Int64 = 0
        do {
            for try await batch in rows {
                var buffer: [UInt8] = []
                buffer.reserveCapacity(batch.rowCount * 128)
                let refused: (row: Int, column: Int)? = batch.values.withUnsafeBufferPointer { values in
                    var index = 0
                    for row in 0..<batch.rowCount {
                        for column in 0..<batch.columnCount {
                            if column > 0 { buffer.append(CopyTextCodec.tab) }
                            guard CopyTextCodec.encode(values[index], as: encodings[column], into: &buffer) else { return (row, column) }
                            index += 1
                        }
                        buffer.append(CopyTextCodec.newline)
                    }
                    return nil
                }
                if let refused { throw Self.refusal(batch[refused.row, refused.column], column: columns[refused.column], table: table) }
                bytes += Int64(buffer.count)
                let chunk = buffer
                try await BlockingIO.run { try session.value.session.putCopyData(chunk) }
            }
        } catch {
            await BlockingIO.abandon { session.value.rollback() }
            throw error
        }
        let written = try await BlockingIO.run { try session.value.commit() }
        return WriteStats(rows: written, bytes: bytes)
    }

    /// A value the target column cannot hold as it is (bytes in text, text in bytea), named.
    static func refusal(_ value: Value, column: Column, table: TableRef) -> CutoverError {
        CutoverError(
            .valueDoesNotFit, "\(table).\(column.name): \(value.storageMismatch(for: column.canonical) ?? "cannot be written as it is")",
            hint: "give the column a type that holds it (cutover.yml overrides, e.g. bytea for BLOBs), or set such rows aside with --on-error reject",
            context: ["table": table.description, "column": column.name])
    }

    /// PostgreSQL → PostgreSQL with identical column types: binary COPY bytes go from one server
    /// to the other untouched (no decoding, no per-row work in Swift), in one transaction.
    public func canPassThrough(from source: any Connector) -> Bool { source is PostgresConnector }

    public func transfer(
        _ request: ReadRequest, from source: any Connector, to table: TableRef, columns: [Column],
        options: WriteOptions
    ) async throws -> WriteStats {
        guard let source = source as? PostgresConnector else {
            throw CutoverError(
                .usage, "a binary pass-through into PostgreSQL needs a PostgreSQL source, not \(source.url.engine.rawValue)",
                hint: "load through write(_:to:columns:options:) instead")
        }
        let copyOut = "COPY (\(request.selectSQL(PostgresDialect()))) TO STDOUT (FORMAT binary)"
        let sourceURL = source.url
        let load = UncheckedBox(try LoadTransaction(url: url, table: table, columns: columns, options: options, format: .binary))
        return try await BlockingIO.run {
            let reader = try PostgresSession(url: sourceURL)
            try load.value.begin()
            do {
                try reader.beginCopyOut(copyOut)
                var out = PostgresSession.CopyBuffer()
                // One COPY message per row (the first also carries the header, the last is the trailer).
                var checksum = RowChecksum(algorithm: "pg-binary")
                while try reader.nextCopyRow(
                    { row in
                        out.bytes.append(contentsOf: row)
                        var hasher = StableHasher()
                        hasher.combine(bytes: UnsafeRawBufferPointer(row))
                        checksum.add(rowHash: hasher.finalize())
                    }, keepNewline: true)
                {
                    try out.send(to: load.value.session)
                }
                try out.send(to: load.value.session, finishing: true)
                return WriteStats(rows: try load.value.commit(), bytes: out.sent, checksum: checksum)
            } catch {
                load.value.rollback()
                throw error
            }
        }
    }

    public func execute(_ sql: String) async throws -> ResultSet {
        try await withSession { session in
            let result = try session.execute(sql)
            return ResultSet(columns: result.columns, rows: result.rows.map { $0.map { $0.map(Value.text) ?? .null } })
        }
    }
}

/// Reads COPY rows into batches of `batchSize`.
final class CopyOutSource: BatchSource {
    let session: PostgresSession
    let storage: [ValueStorage]
    let batchSize: Int
    var done = false

    init(session: PostgresSession, storage: [ValueStorage], batchSize: Int) {
        self.session = session
        self.storage = storage
        self.batchSize = batchSize
    }

    func nextBatch() throws -> RowBatch? {
        if done { return nil }
        var batch = RowBatch(columnCount: storage.count, reservingRows: batchSize)
        while batch.rowCount < batchSize {
            let more = try session.nextCopyRow { line in try CopyTextCodec.decodeRow(line, storage: storage, into: &batch) }
            if !more { done = true; break }
        }
        return batch.isEmpty ? nil : batch
    }

    func close() {
        // Dropping the session (PQfinish) cancels an unfinished COPY.
    }
}

/// The session that exported a snapshot; the snapshot stays importable while it is open.
final class ExportedSnapshot: @unchecked Sendable {
    let id: String
    private let holder: PostgresSession

    init(url: ConnectionURL) throws {
        holder = try PostgresSession(url: url)
        _ = try holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        guard let id = try holder.execute("SELECT pg_export_snapshot()").firstValue else {
            throw CutoverError(.query, "PostgreSQL did not export a snapshot", context: ["url": url.description])
        }
        self.id = id
    }
}
