import CutoverCore
import Foundation

/// The outcome of moving one table.
public struct TableMoveResult: Sendable, Codable {
    /// How the table's load ended; its raw value is what the store and the API say.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Every chunk committed and the closing steps ran.
        case moved
        /// Refused before loading, a chunk failed for good, the key could not be built, or a closing step failed.
        case failed
        /// The run was cancelled before every chunk committed.
        case cancelled
    }

    public var source: String
    public var target: String
    public var status: Status
    public var rows: Int64
    public var bytes: Int64
    public var seconds: Double
    public var chunks: Int
    public var error: String?
    /// Rows the target refused and `--on-error reject` set aside.
    public var rejected: Int64 = 0
    /// Target rows deleted by `--delete-missing`.
    public var deleted: Int64 = 0
    /// Chunks committed (for a table that failed part way: what stays in the target).
    public var chunksDone: Int = 0

    public var succeeded: Bool { status == .moved }

    /// For a table that did not finish: what it left in the target and what a rerun does.
    public var aftermath: String? {
        guard !succeeded else { return nil }
        if chunks == 0 { return "nothing was loaded into \(target)" }
        if chunksDone == 0 { return "\(target) holds none of its rows; a rerun of the same command loads all \(chunks) chunk(s)" }
        if chunksDone == chunks {
            return "all \(Format.count(rows)) row(s) are committed in \(target); a rerun of the same command finishes the table"
        }
        return "\(Format.count(rows)) row(s) in \(chunksDone) of \(chunks) chunk(s) were committed and stay in \(target); "
            + "a rerun of the same command resumes with the \(chunks - chunksDone) chunk(s) left"
    }
}
