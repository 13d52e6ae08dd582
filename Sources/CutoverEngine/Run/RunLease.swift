import CutoverCore
import CutoverStore
import Foundation

/// Who coordinates a run, and for how long. A coordinator (`cutover migrate`, a server job) holds a
/// lease on its run in the store and renews it while it works; a second process on the same plan
/// finds the lease held and stops with a message, instead of taking over chunks. A lease that ran
/// out — or one held by a process on this host that no longer exists — may be taken over, which is
/// how a rerun resumes after a crash.
public enum RunLease {
    /// How long a lease holds without renewal.
    public static let seconds = 30
    /// How often a coordinator renews it.
    static let renewEvery: UInt64 = 10_000_000_000

    static let host = ProcessInfo.processInfo.hostName

    /// A new coordinator identity of this process: `host:pid:nonce`.
    static func newOwner() -> String {
        "\(host):\(getpid()):\(String(format: "%08x", UInt32.random(in: 0...UInt32.max)))"
    }

    /// The `host:pid:` prefix every coordinator of this process has.
    public static var processPrefix: String { "\(host):\(getpid()):" }

    /// True when `owner` is a coordinator of a process on this host that has exited.
    static func isGone(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":")
        guard parts.count >= 3, String(parts[0]) == host, let pid = Int32(parts[1]), pid > 0 else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Why `run` cannot be taken over now, or nil when it can.
    static func heldElsewhere(_ run: RunRecord, now: String = ISOTime.now()) -> String? {
        guard run.status.isActive, let owner = run.leaseOwner, let until = run.leaseUntil, until >= now,
            !isGone(owner)
        else { return nil }
        let parts = owner.split(separator: ":")
        let who = parts.count >= 2 ? "process \(parts[1]) on \(parts[0])" : owner
        return "run \(run.id) of this plan is running: \(who) coordinates it (lease renewed until \(until))"
    }

    /// Makes this process `run`'s coordinator, taking over from a coordinator that is gone;
    /// returns the new owner identity. Throws `runBusy` when another live process holds it.
    static func take(_ run: RunRecord, store: any RunRepository, busyHint: String) async throws -> String {
        if let busy = heldElsewhere(run) { throw CutoverError(.runBusy, busy, hint: busyHint) }
        let owner = newOwner()
        let deadOwner = run.leaseOwner.flatMap { isGone($0) ? $0 : nil }
        guard try await store.claimRun(id: run.id, owner: owner, leaseSeconds: seconds, replacing: deadOwner) else {
            throw CutoverError(
                .runBusy, "run \(run.id) of this plan was just taken over by another process",
                hint: "`cutover runs show \(run.id)` shows who runs it")
        }
        return owner
    }
}

/// Renews a run's lease in the background until stopped; remembers when it was lost.
final class LeaseKeeper: @unchecked Sendable {
    // @unchecked: `lost` is written by the renewal task and read by the coordinator; a stale read
    // only delays noticing the loss by one renewal.
    private(set) var lost = false
    private var task: Task<Void, Never>?

    init(store: any RunRepository, runID: String, owner: String) {
        task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: RunLease.renewEvery)  // cancelled: the loop ends
                if Task.isCancelled { return }
                do {
                    if try await !store.renewRunLease(id: runID, owner: owner, leaseSeconds: RunLease.seconds) {
                        self?.lost = true
                        return
                    }
                } catch {
                    continue  // the store is away for now: the lease holds until it runs out
                }
            }
        }
    }

    func stop() {
        task?.cancel()
        task = nil
    }

    deinit { task?.cancel() }
}
