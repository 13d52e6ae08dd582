import CutoverCore
import Foundation

/// Exponential backoff with full jitter for errors worth retrying: lost connections, serialization
/// failures and deadlocks, too many connections, a server shutting down.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return ceiling * random
    }

    /// Runs `work`, trying again after transient failures with backoff; `retrying` hears of each
    /// retry (attempt, error, delay) so it can be logged. Other errors, and the last one, are thrown.
    public func run<T>(_ work: () async throws -> T, retrying: (Int, any Error, Double) async -> Void = { _, _, _ in }) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await work()
            } catch  where Self.isTransient(error) && attempt < maxAttempts {
                let wait = delay(afterAttempt: attempt)
                await retrying(attempt, error, wait)
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                attempt += 1
            }
        }
    }

    /// Whether an error is transient: the same work may succeed if tried again.
    public static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? CutoverError else { return false }
        if error.code == .connectionFailed { return true }
        let state = error.context["sqlstate"] ?? ""
        // 40001 serialization, 40P01 deadlock, 53300 too many connections, 57P01-03 shutdown, 08xxx connection.
        if ["40001", "40P01", "53300", "57P01", "57P02", "57P03"].contains(state) || state.hasPrefix("08") { return true }
        let text = error.message.lowercased()
        return text.contains("server closed the connection") || text.contains("connection refused")
            || text.contains("terminating connection") || text.contains("could not receive data") || text.contains("no connection to the server")
            || text.contains("database is locked")
    }
}
