import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The one way a request is authenticated, for HTTP, Server-Sent Events and WebSocket upgrades
/// alike: a bearer token in the `Authorization` header — a session JWT or a personal `cut_` token.
/// Only the event streams also take `access_token=` in the query, because browsers' EventSource
/// and WebSocket cannot set headers; everywhere else a token in a URL would end up in logs.
struct CallerAuthenticator: AuthenticatorMiddleware {
    typealias Context = ServerContext
    let state: ServerState

    static let queryTokenPaths: Set<String> = ["/api/v1/events", "/api/v1/events/ws"]

    func authenticate(request: Request, context: ServerContext) async throws -> Caller? {
        let token =
            request.headers.bearer?.token
            ?? (Self.queryTokenPaths.contains(request.uri.path) ? request.uri.queryParameters.get("access_token") : nil)
        guard let token, !token.isEmpty else { return nil }
        return try await state.caller(presenting: token)
    }
}

extension ServerState {
    /// The caller a token stands for, or nil when it is not a live token of a user who still exists.
    func caller(presenting token: String) async throws -> Caller? {
        let user: UserRecord?
        var session: SessionTokens.Session?
        if token.hasPrefix(APITokens.prefix) {
            user = try await store.user(apiTokenHash: APITokens.hash(token))
        } else if let signed = await sessions.session(of: token) {
            user = try await store.user(username: signed.username)
            session = signed
        } else {
            return nil
        }
        guard let user, !user.isDisabled else { return nil }
        if let session {
            // Signed out: every session of the user (a password change, disabled) or this one alone.
            if let after = user.sessionsValidAfter.flatMap(ISOTime.parse), session.issuedAt < after { return nil }
            if let id = session.id, try await store.isSessionRevoked(id: id) { return nil }
        }
        return Caller(user: user, role: user.role, session: session)
    }
}
