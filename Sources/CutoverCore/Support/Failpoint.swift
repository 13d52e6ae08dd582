import Foundation

/// Faults a test injects into a real run: `CUTOVER_FAILPOINTS=move.finish:2,validate.compare:1`
/// makes each named point fail the first N times it is passed, with the error a dropped database
/// connection raises. Unset — always, outside the test suite — a point costs one dictionary lookup.
/// Points: `move.finish` (a step after the chunks), `validate.compare` (one table's compare).
public enum Failpoint {
    private static let counts: [String: Int] = {
        guard let spec = ProcessInfo.processInfo.environment["CUTOVER_FAILPOINTS"] else { return [:] }
        var counts: [String: Int] = [:]
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: ":")
            if parts.count == 2, let count = Int(parts[1]) { counts[String(parts[0])] = count }
        }
        return counts
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var passed: [String: Int] = [:]  // guarded by `lock`

    public static func check(_ name: String) throws {
        guard let limit = counts[name] else { return }
        let count: Int = lock.withLock {
            passed[name, default: 0] += 1
            return passed[name, default: 0]
        }
        if count <= limit {
            throw CutoverError(.connectionFailed, "failpoint \(name) (\(count) of \(limit)): server closed the connection unexpectedly")
        }
    }
}
