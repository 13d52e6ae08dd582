import Foundation

/// Faults a test injects into a real run: `CUTOVER_FAILPOINTS=move.finish:2,validate.compare:1`
/// makes each named point fail the first N times it is passed, with the error a dropped database
/// connection raises; `move.chunk:1@2` lets it pass twice first; `move.chunk.sleep:20` makes every
/// pass of `move.chunk` take 20 ms longer (a slow database); `move.chunk.hold:1` lets one pass
/// through, then holds every later pass until the file `CUTOVER_FAILPOINT_RELEASE` names exists
/// (at most two minutes), so a test that races a run decides when it goes on instead of hoping
/// the machine is fast enough. Unset — always, outside the test suite — a point costs one
/// dictionary lookup.
/// Points: `move.chunk` (loading one chunk), `move.finish` (a step after the chunks), `validate.compare`
/// (one table's compare).
public enum Failpoint {
    /// Per point: how many passes go through first, then how many fail.
    private static let plan: [String: (skip: Int, fail: Int)] = {
        guard let spec = ProcessInfo.processInfo.environment["CUTOVER_FAILPOINTS"] else { return [:] }
        var plan: [String: (skip: Int, fail: Int)] = [:]
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2 else { continue }
            let counts = parts[1].split(separator: "@")
            if let fail = Int(counts[0]) { plan[String(parts[0])] = (counts.count == 2 ? Int(counts[1]) ?? 0 : 0, fail) }
        }
        return plan
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var passed: [String: Int] = [:]  // guarded by `lock`

    /// ``check(_:)``, after the point's `.sleep` delay and `.hold` if they are set.
    public static func pass(_ name: String) async throws {
        if let (_, milliseconds) = plan[name + ".sleep"] { try await Task.sleep(nanoseconds: UInt64(max(0, milliseconds)) * 1_000_000) }
        if let (_, free) = plan[name + ".hold"], count(name + ".hold") > free,
            let release = ProcessInfo.processInfo.environment["CUTOVER_FAILPOINT_RELEASE"]
        {
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: release), Date() < deadline {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        try check(name)
    }

    /// Counts one more pass of `name` and returns the count.
    private static func count(_ name: String) -> Int {
        lock.withLock {
            passed[name, default: 0] += 1
            return passed[name, default: 0]
        }
    }

    public static func check(_ name: String) throws {
        guard let (skip, fail) = plan[name] else { return }
        let count = count(name)
        if count > skip, count <= skip + fail {
            throw CutoverError(.connectionFailed, "failpoint \(name) (\(count - skip) of \(fail)): server closed the connection unexpectedly")
        }
    }
}
