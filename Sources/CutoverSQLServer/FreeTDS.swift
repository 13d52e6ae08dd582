import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// FreeTDS's DB-Library (`libsybdb`, the C library pymssql and others speak TDS through), loaded
/// the first time a `sqlserver://` URL is opened, so Cutover builds and runs everywhere else
/// without it. Its calls block; they run on ``BlockingIO``, one session per read, as libpq's do.
final class FreeTDS: @unchecked Sendable {
    // Values of sybdb.h.
    static let succeed: Int32 = 1
    static let noMoreResults: Int32 = 2
    static let regularRow: Int32 = -1
    static let noMoreRows: Int32 = -2
    static let failed: Int32 = 0
    static let cancelCall: Int32 = 2
    static let charType: Int32 = 47
    /// TDS 7.4 (SQL Server 2012 and later): `date`, `time`, `datetime2` and `datetimeoffset` travel as themselves.
    static let tdsVersion74: UInt8 = 8
    static let tdsVersion73: UInt8 = 7
    /// `tdsdbopen`'s third argument: Microsoft's DB-Library semantics, as pymssql asks for.
    static let microsoftSemantics: Int32 = 1

    /// `DBSETENCRYPTION` (`off`, `request`, `require`, `strict`) arrived in FreeTDS 1.5; older
    /// libraries refuse it as an unknown field.
    enum LoginField: Int32 { case user = 2, password = 3, application = 5, charset = 10, database = 14, encryption = 1005 }

    typealias ErrorHandler =
        @convention(c) (OpaquePointer?, Int32, Int32, Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?) -> Int32
    typealias MessageHandler =
        @convention(c) (
            OpaquePointer?, Int32, Int32, Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int32
        ) -> Int32

    let version: String
    let login: @convention(c) () -> OpaquePointer?
    let freeLogin: @convention(c) (OpaquePointer?) -> Void
    let setLoginName: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32
    let setLoginVersion: @convention(c) (OpaquePointer?, UInt8) -> Int32
    let setLoginTime: @convention(c) (Int32) -> Int32
    let open: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> OpaquePointer?
    let close: @convention(c) (OpaquePointer?) -> Void
    let command: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    let execute: @convention(c) (OpaquePointer?) -> Int32
    let results: @convention(c) (OpaquePointer?) -> Int32
    let columnCount: @convention(c) (OpaquePointer?) -> Int32
    let columnName: @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
    let columnType: @convention(c) (OpaquePointer?, Int32) -> Int32
    let nextRow: @convention(c) (OpaquePointer?) -> Int32
    let data: @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<UInt8>?
    let dataLength: @convention(c) (OpaquePointer?, Int32) -> Int32
    let convert: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UInt8>?, Int32, Int32, UnsafeMutablePointer<UInt8>?, Int32) -> Int32
    let cancel: @convention(c) (OpaquePointer?) -> Int32

    /// Where the library is looked for: `CUTOVER_FREETDS_LIBRARY` when set, else the system's.
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let path = environment["CUTOVER_FREETDS_LIBRARY"], !path.isEmpty { return [path] }
        return ["libsybdb.so.5", "libsybdb.so", "/usr/local/lib/libsybdb.so", "/opt/homebrew/lib/libsybdb.dylib", "/usr/local/lib/libsybdb.dylib"]
    }

    /// The library, loaded and initialised once per process.
    static func load() throws -> FreeTDS { try loaded.get() }

    private static let loaded: Result<FreeTDS, CutoverError> = {
        do {
            return .success(try FreeTDS(candidates: candidates()))
        } catch let error as CutoverError {
            return .failure(error)
        } catch {
            return .failure(CutoverError(.connectionFailed, "FreeTDS could not be loaded: \(error)"))
        }
    }()

    private init(candidates: [String]) throws {
        var reasons: [String] = []
        var found: UnsafeMutableRawPointer?
        for path in candidates {
            if let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) {
                found = handle
                break
            }
            reasons.append(dlerror().map { String(cString: $0) } ?? path)
        }
        guard let handle = found else {
            throw CutoverError(
                .connectionFailed,
                "SQL Server connections need FreeTDS's DB-Library (libsybdb), which is not installed: \(reasons.joined(separator: "; "))",
                hint:
                    "install it (Debian/Ubuntu: apt-get install libsybdb5; macOS: brew install freetds) or set CUTOVER_FREETDS_LIBRARY to its path; without a network path to the server, use `cutover sqlserver extract-script` and --source sqlserver-export:DIR"
            )
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(handle, name) else {
                throw CutoverError(
                    .connectionFailed, "the FreeTDS library found has no \(name): it is not DB-Library (libsybdb) or too old",
                    hint: "install FreeTDS 1.0 or later")
            }
            return unsafeBitCast(address, to: type)
        }
        version = String(cString: try symbol("dbversion", as: (@convention(c) () -> UnsafePointer<CChar>).self)())
        login = try symbol("dblogin", as: (@convention(c) () -> OpaquePointer?).self)
        freeLogin = try symbol("dbloginfree", as: (@convention(c) (OpaquePointer?) -> Void).self)
        setLoginName = try symbol("dbsetlname", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32).self)
        setLoginVersion = try symbol("dbsetlversion", as: (@convention(c) (OpaquePointer?, UInt8) -> Int32).self)
        setLoginTime = try symbol("dbsetlogintime", as: (@convention(c) (Int32) -> Int32).self)
        open = try symbol("tdsdbopen", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> OpaquePointer?).self)
        close = try symbol("dbclose", as: (@convention(c) (OpaquePointer?) -> Void).self)
        command = try symbol("dbcmd", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32).self)
        execute = try symbol("dbsqlexec", as: (@convention(c) (OpaquePointer?) -> Int32).self)
        results = try symbol("dbresults", as: (@convention(c) (OpaquePointer?) -> Int32).self)
        columnCount = try symbol("dbnumcols", as: (@convention(c) (OpaquePointer?) -> Int32).self)
        columnName = try symbol("dbcolname", as: (@convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?).self)
        columnType = try symbol("dbcoltype", as: (@convention(c) (OpaquePointer?, Int32) -> Int32).self)
        nextRow = try symbol("dbnextrow", as: (@convention(c) (OpaquePointer?) -> Int32).self)
        data = try symbol("dbdata", as: (@convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<UInt8>?).self)
        dataLength = try symbol("dbdatlen", as: (@convention(c) (OpaquePointer?, Int32) -> Int32).self)
        convert = try symbol(
            "dbconvert",
            as: (@convention(c) (OpaquePointer?, Int32, UnsafePointer<UInt8>?, Int32, Int32, UnsafeMutablePointer<UInt8>?, Int32) -> Int32).self)
        cancel = try symbol("dbcancel", as: (@convention(c) (OpaquePointer?) -> Int32).self)
        let initialise = try symbol("dbinit", as: (@convention(c) () -> Int32).self)
        let errorHandler = try symbol("dberrhandle", as: (@convention(c) (ErrorHandler?) -> ErrorHandler?).self)
        let messageHandler = try symbol("dbmsghandle", as: (@convention(c) (MessageHandler?) -> MessageHandler?).self)
        guard initialise() == Self.succeed else { throw CutoverError(.connectionFailed, "FreeTDS's dbinit() failed") }
        _ = errorHandler(TDSReports.libraryError)
        _ = messageHandler(TDSReports.serverMessage)
    }
}

