import CutoverCore

/// A SQLite file through the C API: prepared statements, one transaction per write.
public struct SQLiteConnector: Connector {
    public let url: ConnectionURL
    public var dialect: any Dialect { SQLiteDialect() }
    let createIfMissing: Bool

    /// Opens the file once to check it; `createIfMissing` is for targets.
    public init(url: ConnectionURL, createIfMissing: Bool) throws {
        self.url = url
        self.createIfMissing = createIfMissing
        _ = try SQLiteSession(path: url.database, create: createIfMissing)
    }

    func session() throws -> SQLiteSession { try SQLiteSession(path: url.database, create: createIfMissing) }

    public func catalog(_ scope: Scope) async throws -> Catalog {
        let connector = self
        return try await BlockingIO.run { try SQLiteCatalogReader(session: try connector.session()).read(scope) }
    }

    public func rowCount(_ table: TableRef) async throws -> Int64 {
        let connector = self
        let sql = "SELECT count(*) FROM \(dialect.qualified(table))"
        let answer = try await BlockingIO.run { try connector.session().execute(sql).rows.first?.first }
        return try rowCount(answer: answer, of: table)
    }

    public func read(_ request: ReadRequest) -> RowStream {
        let connector = self
        let types = request.columns.map(\.canonical)
        let batchSize = request.batchSize
        let query = request.selectSQL(SQLiteDialect())
        return RowStream {
            let session = try connector.session()
            return SQLiteSource(statement: try session.prepare(query), session: session, types: types, batchSize: batchSize)
        }
    }

    public func write(_ rows: RowStream, to table: TableRef, columns: [Column], options: WriteOptions) async throws -> WriteStats {
        let dialect = SQLiteDialect()
        var sql =
            "INSERT INTO \(dialect.qualified(table)) (\(columns.map { dialect.quote($0.name) }.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        if case .upsert(let key) = options.mode {
            let updates = columns.filter { !key.contains($0.name) }.map { "\(dialect.quote($0.name)) = excluded.\(dialect.quote($0.name))" }
            sql +=
                " ON CONFLICT (\(key.map { dialect.quote($0) }.joined(separator: ", "))) "
                + (updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + updates.joined(separator: ", "))
        }
        let delete = options.replacing.map { "DELETE FROM \(dialect.qualified(table))" + ($0.terms.isEmpty ? "" : " WHERE " + $0.sql(dialect)) }
        let connector = self
        let insert = sql
        let writer = UncheckedBox(
            try await BlockingIO.run {
                UncheckedBox(
                    try SQLiteBatchWriter(session: try connector.session(), sql: insert, table: table, columns: columns, deleteFirst: delete))
            }.value)
        do {
            for try await batch in rows {
                try await BlockingIO.run { try writer.value.write(batch) }
            }
            return try await BlockingIO.run { try writer.value.commit() }
        } catch {
            _ = try? await BlockingIO.run { writer.value.rollback() }  // the write error is the one thrown
            throw error
        }
    }

    public func execute(_ sql: String) async throws -> ResultSet {
        let connector = self
        return try await BlockingIO.run {
            let session = try connector.session()
            let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
            let body = trimmed.hasSuffix(";") ? String(trimmed.dropLast()) : trimmed
            if body.contains(";") {
                try session.executeScript(sql)
                return ResultSet(columns: [], rows: [])
            }
            return try session.execute(body)
        }
    }
}

/// Steps a SELECT, `batchSize` rows at a time.
final class SQLiteSource: BatchSource {
    let statement: SQLiteStatement
    let session: SQLiteSession
    let types: [CanonicalType]
    let batchSize: Int
    var done = false

    init(statement: SQLiteStatement, session: SQLiteSession, types: [CanonicalType], batchSize: Int) {
        self.statement = statement
        self.session = session
        self.types = types
        self.batchSize = batchSize
    }

    func nextBatch() throws -> RowBatch? {
        if done { return nil }
        var batch = RowBatch(columnCount: types.count, reservingRows: batchSize)
        while batch.rowCount < batchSize {
            guard try statement.step() else { done = true; break }
            for column in 0..<types.count {
                batch.append(SQLiteTypes.normalize(statement.value(at: column), to: types[column]))
            }
        }
        return batch.isEmpty ? nil : batch
    }

    func close() {}
}

