import CutoverCore
import CutoverStore
import Foundation
import Testing

@testable import CutoverEngine

/// The coordinator's decisions, without a database: when to look at the ledger again, when to take
/// over a lease, when to finish, and how each table ends.
@Suite struct MoveLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func chunk(
        _ number: Int, _ state: ChunkRecord.State, table: String = "main.t", leaseEnds: TimeInterval? = nil, error: String? = nil
    ) -> ChunkRecord {
        ChunkRecord(
            runID: "r", table: table, number: number, bounds: "{}", state: state, rows: state == .done ? 10 : nil,
            leaseOwner: state == .running ? "elsewhere:1:0" : nil, leaseUntil: leaseEnds.map { ISOTime.string(now.addingTimeInterval($0)) },
            error: error)
    }

    func loading() -> MoveLifecycle {
        var lifecycle = MoveLifecycle()
        #expect(lifecycle.phase == .preparing)
        #expect(lifecycle.startLoading() == .runWorkers(after: 0))
        #expect(lifecycle.phase == .loading)
        return lifecycle
    }

    @Test func finishesWhenEveryChunkIsDoneOrFailed() {
        var lifecycle = loading()
        let action = lifecycle.workersStopped(cancelled: false, ledger: [Self.chunk(0, .done), Self.chunk(1, .failed)], now: Self.now)
        #expect(action == .finishTables)
        #expect(lifecycle.phase == .finishing)
    }

    @Test func waitsForLeasesHeldElsewhereLongerWhileNothingMoves() {
        var lifecycle = loading()
        let ledger = [Self.chunk(0, .done), Self.chunk(1, .running, leaseEnds: 600)]
        var waits: [Double] = []
        for _ in 0..<6 {
            guard case .runWorkers(let wait) = lifecycle.workersStopped(cancelled: false, ledger: ledger, now: Self.now) else {
                Issue.record("finished while a chunk is held elsewhere")
                return
            }
            waits.append(wait)
        }
        #expect(lifecycle.phase == .waitingForWorkers)
        #expect(waits == [0.25, 0.5, 1, 2, 2, 2])
        // A chunk finished elsewhere: the ledger moved, so the next look comes soon again.
        let moved = [Self.chunk(0, .done), Self.chunk(1, .running, leaseEnds: 600), Self.chunk(2, .done)]
        #expect(
            lifecycle.workersStopped(cancelled: false, ledger: moved + [Self.chunk(3, .running, leaseEnds: 600)], now: Self.now)
                == .runWorkers(after: 0.25))
        #expect(lifecycle.workersStopped(cancelled: false, ledger: moved, now: Self.now) == .runWorkers(after: 0.25))
    }

    @Test func neverWaitsPastTheEarliestLeaseEnd() {
        var lifecycle = loading()
        let ledger = [Self.chunk(0, .running, leaseEnds: 0.1), Self.chunk(1, .running, leaseEnds: 600)]
        guard case .runWorkers(let wait) = lifecycle.workersStopped(cancelled: false, ledger: ledger, now: Self.now) else {
            Issue.record("finished with chunks held elsewhere")
            return
        }
        #expect(abs(wait - 0.1) < 0.002)  // the store keeps lease ends to the millisecond
    }

    @Test func takesOverALeaseThatRanOutAtOnce() {
        var lifecycle = loading()
        let ledger = [Self.chunk(0, .done), Self.chunk(1, .running, leaseEnds: -5)]
        #expect(lifecycle.workersStopped(cancelled: false, ledger: ledger, now: Self.now) == .runWorkers(after: 0))
        #expect(lifecycle.phase == .loading)
        // The workers came back without taking it (another process did first): back off, no busy loop.
        guard case .runWorkers(let wait) = lifecycle.workersStopped(cancelled: false, ledger: ledger, now: Self.now) else {
            Issue.record("finished with a chunk unfinished")
            return
        }
        #expect(wait >= 0.25)
    }

    @Test func aReleasedChunkIsClaimedAgain() {
        var lifecycle = loading()
        #expect(lifecycle.workersStopped(cancelled: false, ledger: [Self.chunk(0, .pending)], now: Self.now) == .runWorkers(after: 0))
    }

    @Test func aLeaseWhoseEndDoesNotReadIsTakenAsLive() {
        var lifecycle = loading()
        var held = Self.chunk(0, .running)
        held.leaseUntil = "soon"
        #expect(lifecycle.workersStopped(cancelled: false, ledger: [held], now: Self.now) == .runWorkers(after: 0.25))
    }

    @Test func aCancelSeenByAnyPoolStopsTheWaitAndStays() {
        var lifecycle = loading()
        let ledger = [Self.chunk(0, .done), Self.chunk(1, .running, leaseEnds: 600)]
        _ = lifecycle.workersStopped(cancelled: false, ledger: ledger, now: Self.now)
        #expect(lifecycle.workersStopped(cancelled: true, ledger: ledger, now: Self.now) == .finishTables)
        #expect(lifecycle.isCancelled)
        #expect(lifecycle.finish("main.t", chunks: ledger, keyFailure: nil) == .init(status: .cancelled, error: "1 of 2 chunks not loaded"))
    }

    @Test func tableOutcomes() {
        var lifecycle = loading()
        _ = lifecycle.workersStopped(cancelled: false, ledger: [], now: Self.now)
        let done = [Self.chunk(0, .done), Self.chunk(1, .done)]
        #expect(lifecycle.finish("a", chunks: done, keyFailure: nil) == .init(status: .moved))
        #expect(lifecycle.finish("a", chunks: done, keyFailure: nil).closes)
        // The first real error, not the "skipped" ones the failure caused in the table's other chunks.
        let failed = [
            Self.chunk(0, .failed, error: "skipped: another chunk of this table failed"), Self.chunk(1, .failed, error: "value too long"),
            Self.chunk(2, .done),
        ]
        let outcome = lifecycle.finish("b", chunks: failed, keyFailure: nil)
        #expect(outcome == .init(status: .failed, error: "value too long"))
        #expect(!outcome.closes)
        // Every row landed, but the key the load deferred could not be built: failed, and no closing steps.
        let keyless = lifecycle.finish("c", chunks: done, keyFailure: "the primary key could not be built")
        #expect(keyless == .init(status: .failed, error: "the primary key could not be built"))
        #expect(!keyless.closes)
        lifecycle.refuse("d", reason: "target table public.d already has 3 rows")
        #expect(lifecycle.refused["d"] == "target table public.d already has 3 rows")
        #expect(lifecycle.loadedTables == ["a"])
        lifecycle.closingFailed("a", error: "ANALYZE failed")
        #expect(lifecycle.loadedTables.isEmpty)
        lifecycle.finished()
        #expect(lifecycle.phase == .finished)
    }

    @Test func keyFailureNamesTheStatementToRun() {
        let message = MoveLifecycle.keyFailureMessage(
            statement: "SET LOCAL maintenance_work_mem = '512MB'; ALTER TABLE \"public\".\"t\" ADD PRIMARY KEY (\"id\")",
            error: "could not create unique index")
        #expect(
            message
                == "the primary key could not be built after the load (could not create unique index); the rows are loaded: "
                + "remove the duplicate keys and run ALTER TABLE \"public\".\"t\" ADD PRIMARY KEY (\"id\"), or rerun with --replace")
    }
}
