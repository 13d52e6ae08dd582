import Foundation

/// An in-process cache with a time to live per entry, in front of the store's hot reads, with
/// hit and miss counts for `cutover store stats`.
public final class TTLCache: @unchecked Sendable {
    private struct Entry {
        let value: any Sendable
        let expires: Date
    }
    private var entries: [String: Entry] = [:]
    private var hits = 0
    private var misses = 0
    private let lock = NSLock()

    public init() {}

    public func value<T: Sendable>(_ key: String, as type: T.Type, now: Date = Date()) -> T? {
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[key], entry.expires > now, let value = entry.value as? T {
            hits += 1
            return value
        }
        misses += 1
        return nil
    }

    public func store(_ key: String, _ value: any Sendable, for seconds: TimeInterval, now: Date = Date()) {
        guard seconds > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        entries[key] = Entry(value: value, expires: now.addingTimeInterval(seconds))
    }

    /// Forgets entries whose key starts with `prefix` (all with ""), after a write that changes them.
    public func invalidate(prefix: String) {
        lock.lock()
        defer { lock.unlock() }
        entries = entries.filter { !$0.key.hasPrefix(prefix) }
    }

    public var counts: (entries: Int, hits: Int, misses: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (entries.count, hits, misses)
    }
}
