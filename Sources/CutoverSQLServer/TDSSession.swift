import CutoverCore
import Foundation

/// One connection to SQL Server through DB-Library. Not thread-safe: one stream or call uses it at
/// a time, on ``BlockingIO``.
final class TDSSession {
    private let library: FreeTDS
    private var process: OpaquePointer?
    /// The server, as messages name it (no password).
    let place: String

    /// Session settings a DB-Library login does not have by default but SQL Server's own clients
    /// do: without them `xml` and spatial methods and `FOR JSON` refuse to run, and large values
    /// are cut at 4,096 bytes (`TEXTSIZE`), which would change them on their way.
    static let settings =
        "SET TEXTSIZE 2147483647; SET QUOTED_IDENTIFIER ON; SET ANSI_NULLS ON; SET ANSI_PADDING ON; SET ANSI_WARNINGS ON; "
        + "SET CONCAT_NULL_YIELDS_NULL ON; SET ARITHABORT ON; SET NOCOUNT ON"

    /// Opens are serialized: the login timeout is a process-wide setting of DB-Library.
    private static let openLock = NSLock()

    init(url: ConnectionURL) throws {
        library = try FreeTDS.load()
        place = url.description
        guard let host = url.host, !host.isEmpty, !url.database.isEmpty else {
            throw CutoverError(
                .unsupportedURL, "a SQL Server URL names a host and a database", hint: "sqlserver://user:password@host:1433/database?schema=dbo")
        }
        let encryption = try Self.encryption(url)
        let timeout = try Self.loginTimeout(url)
        guard let login = library.login() else { throw CutoverError(.connectionFailed, "FreeTDS could not allocate a login") }
        defer { library.freeLogin(login) }
        let fields: [(FreeTDS.LoginField, String?)] = [
            (.user, url.user), (.password, url.password), (.application, "cutover"), (.charset, "UTF-8"), (.database, url.database),
        ]
        for case (let field, let value?) in fields {
            guard library.setLoginName(login, value, field.rawValue) == FreeTDS.succeed else {
                throw CutoverError(.connectionFailed, "FreeTDS refused the login's \(field) for \(place)")
            }
        }
        if let encryption {
            TDSReports.clear()
            guard library.setLoginName(login, encryption, FreeTDS.LoginField.encryption.rawValue) == FreeTDS.succeed else {
                _ = TDSReports.take()
                throw CutoverError(
                    .unsupportedURL,
                    "encrypt=\(encryption) needs FreeTDS 1.5 or later to set TLS per connection; the FreeTDS loaded is \(library.version)",
                    hint:
                        "install a newer FreeTDS (or point CUTOVER_FREETDS_LIBRARY at one), or remove encrypt= and set `encryption = \(encryption)` in the [global] section of freetds.conf (/etc/freetds/freetds.conf or ~/.freetds.conf)",
                    context: ["url": place])
            }
        }
        // TDS 7.4 where this FreeTDS knows it, else 7.3: both carry the 2008 date and time types as themselves.
        if library.setLoginVersion(login, FreeTDS.tdsVersion74) != FreeTDS.succeed {
            _ = library.setLoginVersion(login, FreeTDS.tdsVersion73)
        }
        let server = "\(host):\(url.port ?? 1433)"
        TDSReports.clear()
        process = Self.openLock.withLock {
            _ = library.setLoginTime(timeout)
            return library.open(login, server, FreeTDS.microsoftSemantics)
        }
        guard process != nil else {
            let reports = TDSReports.take()
            let said = reports.isEmpty ? "no answer" : reports.joined(separator: "; ")
            let refusedLogin = reports.contains { $0.hasPrefix("Msg 18456") || $0.hasPrefix("Msg 4060") }
            throw CutoverError(
                refusedLogin ? .authenticationFailed : .connectionFailed, "cannot connect to SQL Server at \(place): \(said)",
                hint: refusedLogin
                    ? "check the user, the password and that the database exists and the user may open it"
                    : "check the host and port (SQL Server listens on 1433 unless configured otherwise), that TCP connections are enabled and the firewall lets them through; connect_timeout=SECONDS waits longer",
                context: ["url": place])
        }
        do {
            try send(Self.settings)
            while try nextColumns() != nil {}
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// `encrypt=off|request|require|strict`, FreeTDS's own levels (`require` refuses a server that
    /// cannot encrypt; `strict` is TDS 8's TLS before anything else); nil when not set.
    static func encryption(_ url: ConnectionURL) throws -> String? {
        guard let raw = url.parameters["encrypt"] else { return nil }
        let levels = ["off", "request", "require", "strict"]
        guard levels.contains(raw.lowercased()) else {
            throw CutoverError(
                .unsupportedURL, "encrypt=\(raw) is not a FreeTDS encryption level", hint: "encrypt=\(levels.joined(separator: "|"))")
        }
        return raw.lowercased()
    }

    /// `connect_timeout` (seconds, default 15).
    static func loginTimeout(_ url: ConnectionURL) throws -> Int32 {
        guard let raw = url.parameters["connect_timeout"] else { return 15 }
        guard let seconds = Int32(raw), seconds > 0 else {
            throw CutoverError(.unsupportedURL, "connect_timeout=\(raw) is not a number of seconds", hint: "e.g. connect_timeout=30")
        }
        return seconds
    }

    func close() {
        guard let process else { return }
        _ = library.cancel(process)
        library.close(process)
        self.process = nil
    }

    /// Sends `sql` (one batch, perhaps several statements) and waits for the server to start answering.
    func send(_ sql: String) throws {
        guard let process else { throw CutoverError(.connectionFailed, "the connection to \(place) is closed") }
        TDSReports.clear()
        guard library.command(process, sql) == FreeTDS.succeed, library.execute(process) == FreeTDS.succeed else {
            throw failure("the statement failed", sql: sql)
        }
    }

    /// The next result of the batch sent that has columns, or nil when none is left (results of
    /// statements without rows are passed over).
    func nextColumns() throws -> [String]? {
        guard let process else { return nil }
        while true {
            let status = library.results(process)
            if status == FreeTDS.noMoreResults { return nil }
            guard status == FreeTDS.succeed else { throw failure("the statement failed", sql: nil) }
            let count = library.columnCount(process)
            if count > 0 {
                return (1...count).map { library.columnName(process, $0).map { String(cString: $0) } ?? "" }
            }
        }
    }

    /// Appends the current result's next row to `batch`; false at the end of the result.
    func nextRow(into batch: inout RowBatch) throws -> Bool {
        guard let process else { return false }
        while true {
            let status = library.nextRow(process)
            if status == FreeTDS.noMoreRows { return false }
            if status == FreeTDS.failed { throw failure("reading a row failed", sql: nil) }
            // A COMPUTE row (its number) is not a row of the result.
            guard status == FreeTDS.regularRow else { continue }
            for column in 0..<Int32(batch.columnCount) { batch.append(try value(column + 1)) }
            return true
        }
    }

    /// Every result with columns of `sql`, each whole.
    func resultSets(_ sql: String) throws -> [ResultSet] {
        try send(sql)
        var sets: [ResultSet] = []
        while let columns = try nextColumns() {
            var batch = RowBatch(columnCount: columns.count)
            while try nextRow(into: &batch) {}
            sets.append(ResultSet(columns: columns, rows: (0..<batch.rowCount).map { Array(batch.row($0)) }))
        }
        return sets
    }

    private func value(_ column: Int32) throws -> Value {
        let type = library.columnType(process, column)
        guard let data = library.data(process, column) else { return .null }
        let length = Int(library.dataLength(process, column))
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        if let value = try TDSValues.value(type: type, bytes: bytes, column: column) { return value }
        // Any other type is asked of DB-Library as text (hex for bytes: twice as long, and room for the rest).
        let capacity = length * 2 + 128
        let text = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            let written = library.convert(process, type, data, Int32(length), FreeTDS.charType, buffer.baseAddress, Int32(capacity))
            guard written >= 0 else {
                count = 0
                throw CutoverError(
                    .query, "SQL Server sent column \(column) as type \(type), which FreeTDS could not convert to text",
                    hint: "cast the column to a standard type in the query", context: ["url": place])
            }
            count = min(Int(written), capacity)
        }
        return try text.withUnsafeBytes { try TDSValues.text($0, column: column) }
    }

    private func failure(_ what: String, sql: String?) -> CutoverError {
        let reports = TDSReports.take()
        var context = ["url": place]
        if let sql { context["query"] = String(sql.prefix(500)) }
        return CutoverError(
            .query, "SQL Server at \(place): \(what): \(reports.isEmpty ? "no message" : reports.joined(separator: "; "))",
            hint: process == nil ? "the connection is closed" : nil, context: context)
    }
}

/// DB-Library's native values as ``Value``s: integers, floats, bits, text (FreeTDS converts it to
/// the login's UTF-8) and bytes. nil for the other types, which the session asks for as text.
enum TDSValues {
    /// DB-Library type numbers (sybdb.h and tds.h).
    enum TypeCode {
        static let tinyint: Int32 = 48, smallint: Int32 = 52, int: Int32 = 56, bigint: Int32 = 127
        static let bit: Int32 = 50, bitN: Int32 = 104
        static let real: Int32 = 59, float: Int32 = 62
        static let text: Set<Int32> = [47, 39, 35, 99, 103, 175, 167, 231, 239]
        static let bytes: Set<Int32> = [45, 37, 34, 173, 165]
    }