/// What DB-Library reported during the calls of one thread. Its handlers are process-wide and run
/// on the thread that made the call, so a session clears its thread's reports before a call and
/// reads them after it.
enum TDSReports {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byThread: [UInt: [String]] = [:]

    private static var thread: UInt { UInt(pthread_self()) }

    static func clear() {
        let me = thread
        lock.withLock { _ = byThread.removeValue(forKey: me) }
    }

    /// The reports since the last ``clear()``, and clears them.
    static func take() -> [String] {
        let me = thread
        return lock.withLock { byThread.removeValue(forKey: me) ?? [] }
    }

    static func add(_ report: String) {
        let me = thread
        lock.withLock { byThread[me, default: []].append(report) }
    }

    /// A client-side error (cannot connect, timed out, lost the connection): the call is cancelled
    /// and returns FAIL, so the session throws with what was said here.
    static let libraryError: FreeTDS.ErrorHandler = { _, _, _, osError, text, osText in
        var report = text.map { String(cString: $0) } ?? "DB-Library error"
        if osError != 0, let osText { report += " (\(String(cString: osText)))" }
        TDSReports.add(report)
        return FreeTDS.cancelCall
    }

    /// A server message: errors (severity above 10) are kept for the error the call raises;
    /// informational ones ("Changed database context to …") are not.
    static let serverMessage: FreeTDS.MessageHandler = { _, number, _, severity, text, _, procedure, line in
        guard severity > 10 else { return 0 }
        var report = "Msg \(number), level \(severity)"
        if let procedure, procedure.pointee != 0 { report += ", procedure \(String(cString: procedure))" }
        if line > 0 { report += ", line \(line)" }
        report += ": " + (text.map { String(cString: $0) } ?? "")
        TDSReports.add(report)
        return 0
    }
}
