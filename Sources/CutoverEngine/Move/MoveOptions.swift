import CutoverCore
import Foundation

/// Options for `cutover migrate`.
public struct MoveOptions: Sendable {
    /// How rows land in the target: copy (replace), append, or upsert by key.
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        /// Load into empty tables; a table that already has rows is refused unless `replace`.
        case copy
        /// Add rows to whatever is there.
        case append
        /// Insert new rows and update rows with the same key.
        case upsert
    }

    public var mode: Mode
    /// Drop and re-create target tables first (a fresh load).
    public var replace: Bool
    /// Empty target tables first, keeping their definition.
    public var truncate: Bool
    /// Rows per batch read from the source.
    public var batchSize: Int
    /// Target rows per chunk.
    public var rowsPerChunk: Int64
    /// Target bytes per chunk; when set, it wins over `rowsPerChunk`, using each table's average row size.
    public var bytesPerChunk: Int64?
    /// Chunks loaded at once.
    public var parallel: Int
    /// Incremental load by this watermark column (moves rows past the stored high watermark, upserting).
    public var watermark: String?
    /// Require an unfinished run of the same plan to resume.
    public var resume: Bool
    public var retry: RetryPolicy
    /// What a row the target refuses does: fail its table, or be set aside as a reject.
    public var onError: OnError
    /// After loading, delete target rows whose key no longer exists at the source.
    public var deleteMissing: Bool
    /// Drop an existing target table's secondary indexes for the load and rebuild them after.
    public var rebuildIndexes: Bool
    /// Per-table settings that win over the fields above (`table_settings:` in cutover.yml, or the API's).
    public var tables: [String: TableSettings] = [:]

    /// The options one table moves with: these, with its `tables` entry applied.
    public func forTable(_ table: TableRef) throws -> MoveOptions {
        guard let settings = TableSettings.lookup(tables, for: table) else { return self }
        var options = self
        if let text = settings.mode {
            guard let mode = Mode(rawValue: text) else {
                throw CutoverError(
                    .config, "table_settings for \(table): mode \(text) is not copy, append or upsert", context: ["table": table.description])
            }
            options.mode = mode
        }
        if let watermark = settings.watermark {
            options.watermark = watermark
            options.mode = .upsert
        }
        if let truncate = settings.truncate { options.truncate = truncate }
        if let rows = settings.chunkRows {
            guard rows > 0 else {
                throw CutoverError(.config, "table_settings for \(table): chunk_rows must be positive", context: ["table": table.description])
            }
            options.rowsPerChunk = rows
            options.bytesPerChunk = nil
        }
        return options
    }

    /// True when any table loads incrementally.
    public var isIncremental: Bool { watermark != nil || tables.values.contains { $0.watermark != nil } }

    /// What a row the target refuses does: stop its table, or be set aside as a reject.
    public enum OnError: String, Sendable, Hashable, CaseIterable {
        /// Stop the table with a message naming table, key and column.
        case fail
        /// Load every other row; rejected rows and reasons go to the store's `rejects` table.
        case reject
    }

    public init(
        mode: Mode = .copy, replace: Bool = false, truncate: Bool = false, batchSize: Int = 10_000, rowsPerChunk: Int64 = 250_000,
        parallel: Int = ProcessInfo.processInfo.activeProcessorCount, watermark: String? = nil, resume: Bool = false,
        retry: RetryPolicy = RetryPolicy(), onError: OnError = .fail, deleteMissing: Bool = false, bytesPerChunk: Int64? = nil,
        rebuildIndexes: Bool = false
    ) {
        self.rebuildIndexes = rebuildIndexes
        self.bytesPerChunk = bytesPerChunk
        self.onError = onError
        self.deleteMissing = deleteMissing
        self.mode = mode
        self.replace = replace
        self.truncate = truncate
        self.batchSize = batchSize
        self.rowsPerChunk = rowsPerChunk
        self.parallel = min(16, max(1, parallel))
        self.watermark = watermark
        self.resume = resume
        self.retry = retry
    }
}
