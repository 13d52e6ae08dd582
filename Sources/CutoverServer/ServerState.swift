import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// What every request handler shares: the store, the config, session tokens, the connection gate
/// and the running jobs.
final class ServerState: Sendable {
    let store: any MetadataStore
    let config: CutoverConfig
    let artifactsRoot: String
    let sessions: SessionTokens
    let connections: ConnectionGate
    let jobs: JobService
    /// Whether the first visitor may create the first (admin) account.
    let firstUserSignUp: Bool
    /// Sign-in with the identity provider (`auth.oidc`), if configured.
    let oidc: OIDCSignIn?
    /// Whether user names and passwords kept in the store sign in (`auth.local_accounts`).
    var localAccounts: Bool { config.auth.localAccounts ?? true }

    init(
        store: any MetadataStore, config: CutoverConfig, artifactsRoot: String, sessions: SessionTokens, firstUserSignUp: Bool, publicURL: String
    ) throws {
        self.store = store
        self.config = config
        self.artifactsRoot = artifactsRoot
        self.sessions = sessions
        self.firstUserSignUp = firstUserSignUp
        oidc = try config.auth.oidc.map { try OIDCSignIn(config: $0, defaultPublicURL: publicURL) }
        if config.auth.localAccounts == false, oidc == nil {
            throw CutoverError(.config, "auth.local_accounts is false and no auth.oidc provider is configured: nobody could sign in")
        }
        connections = ConnectionGate(config: config, store: store, oidc: oidc)
        jobs = JobService(store: store, artifactsRoot: artifactsRoot)
    }
}

extension HTTPField.Name {
    /// Set by a handler to name the audit entry's user when no one is signed in; never sent.
    static let auditSubject = HTTPField.Name("X-Cutover-Audit-Subject")!
    /// On an export that holds fewer entries than matched (narrow it with `since`).
    static let truncated = HTTPField.Name("X-Cutover-Truncated")!
}