    /// Text that is not UTF-8 is an error, not a value with replacement characters.
    static func value(type: Int32, bytes: UnsafeRawBufferPointer, column: Int32) throws -> Value? {
        func load<T: FixedWidthInteger>(_: T.Type) -> T? {
            bytes.count == MemoryLayout<T>.size ? bytes.loadUnaligned(as: T.self) : nil
        }
        switch type {
        case TypeCode.tinyint: return load(UInt8.self).map { .int(Int64($0)) }
        case TypeCode.smallint: return load(Int16.self).map { .int(Int64($0)) }
        case TypeCode.int: return load(Int32.self).map { .int(Int64($0)) }
        case TypeCode.bigint: return load(Int64.self).map { .int($0) }
        case TypeCode.bit, TypeCode.bitN: return load(UInt8.self).map { .bool($0 != 0) }
        case TypeCode.real: return load(UInt32.self).map { .double(Double(Float(bitPattern: $0))) }
        case TypeCode.float: return load(UInt64.self).map { .double(Double(bitPattern: $0)) }
        case _ where TypeCode.text.contains(type): return try text(bytes, column: column)
        case _ where TypeCode.bytes.contains(type): return .bytes(Array(bytes))
        default: return nil
        }
    }

    /// Text as FreeTDS hands it over (a text column, or another type it converted): UTF-8, or an error.
    static func text(_ bytes: UnsafeRawBufferPointer, column: Int32) throws -> Value {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CutoverError(
                .query, "SQL Server sent text in column \(column) that is not UTF-8 (\(bytes.count) bytes): FreeTDS did not convert it",
                hint: "check FreeTDS's client charset (Cutover asks for UTF-8) and the column's collation")
        }
        return .text(text)
    }
}
