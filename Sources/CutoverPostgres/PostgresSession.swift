import CLibPQ
import CutoverCore
import Foundation

/// One libpq connection. Not thread-safe: one task uses a session at a time (a connector opens a
/// session per read, write or catalog call).
///
/// Sessions run in UTC with ISO dates, shortest-exact floats, hex bytea and ISO 8601 intervals so
/// every value's text form is engine-neutral.
public final class PostgresSession {
    let connection: OpaquePointer
    public let url: ConnectionURL

    public init(url: ConnectionURL) throws {
        self.url = url
        var keywords = ["dbname", "application_name", "connect_timeout", "client_encoding"]
        var values = [url.database, "cutover", url.parameters["connect_timeout"] ?? "10", "UTF8"]
        if let host = url.host { keywords.append("host"); values.append(host) }
        if let port = url.port { keywords.append("port"); values.append(String(port)) }
        if let user = url.user { keywords.append("user"); values.append(user) }
        if let password = url.password { keywords.append("password"); values.append(password) }
        for key in ["sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs", "options"] {
            if let value = url.parameters[key] { keywords.append(key); values.append(value) }
        }
        let conn: OpaquePointer? = Self.withCStrings(keywords) { k in
            Self.withCStrings(values) { v in PQconnectdbParams(k, v, 0) }
        }
        guard let conn else { throw CutoverError(.connectionFailed, "libpq could not allocate a connection") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)
            throw Self.connectError(message, url: url)
        }
        self.connection = conn
        // Server NOTICEs ("schema … already exists, skipping") are not for the user's terminal.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        try execute(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; SET bytea_output = 'hex'")
    }

    deinit { PQfinish(connection) }

    static func connectError(_ message: String, url: ConnectionURL) -> CutoverError {
        let target = url.description
        let lower = message.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied") || lower.contains("authentication failed") {
            return CutoverError(
                .authenticationFailed, "PostgreSQL rejected the credentials for \(target): \(message)",
                hint: "check the user name and password in the URL (or the ${ENV} variable it names)")
        }
        if lower.contains("database") && lower.contains("does not exist") {
            return CutoverError(
                .databaseNotFound, "database '\(url.database)' does not exist on \(url.host ?? "the server"): \(message)",
                hint: "create it (createdb \(url.database)) or fix the database name in the URL")
        }
        return CutoverError(
            .connectionFailed, "cannot connect to PostgreSQL at \(target): \(message)",
            hint: "check host and port, that the server is running, and that it accepts TCP connections")
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        var array: [UnsafePointer<CChar>?] = pointers.map { UnsafePointer($0) }
        array.append(nil)
        return array.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    var lastError: String {
        String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func resultError(_ result: OpaquePointer?, sql: String) -> CutoverError {
        var message = lastError
        var context: [String: String] = ["query": String(sql.prefix(200))]
        if let result {
            if let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) { message = String(cString: primary) }
            if let detail = PQresultErrorField(result, Int32(UInt8(ascii: "D"))) { message += " (\(String(cString: detail)))" }
            if let where_ = PQresultErrorField(result, Int32(UInt8(ascii: "W"))) { context["where"] = String(cString: where_) }
            if let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { context["sqlstate"] = String(cString: state) }
            if let column = PQresultErrorField(result, Int32(UInt8(ascii: "c"))) { context["column"] = String(cString: column) }
            if let table = PQresultErrorField(result, Int32(UInt8(ascii: "t"))) { context["table"] = String(cString: table) }
        }
        let state = context["sqlstate"] ?? ""
        let code: CutoverError.Code =
            switch state {
            case "42P01": .tableNotFound
            case "3F000": .schemaNotFound
            case "22001", "22003", "22P02", "22007", "22008", "23502": .valueDoesNotFit
            case "25006": .notPermitted
            default: .query
            }
        return CutoverError(code, "PostgreSQL: \(message)", context: context)
    }

    /// Runs one or more statements; returns the rows of the last one as text (NULL as nil).
    @discardableResult
    public func execute(_ sql: String) throws -> TextResult {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        return try textResult(result, sql: sql)
    }

    /// Runs one statement with `$1…` text parameters.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?]) throws -> TextResult {
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(connection, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try textResult(result, sql: sql)
    }

    /// Which cluster and database this session is connected to, whatever host name or address the
    /// URL used: `pg_control_system()` is readable by every role.
    public func identity() throws -> DatabaseIdentity {
        let row = try query("SELECT system_identifier::text, current_database() FROM pg_control_system()", []).rows.first
        guard let system = row?[0], let database = row?[1] else {
            throw CutoverError(.query, "PostgreSQL did not say which cluster this is", hint: "is this PostgreSQL 9.6 or newer?")
        }
        return .postgres(systemIdentifier: system, database: database)
    }

    private func textResult(_ result: OpaquePointer?, sql: String) throws -> TextResult {
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw resultError(result, sql: sql) }
        let rowCount = Int(PQntuples(result)), fieldCount = Int(PQnfields(result))
        var columns: [String] = []
        for f in 0..<fieldCount { columns.append(String(cString: PQfname(result, Int32(f)))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var row: [String?] = []
            row.reserveCapacity(fieldCount)
            for f in 0..<fieldCount {
                if PQgetisnull(result, Int32(r), Int32(f)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(f))))
                }
            }
            rows.append(row)
        }
        let affected = String(cString: PQcmdTuples(result))
        return TextResult(columns: columns, rows: rows, affectedRows: Int64(affected) ?? 0)
    }

    // MARK: COPY

    /// Starts `COPY … TO STDOUT`; then call ``nextCopyRow(_:)`` until it returns false.
    func beginCopyOut(_ sql: String) throws {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_OUT else { throw resultError(result, sql: sql) }
    }

    /// Hands one COPY message (a text row without its newline, unless `keepNewline`) to `body`;
    /// false at the end of the data.
    func nextCopyRow(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void, keepNewline: Bool = false) throws -> Bool {
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(connection, &buffer, 0)
        if length > 0, let buffer {
            defer { PQfreemem(buffer) }
            var count = Int(length)
            if !keepNewline, count > 0, buffer[count - 1] == 0x0a { count -= 1 }
            try buffer.withMemoryRebound(to: UInt8.self, capacity: count) { try body(UnsafeBufferPointer(start: $0, count: count)) }
            return true
        }
        if length == -1 {
            let result = PQgetResult(connection)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw resultError(result, sql: "COPY TO STDOUT") }
            while let extra = PQgetResult(connection) { PQclear(extra) }
            return false
        }
        throw CutoverError(.query, "PostgreSQL COPY read failed: \(lastError)")
    }

    /// Starts `COPY … FROM STDIN`.
    func beginCopyIn(_ sql: String) throws {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_IN else { throw resultError(result, sql: sql) }
    }

    func putCopyData(_ bytes: [UInt8]) throws {
        let ok = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
        }
        guard ok == 1 else { throw CutoverError(.query, "PostgreSQL COPY write failed: \(lastError)") }
    }

    /// COPY data gathered into messages of about 1 MB: a message per row would cost a call each.
    struct CopyBuffer {
        var bytes: [UInt8] = []
        private(set) var sent: Int64 = 0
        static let messageSize = 1 << 20

        init() { bytes.reserveCapacity(Self.messageSize) }

        /// Sends what is gathered once it reaches a message's size, or whatever there is when `finishing`.
        mutating func send(to session: PostgresSession, finishing: Bool = false) throws {
            guard finishing ? !bytes.isEmpty : bytes.count >= Self.messageSize else { return }
            try session.putCopyData(bytes)
            sent += Int64(bytes.count)
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Ends COPY IN; `abortMessage` rolls the COPY back. Throws the server's error for the data.
    func endCopyIn(abortMessage: String? = nil) throws -> Int64 {
        guard PQputCopyEnd(connection, abortMessage) == 1 else {
            throw CutoverError(.query, "PostgreSQL COPY end failed: \(lastError)")
        }
        var rows: Int64 = 0
        var failure: CutoverError?
        while let result = PQgetResult(connection) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int64(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = resultError(result, sql: "COPY FROM STDIN")
            }
            PQclear(result)
        }
        if let failure, abortMessage == nil { throw failure }
        return rows
    }

    /// Sends `rows` (text values, nil as NULL) to `COPY … FROM STDIN` in PostgreSQL's text
    /// format, a megabyte per message; returns the rows the server took. An error ends the COPY.
    public func copyIn(_ sql: String, rows: [[String?]]) throws -> Int64 {
        try beginCopyIn(sql)
        var out = CopyBuffer()
        do {
            for row in rows {
                for (index, value) in row.enumerated() {
                    if index > 0 { out.bytes.append(UInt8(ascii: "\t")) }
                    _ = CopyTextCodec.encode(value.map(Value.text) ?? .null, as: .text, into: &out.bytes)  // text always encodes
                }
                out.bytes.append(UInt8(ascii: "\n"))
                try out.send(to: self)
            }
            try out.send(to: self, finishing: true)
        } catch {
            _ = try? endCopyIn(abortMessage: "\(error)")  // the write error is the one to report
            throw error
        }
        return try endCopyIn()
    }

    public var serverVersion: String {
        let v = Int(PQserverVersion(connection))
        return "\(v / 10000).\(v % 10000)"
    }
}

/// Rows of a query in PostgreSQL's text format.
public struct TextResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    public var affectedRows: Int64

    public var firstValue: String? { rows.first?.first ?? nil }
}
