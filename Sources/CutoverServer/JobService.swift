import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Logging
import ServiceLifecycle

/// The server's background jobs — migrations, validations, batch items — as one service beside
/// the HTTP server. On a graceful shutdown (SIGTERM, SIGINT) the jobs are cancelled: each stops
/// after the chunks it has in flight and records its run as `interrupted`, which a later
/// `POST /api/v1/migrations/{id}/resume` (or the same request again) continues from the ledger.
/// Runs of a server that died without a shutdown are found by their expired leases.
final class JobService: Service, Sendable {
    let store: any MetadataStore
    let artifactsRoot: String
    /// Poked when a job ends: the alert service evaluates at once.
    let jobEnded: AlertNudge
    private let running = RunningJobs()

    init(store: any MetadataStore, artifactsRoot: String, jobEnded: AlertNudge = AlertNudge()) {
        self.store = store
        self.artifactsRoot = artifactsRoot
        self.jobEnded = jobEnded
    }

    /// Jobs run in the request (rules, connection tests), recorded as `caller`'s.
    func jobs(for caller: Caller?) -> Jobs {
        Jobs(
            store: store, artifactsRoot: artifactsRoot, say: { _ in }, startedBy: caller?.username, refusePrivilegedRoles: !(caller?.isAdmin ?? false)
        )
    }

    /// A job started in the background: the id of the first run it recorded (nil when it ended
    /// before it had one) and the task it runs in.
    struct Launched {
        var runID: String?
        var task: Task<Void, any Error>
    }

    /// Starts a job for `caller` and waits until it has a run id (or has ended without one).
    func launch(by caller: Caller?, request: String? = nil, _ job: @escaping @Sendable (Jobs) async throws -> Void) async -> Launched {
        let (ids, continuation) = AsyncStream.makeStream(of: String.self)
        let jobs = Jobs(
            store: store, artifactsRoot: artifactsRoot, say: { _ in }, runStarted: { continuation.yield($0) },
            startedBy: caller?.username, request: request, refusePrivilegedRoles: !(caller?.isAdmin ?? false))
        let key = UUID()
        let task = Task<Void, any Error> { [running, jobEnded] in
            defer {
                continuation.finish()
                jobEnded.poke()
                Task { await running.remove(key) }
            }
            try await job(jobs)
        }
        await running.add(key, task)
        var first: String?
        for await id in ids {
            first = id
            break
        }
        return Launched(runID: first, task: task)
    }

    /// Starts a job and returns the id of the run it records as soon as it has one. A job that
    /// fails before it has a run is reported as the request's error.
    func start(by caller: Caller, request: String? = nil, _ job: @escaping @Sendable (Jobs) async throws -> Void) async throws -> String {
        let launched = await launch(by: caller, request: request, job)
        if let id = launched.runID { return id }
        try await launched.task.value
        throw APIError(.internalServerError, "the job ended without starting a run")
    }

    func run() async throws {
        // Runs a server that died left behind: nobody renews their leases any more.
        try await store.interruptRuns(ownedBy: nil)
        try? await gracefulShutdown()  // returns when the shutdown begins (or the task is cancelled)
        await running.cancelAll(waitingUpTo: 30)
        // Whatever did not stop in time is still this process's to release.
        try await store.interruptRuns(ownedBy: RunLease.processPrefix)
    }
}

/// The tasks of the jobs this server runs.
actor RunningJobs {
    private var tasks: [UUID: Task<Void, any Error>] = [:]

    func add(_ key: UUID, _ task: Task<Void, any Error>) { tasks[key] = task }
    func remove(_ key: UUID) { tasks[key] = nil }

    /// Cancels every job and waits for them to record how they stopped, at most `seconds`.
    func cancelAll(waitingUpTo seconds: Double) async {
        let all = Array(tasks.values)
        for task in all { task.cancel() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for task in all { _ = await task.result }
            }
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }  // cancelled when the jobs finish first
            await group.next()
            group.cancelAll()
        }
    }
}
