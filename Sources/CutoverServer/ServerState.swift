import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// What every request handler shares: the store, the config, the token signer and the runs this
/// server started (so it can cancel them).
final class ServerState: Sendable {
    let store: any MetadataStore
    let config: CutoverConfig
    let artifactsRoot: String
    let signer: TokenSigner
    let tasks = RunningTasks()

    init(store: any MetadataStore, config: CutoverConfig, artifactsRoot: String, signer: TokenSigner) {
        self.store = store
        self.config = config
        self.artifactsRoot = artifactsRoot
        self.signer = signer
    }

    /// Starts a job in the background and returns the id of the run it records, as soon as it has
    /// one. A job that fails before it has a run is reported as the request's error.
    func start(_ job: @escaping @Sendable (Jobs) async throws -> Void) async throws -> String {
        let (ids, continuation) = AsyncStream.makeStream(of: String.self)
        let failure = FirstFailure()
        let jobs = Jobs(store: store, artifactsRoot: artifactsRoot, say: { _ in }, runStarted: { continuation.yield($0) })
        let task = Task {
            do {
                try await job(jobs)
            } catch {
                await failure.set(error)
            }
            continuation.finish()
        }
        for await id in ids {
            await tasks.add(id, task)
            return id
        }
        if let error = await failure.error { throw error }
        throw APIError(.internalServerError, "the job ended without starting a run")
    }
}

actor FirstFailure {
    private(set) var error: (any Error)?
    func set(_ error: any Error) { if self.error == nil { self.error = error } }
}

/// Background runs by id.
actor RunningTasks {
    private var tasks: [String: Task<Void, Never>] = [:]
    func add(_ id: String, _ task: Task<Void, Never>) { tasks[id] = task }
    func isRunning(_ id: String) -> Bool { tasks[id].map { !$0.isCancelled } ?? false }
}

/// A request error with the status to answer and a message (and hint) for the JSON body.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var hint: String?
    /// Who the audit log names when no one is signed in (a failed sign-in names the account tried).
    var subject: String?

    init(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil, subject: String? = nil) {
        self.status = status
        self.message = message
        self.hint = hint
        self.subject = subject
    }
}

extension HTTPField.Name {
    /// Set by a handler to name the audit entry's user when no one is signed in; never sent.
    static let auditSubject = HTTPField.Name("X-Cutover-Audit-Subject")!
}
