import CutoverCore
import CutoverPostgres
import Foundation
import Testing

/// Where the engines started by `scripts/test.sh` are, and helpers that give each test its own
/// database or directory so tests run in parallel.
public enum TestEnvironment {
    /// The PostgreSQL superuser URL exported by scripts/test.sh.
    ///
    /// When the script said servers are there (`CUTOVER_TEST_REQUIRE_SERVERS=1`), a missing URL is a
    /// test failure, not a skip.
    public static func postgresURL() throws -> ConnectionURL {
        guard let raw = ProcessInfo.processInfo.environment["CUTOVER_TEST_PG_URL"] else {
            throw CutoverError(.usage, "CUTOVER_TEST_PG_URL is not set", hint: "run the tests with scripts/test.sh")
        }
        return try ConnectionURL(parsing: raw)
    }

    /// True when PostgreSQL tests should run: always under scripts/test.sh.
    public static var hasPostgres: Bool {
        ProcessInfo.processInfo.environment["CUTOVER_TEST_PG_URL"] != nil
            || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"
    }

    /// Creates an empty database, runs `body` with its URL, drops it afterwards.
    public static func withPostgresDatabase<T>(_ body: (ConnectionURL) async throws -> T) async throws -> T {
        quietLogs
        let admin = try postgresURL()
        let name = "cutover_t_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try await adminSQL(admin, "CREATE DATABASE \(name)")
        let url = ConnectionURL(
            engine: .postgres, user: admin.user, password: admin.password, host: admin.host, port: admin.port,
            database: name, parameters: admin.parameters)
        do {
            let result = try await body(url)
            try await adminSQL(admin, "DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await adminSQL(admin, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Blocking libpq work runs off the cooperative pool, as in the product code.
    private static func adminSQL(_ url: ConnectionURL, _ sql: String) async throws {
        try await BlockingIO.run { _ = try PostgresSession(url: url).execute(sql) }
    }

    /// Runs SQL on a database as the test superuser.
    public static func psql(_ url: ConnectionURL, _ sql: String) async throws {
        try await adminSQL(url, sql)
    }

    /// The Snowflake emulator's URL exported by scripts/test.sh; a test failure when the script said
    /// servers are there but the URL is missing.
    public static func snowflakeURL() throws -> ConnectionURL {
        guard let raw = ProcessInfo.processInfo.environment["CUTOVER_TEST_SNOWFLAKE_URL"] else {
            throw CutoverError(.usage, "CUTOVER_TEST_SNOWFLAKE_URL is not set", hint: "run the tests with scripts/test.sh")
        }
        return try ConnectionURL(parsing: raw)
    }

    public static var hasSnowflake: Bool {
        ProcessInfo.processInfo.environment["CUTOVER_TEST_SNOWFLAKE_URL"] != nil
            || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"
    }

    /// The emulator URL pointed at a database of its own (the emulator creates it at login), so
    /// tests sharing one emulator never see each other's tables. `extra` adds URL parameters.
    public static func withSnowflakeDatabase<T>(_ extra: [String: String] = [:], _ body: (ConnectionURL) async throws -> T) async throws -> T {
        let base = try snowflakeURL()
        let name = "CUTOVER_T_" + String(UInt64.random(in: 0...UInt64.max), radix: 36).uppercased()
        let url = ConnectionURL(
            engine: .snowflake, user: base.user, password: base.password, host: base.host, port: base.port,
            database: name, schema: "PUBLIC", parameters: base.parameters.merging(extra) { _, new in new })
        return try await body(url)
    }

    /// The text form of a URL with its password, for passing to the CLI.
    public static func cliText(_ url: ConnectionURL) -> String {
        var text = "\(url.engine.rawValue)://"
        if let user = url.user { text += user + (url.password.map { ":" + $0 } ?? "") + "@" }
        text += (url.host ?? "") + (url.port.map { ":\($0)" } ?? "") + "/" + url.database + (url.schema.map { "/" + $0 } ?? "")
        if !url.parameters.isEmpty { text += "?" + url.parameters.keys.sorted().map { "\($0)=\(url.parameters[$0]!)" }.joined(separator: "&") }
        return text
    }

    /// Log records off in the test process, as in the CLI until a command turns them on (swift-log's
    /// default would print every run event of every test). Tests of log output make their own handler.
    public static let quietLogs: Void = LogOutput.bootstrap()

    /// A fresh directory under /tmp, removed after `body`.
    public static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        quietLogs
        let path = NSTemporaryDirectory() + "cutover-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// The path of a file in the shared fixtures.
    public static func fixturePath(_ name: String) -> String? {
        Bundle.module.path(forResource: (name as NSString).deletingPathExtension, ofType: (name as NSString).pathExtension, inDirectory: "Fixtures")
    }

    /// A writable copy of the Chinook sample (SQLite) in `directory`.
    public static func chinookCopy(in directory: String) throws -> String {
        guard let source = Bundle.module.path(forResource: "chinook", ofType: "sqlite", inDirectory: "Fixtures") else {
            throw CutoverError(.io, "the Chinook fixture is missing from the test bundle")
        }
        let path = (directory as NSString).appendingPathComponent("chinook.sqlite")
        try FileManager.default.copyItem(atPath: source, toPath: path)
        return path
    }
}

/// Runs the built `cutover` executable as a user would.
public enum CLI {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var output: String { stdout + stderr }
    }

    /// The executable: `CUTOVER_BIN` (set by scripts/test.sh) or the debug build next to the tests.
    public static var executable: String {
        if let path = ProcessInfo.processInfo.environment["CUTOVER_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/cutover").path
    }

    /// Runs the CLI and waits for it without blocking the cooperative thread pool.
    public static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> Result {
        try await BlockingIO.run { try runBlocking(arguments, in: directory, environment: environment) }
    }

    /// Starts the CLI (or `program`) in the background (a run to race, kill or join); its stdout and
    /// stderr go to the returned pipe, which the caller must read to the end.
    public static func start(
        _ arguments: [String], in directory: String, environment: [String: String] = [:],
        program: String = executable
    ) throws -> (process: Process, output: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return (process, output)
    }

    /// Runs a `/bin/sh` script (to check files with the system's own tools).
    public static func shell(_ script: String, in directory: String) async throws -> Result {
        try await BlockingIO.run { try runBlocking(["-c", script], in: directory, environment: [:], program: "/bin/sh") }
    }

    static func runBlocking(_ arguments: [String], in directory: String, environment: [String: String], program: String = executable) throws -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a full pipe never blocks the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