/// Inserts batches with one prepared statement inside one transaction.
final class SQLiteBatchWriter {
    let session: SQLiteSession
    let statement: SQLiteStatement
    let table: TableRef
    let columns: [Column]
    var rows: Int64 = 0
    var bytes: Int64 = 0

    init(session: SQLiteSession, sql: String, table: TableRef, columns: [Column], deleteFirst: String?) throws {
        self.session = session
        self.table = table
        self.columns = columns
        try session.executeScript("BEGIN IMMEDIATE")
        do {
            if let deleteFirst { try session.executeScript(deleteFirst) }
            self.statement = try session.prepare(sql)
        } catch {
            try? session.executeScript("ROLLBACK")  // the error that got us here is the one thrown
            throw error
        }
    }

    func write(_ batch: RowBatch) throws {
        for row in 0..<batch.rowCount {
            for column in 0..<batch.columnCount {
                let value = Self.storable(batch[row, column], as: columns[column].canonical)
                if case .text(let s) = value {
                    bytes += Int64(s.utf8.count)
                } else if case .bytes(let b) = value {
                    bytes += Int64(b.count)
                } else {
                    bytes += 8
                }
                try statement.bind(value, at: column + 1)
            }
            do {
                _ = try statement.step()
            } catch let error as CutoverError {
                throw error.adding(["table": table.description, "row": String(rows + 1)])
            }
            statement.reset()
            rows += 1
        }
    }

    /// The value as SQLite should store it for the column's canonical type.
    static func storable(_ value: Value, as type: CanonicalType) -> Value {
        switch (value, type) {
        case (.double(let d), .float) where d.isNaN: return .text("NaN")
        case (.double(let d), .decimal): return .text(DecimalText.plain(d))
        case (.text(let s), .boolean): return SQLBool.parse(s).map { .int($0 ? 1 : 0) } ?? value
        case (.text(let s), .integer): return Int64(s).map(Value.int) ?? value
        case (.text(let s), .float): return Double(parsingSQL: s).map { $0.isNaN ? .text("NaN") : .double($0) } ?? value
        // Text stays text in a BLOB column and bytes stay bytes in a TEXT one: SQLite holds both.
        default: return value
        }
    }

    func commit() throws -> WriteStats {
        try session.executeScript("COMMIT")
        return WriteStats(rows: rows, bytes: bytes)
    }

    func rollback() { try? session.executeScript("ROLLBACK") }  // the error that got us here is the one thrown
}

extension SQLiteConnector {
    /// The SQL runner's statement. Read-only: the file is opened read-only, `query_only` is on and
    /// an authorizer refuses at prepare time anything but reading (ATTACH included, so no other
    /// file can be reached). One statement, stepped up to the row limit, interrupted at the timeout.
    public func run(_ query: RunnerQuery) async throws -> RunnerAnswer {
        let path = url.database
        return try await BlockingIO.run {
            let session = try SQLiteSession(path: path, create: false, readOnly: query.readOnly)
            if query.readOnly { try session.restrictToReading() }
            session.setDeadline(seconds: query.timeout)
            let statement: SQLiteStatement
            do {
                statement = try session.prepareOne(query.sql)
            } catch let error as CutoverError where query.readOnly && error.message.contains("not authorized") {
                throw CutoverError(
                    .notPermitted, "the SQL runner is read-only: SQLite refused \(error.message.replacingOccurrences(of: "SQLite: ", with: ""))",
                    hint: "run a query (SELECT, WITH, VALUES); statements that change data or attach files are for admins",
                    context: error.context)
            }
            if query.readOnly, !statement.isReadOnly {
                throw CutoverError(.notPermitted, "the SQL runner is read-only and this statement writes", hint: "run a query (SELECT, WITH, VALUES)")
            }
            var rows: [[Value]] = []
            do {
                while rows.count <= query.maxRows, try statement.step() {
                    rows.append((0..<statement.columnCount).map { statement.value(at: $0) })
                }
            } catch let error as CutoverError where error.message.contains("interrupted") {
                throw CutoverError(.query, "the query was cancelled after \(Int(query.timeout)) s", hint: "narrow it down, or add a LIMIT")
            }
            return RunnerAnswer(
                columns: statement.columnNames, rows: Array(rows.prefix(query.maxRows)), truncated: rows.count > query.maxRows,
                affectedRows: query.readOnly ? nil : session.changes)
        }
    }
}
