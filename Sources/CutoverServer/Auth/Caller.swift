import CutoverStore
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdWebSocket

/// The server's name for the store's ``UserRole`` (viewer < user < admin).
typealias Role = UserRole

/// Who is calling, as the authenticator established it: the user as the store has them now (so a
/// changed role or a deleted account counts at once, whatever the token says).
struct Caller: Sendable {
    enum Credential: String, Sendable { case session, apiToken }
    var user: UserRecord
    var role: Role
    /// The session token's claims; nil for a personal API token.
    var session: SessionTokens.Session?

    var credential: Credential { session == nil ? .apiToken : .session }

    var username: String { user.username }
    var isAdmin: Bool { role == .admin }

    /// Owners and admins may change a thing; a thing without a recorded owner only admins.
    func mayChange(ownedBy owner: String?) -> Bool { isAdmin || (owner != nil && owner == username) }
}

/// The context of every request: the caller when a valid credential came with it.
struct ServerContext: AuthRequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Caller?
    let webSocket: WebSocketHandlerReference<ServerContext>

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        webSocket = .init()
    }

    /// Bodies larger than this are refused with 413 before they are read.
    var maxUploadSize: Int { APIInput.maxBodyBytes }
}

/// The context of routes that need a signed-in caller: the caller is not optional, so no handler
/// can forget to check it. Building it fails with 401 when there is none.
struct SignedInContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let caller: Caller

    init(context: ServerContext) throws {
        guard let caller = context.identity else {
            throw APIError.refused(.unauthorized, "sign in first: this route needs a bearer token", hint: "POST /api/v1/auth/login")
        }
        coreContext = context.coreContext
        self.caller = caller
    }

    var maxUploadSize: Int { APIInput.maxBodyBytes }
}
