import CSQLite3
import CSQLiteShim
import CutoverCore
import Foundation

let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite database handle, used by one task at a time.
public final class SQLiteSession {
    let handle: OpaquePointer
    public let path: String
    /// Storage for ``setDeadline(seconds:)``'s progress handler, alive as long as the handle.
    private let deadline = UnsafeMutablePointer<Double>.allocate(capacity: 1)

    /// Opens `path`; `create` makes a missing file, otherwise a missing file is an error.
    public init(path: String, create: Bool, readOnly: Bool = false) throws {
        self.path = path
        if !create, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            throw CutoverError(
                .databaseNotFound, "SQLite file \(path) does not exist",
                hint: "check the path; sqlite:rel/path.db is relative to the current directory, sqlite:///abs/path.db is absolute")
        }
        if create, let directory = Optional((path as NSString).deletingLastPathComponent), !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)  // if this fails, opening the file says so
        }
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
        let status = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "status \(status)"
            sqlite3_close(db)
            throw CutoverError(
                .connectionFailed, "cannot open SQLite file \(path): \(message)",
                hint: "check that the file is a SQLite database and that its directory is writable")
        }
        handle = db
        sqlite3_busy_timeout(db, 30_000)
        _ = cutover_sqlite_strict_identifiers(db)
        SQLiteChecksum.register(db)
        SQLiteProfiler.register(db)
        // A file that is not a database only fails on first read: find out now.
        do {
            try execute("SELECT count(*) FROM sqlite_master")
        } catch {
            // Fully initialized: deinit closes the handle.
            throw CutoverError(
                .connectionFailed, "\(path) is not a readable SQLite database: \(error.redactedDescription)",
                hint: "check the path points at a SQLite file")
        }
    }

    deinit {
        sqlite3_close_v2(handle)
        deadline.deallocate()
    }

    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func failure(_ sql: String) -> CutoverError {
        let message = errorMessage
        let code: CutoverError.Code =
            message.hasPrefix("no such table")
            ? .tableNotFound
            : sqlite3_errcode(handle) == SQLITE_CONSTRAINT ? .valueDoesNotFit : .query
        return CutoverError(code, "SQLite: \(message)", context: ["query": String(sql.prefix(200)), "file": path])
    }

    /// Runs statements that return no rows (DDL, BEGIN/COMMIT, several separated by `;`).
    public func executeScript(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(error)
            throw CutoverError(.query, "SQLite: \(message)", context: ["query": String(sql.prefix(200)), "file": path])
        }
    }

    /// Runs one statement with `?` parameters and returns its rows.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [Value] = []) throws -> ResultSet {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        var rows: [[Value]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.value(at: $0) })
        }
        return ResultSet(columns: statement.columnNames, rows: rows)
    }

    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure(sql) }
        return SQLiteStatement(statement: statement, session: self, sql: sql)
    }

    /// Prepares `sql`, which must be one statement: anything after it but comments and spaces is refused.
    public func prepareOne(_ sql: String) throws -> SQLiteStatement {
        try sql.withCString { text in
            var statement: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            guard sqlite3_prepare_v2(handle, text, -1, &statement, &tail) == SQLITE_OK else { throw failure(sql) }
            guard let statement else {
                throw CutoverError(.usage, "there is no statement to run", context: ["file": path])
            }
            let prepared = SQLiteStatement(statement: statement, session: self, sql: sql)
            if let tail, tail.pointee != 0 {
                var next: OpaquePointer?
                let status = sqlite3_prepare_v2(handle, tail, -1, &next, nil)
                sqlite3_finalize(next)
                // The rest prepares to nothing only when it is blank or comments.
                if status != SQLITE_OK || next != nil {
                    throw CutoverError(
                        .notPermitted, "the SQL runner runs one statement at a time", hint: "send the statements one by one",
                        context: ["file": path])
                }
            }
            return prepared
        }
    }

    /// From now on, statements prepared here may only read (see `cutover_sqlite_read_only`), and
    /// `PRAGMA query_only` refuses writes that slip past as a second line of defence.
    public func restrictToReading() throws {
        try executeScript("PRAGMA query_only = 1")
        guard cutover_sqlite_read_only(handle) == SQLITE_OK else { throw CutoverError(.query, "SQLite refused the read-only authorizer") }
    }

    /// Interrupts statements still running `seconds` from now.
    public func setDeadline(seconds: TimeInterval) {
        cutover_sqlite_deadline(handle, seconds, deadline)
    }

    public var changes: Int64 { Int64(sqlite3_changes64(handle)) }
    /// Rows changed by every statement since the handle opened (a per-statement count cannot tell
    /// an insert skipped by ON CONFLICT DO NOTHING from the previous statement's count).
    public var totalChanges: Int64 { Int64(sqlite3_total_changes64(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

/// A prepared statement; finalized when released.
public final class SQLiteStatement {
    let statement: OpaquePointer
    unowned let session: SQLiteSession
    let sql: String

    init(statement: OpaquePointer, session: SQLiteSession, sql: String) {
        self.statement = statement
        self.session = session
        self.sql = sql
    }

    deinit { sqlite3_finalize(statement) }

    public var columnCount: Int { Int(sqlite3_column_count(statement)) }
    public var columnNames: [String] { (0..<columnCount).map { String(cString: sqlite3_column_name(statement, Int32($0))) } }

    public func bind(_ values: [Value]) throws {
        for (index, value) in values.enumerated() { try bind(value, at: index + 1) }
    }

    public func bind(_ value: Value, at index: Int) throws {
        let i = Int32(index)
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(statement, i)
        case .bool(let b): status = sqlite3_bind_int64(statement, i, b ? 1 : 0)
        case .int(let v): status = sqlite3_bind_int64(statement, i, v)
        case .double(let d): status = sqlite3_bind_double(statement, i, d)
        case .text(var s):
            status = s.withUTF8 { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    // an empty string still needs a non-NULL pointer, or SQLite binds NULL
                    chars.isEmpty
                        ? sqlite3_bind_text(statement, i, "", 0, sqliteTransient)
                        : sqlite3_bind_text(statement, i, chars.baseAddress, Int32(chars.count), sqliteTransient)
                }
            }
        case .bytes(let bytes):
            status =
                bytes.isEmpty
                ? sqlite3_bind_zeroblob(statement, i, 0)
                : bytes.withUnsafeBytes { sqlite3_bind_blob(statement, i, $0.baseAddress, Int32($0.count), sqliteTransient) }
        }
        guard status == SQLITE_OK else { throw session.failure(sql) }
    }

    /// True when the statement cannot change the database file.
    public var isReadOnly: Bool { sqlite3_stmt_readonly(statement) != 0 }

    /// Advances; true while there is a row.
    public func step() throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw session.failure(sql)
        }
    }

    public func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    /// The column's value in SQLite's own storage class.
    public func value(at column: Int) -> Value {
        SQLiteTypes.value(sqlite3_column_value(statement, Int32(column)))
    }
}
