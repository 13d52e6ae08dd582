import CutoverTesting
import Foundation

/// `cutover serve` on a free loopback port in a test's directory, for tests that drive it over HTTP.
final class ServeProcess {
    let port: Int
    private let process = Process()

    var base: String { "http://127.0.0.1:\(port)" }

    init(in directory: String, arguments: [String] = [], environment: [String: String] = [:], standardError: FileHandle = .nullDevice) throws {
        port = try FaultProxy.freePort()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["serve", "--port", String(port)] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = standardError
        try process.run()
    }

    /// Whether the server is still up (it did not die under what a test sent it).
    var isRunning: Bool { process.isRunning }

    /// SIGKILL: processes the test runner starts may block SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
