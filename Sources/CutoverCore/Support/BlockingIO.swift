import Dispatch

/// Runs blocking C-library calls (libpq, sqlite3) off the cooperative thread pool, so a slow query
/// never starves other tasks. One hop per batch or statement, not per row.
public enum BlockingIO {
    /// A private concurrent queue: unlike `DispatchQueue.global()`, whose width on Linux is the CPU
    /// count, it may add threads while calls block, so a call waiting on the server (a lock, a
    /// COPY) can never starve the call that would release it.
    private static let queue = DispatchQueue(label: "cutover.blocking-io", attributes: .concurrent)

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}

extension BlockingIO {
    /// Runs cleanup that cannot fail meaningfully (a rollback after an error).
    public static func abandon(_ work: @escaping @Sendable () -> Void) async {
        _ = try? await run { work() }
    }
}

/// Carries a non-Sendable value across an isolation boundary where the code guarantees only one
/// task touches it at a time (a driver session used by one stream).
public struct UncheckedBox<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}
