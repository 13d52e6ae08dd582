import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// What every request handler shares: the store, the config and the token signer; and how jobs
/// are started in the background.
final class ServerState: Sendable {
    let store: any MetadataStore
    let config: CutoverConfig
    let artifactsRoot: String
    let signer: TokenSigner

    init(store: any MetadataStore, config: CutoverConfig, artifactsRoot: String, signer: TokenSigner) {
        self.store = store
        self.config = config
        self.artifactsRoot = artifactsRoot
        self.signer = signer
    }

    /// A job started in the background: the id of the first run it recorded (nil when it ended
    /// before it had one) and the task it runs in.
    struct Launched {
        var runID: String?
        var task: Task<Void, any Error>
    }

    /// Starts a job in the background and waits until it has a run id (or has ended without one).
    func launch(_ job: @escaping @Sendable (Jobs) async throws -> Void) async -> Launched {
        let (ids, continuation) = AsyncStream.makeStream(of: String.self)
        let jobs = Jobs(store: store, artifactsRoot: artifactsRoot, say: { _ in }, runStarted: { continuation.yield($0) })
        let task = Task<Void, any Error> {
            defer { continuation.finish() }
            try await job(jobs)
        }
        var first: String?
        for await id in ids {
            first = id
            break
        }
        return Launched(runID: first, task: task)
    }

    /// Starts a job and returns the id of the run it records as soon as it has one. A job that
    /// fails before it has a run is reported as the request's error.
    func start(_ job: @escaping @Sendable (Jobs) async throws -> Void) async throws -> String {
        let launched = await launch(job)
        if let id = launched.runID { return id }
        try await launched.task.value
        throw APIError(.internalServerError, "the job ended without starting a run")
    }
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
