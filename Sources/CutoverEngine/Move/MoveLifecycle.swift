import CutoverCore
import CutoverStore
import Foundation

/// The coordinator's side of one `cutover migrate` run as a value: what it saw (tables prepared or
/// refused, the ledger after its workers stopped, a cancel) goes in, what to do next comes out.
///
/// No I/O happens here, so every path — workers elsewhere still holding chunks, a lease that ran
/// out, a cancel while waiting, a key that cannot be built — is tested without a database
/// (PostgresNIO's connection state machine is the model). ``Mover`` does the I/O the actions name.
struct MoveLifecycle: Sendable {
    enum Phase: Sendable, Equatable {
        /// Creating target tables and chunk ledgers.
        case preparing
        /// This process's workers are loading chunks.
        case loading
        /// Only workers elsewhere hold chunks: the ledger is looked at again after a wait.
        case waitingForWorkers
        /// Every chunk is done or failed, or the run was cancelled: tables are being finished.
        case finishing
        /// Every table has its outcome.
        case finished
    }

    /// What the coordinator does after its workers stopped.
    enum Action: Sendable, Equatable {
        /// Run this process's workers again after waiting this long (0: now). They take over chunks
        /// whose lease ran out and chunks released back to pending; with none, they return at once.
        case runWorkers(after: Double)
        /// Finish the tables: every chunk is done or failed, or the run was cancelled.
        case finishTables
    }

    /// How a table ended, from its ledger and its closing steps.
    struct TableOutcome: Sendable, Equatable {
        var status: TableMoveResult.Status
        var error: String?
        /// Every chunk committed and the key was built: run the closing steps (identity, ANALYZE,
        /// watermark, deletes).
        var closes: Bool { status == .moved }
    }

    /// Waits while workers elsewhere hold chunks: short after progress, doubling to `maximumWait`
    /// while the ledger does not move, never past the earliest lease's end.
    static let firstWait = 0.25
    static let maximumWait = 2.0

    private(set) var phase: Phase = .preparing
    /// Sticky: a cancel seen by any pool of workers cancels the run.
    private(set) var isCancelled = false
    private(set) var refused: [String: String] = [:]
    private(set) var outcomes: [String: TableOutcome] = [:]
    private var unfinishedAtLastLook: Int?
    private var quietLooks = 0

    // MARK: Preparing

    /// A table that could not be prepared (a target that is not empty, a type with no mapping, …):
    /// it loads nothing and ends failed with `reason`.
    mutating func refuse(_ table: String, reason: String) {
        refused[table] = reason
        outcomes[table] = TableOutcome(status: .failed, error: reason)
    }

    /// Tables are prepared and their chunks are in the ledger: load them.
    mutating func startLoading() -> Action {
        phase = .loading
        return .runWorkers(after: 0)
    }

    // MARK: Loading

    /// This process's workers stopped (no chunk left to claim, or a cancel). `ledger` is every
    /// chunk of the run as the store has it now.
    mutating func workersStopped(cancelled: Bool, ledger: [ChunkRecord], now: Date) -> Action {
        isCancelled = isCancelled || cancelled
        let unfinished = ledger.filter { $0.state == .pending || $0.state == .running }
        if isCancelled || unfinished.isEmpty {
            phase = .finishing
            return .finishTables
        }
        let moved = unfinishedAtLastLook != unfinished.count
        unfinishedAtLastLook = unfinished.count
        quietLooks = moved ? 0 : quietLooks + 1
        let leaseEnds = unfinished.compactMap { chunk -> Date? in
            guard chunk.state == .running else { return nil }
            // A lease whose end does not read is taken as live: the store decides when claiming.
            return chunk.leaseUntil.flatMap(ISOTime.parse) ?? .distantFuture
        }
        let claimable = unfinished.contains { $0.state == .pending } || leaseEnds.contains { $0 <= now }
        if claimable && moved {
            phase = .loading
            return .runWorkers(after: 0)
        }
        phase = .waitingForWorkers
        var wait = min(Self.maximumWait, Self.firstWait * pow(2, Double(min(quietLooks, 8))))
        if let earliest = leaseEnds.filter({ $0 > now }).min() { wait = min(wait, earliest.timeIntervalSince(now)) }
        return .runWorkers(after: max(0.05, wait))
    }

    // MARK: Finishing

    /// A prepared table's outcome from its chunks in the ledger and whether its deferred primary key
    /// was built (`keyFailure`: why not). The first real chunk error wins over the "skipped" ones
    /// that followed it.
    mutating func finish(_ table: String, chunks: [ChunkRecord], keyFailure: String?) -> TableOutcome {
        let done = chunks.filter { $0.state == .done }.count
        let outcome: TableOutcome
        if let keyFailure {
            outcome = TableOutcome(status: .failed, error: keyFailure)
        } else if done < chunks.count {
            outcome = TableOutcome(
                status: isCancelled ? .cancelled : .failed,
                error: chunks.first { $0.state == .failed && !($0.error ?? "").hasPrefix("skipped") }?.error
                    ?? "\(chunks.count - done) of \(chunks.count) chunks not loaded")
        } else {
            outcome = TableOutcome(status: .moved)
        }
        outcomes[table] = outcome
        return outcome
    }

    /// A closing step of a loaded table failed: the table fails with it.
    mutating func closingFailed(_ table: String, error: String) {
        outcomes[table] = TableOutcome(status: .failed, error: error)
    }

    /// Tables whose rows all landed and closed: their foreign keys and indexes are added now.
    var loadedTables: Set<String> { Set(outcomes.filter { $0.value.status == .moved }.keys) }

    /// Every table has its outcome.
    mutating func finished() {
        phase = .finished
    }

    /// What the message of a key that could not be built after the load tells the user to run.
    static func keyFailureMessage(statement: String, error: String) -> String {
        let lastStatement = statement.split(separator: ";").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? statement
        return "the primary key could not be built after the load (\(error)); the rows are loaded: "
            + "remove the duplicate keys and run \(lastStatement), or rerun with --replace"
    }
}
