import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// Sign-in with the identity provider (`auth.oidc` in cutover.yml): the browser is sent to the
/// provider and comes back to the callback, which creates or updates the user (role from the
/// provider on every sign-in) and hands the console a session token in the URL fragment (never
/// sent to a server, so never in a log).
enum OIDCRoutes {
    struct Providers: Codable {
        struct Provider: Codable {
            var name: String
            var start: String
        }
        var localAccounts: Bool
        var providers: [Provider]
    }

    static let startPath = "/auth/oidc/start"
    static let callbackPath = "/auth/oidc/callback"

    static func register(_ routes: RouteTable) {
        let state = routes.state
        routes.addPublic(
            .get, "/api/v1/auth/providers", "How to sign in: local accounts on or off, and the identity provider's button",
            answer: .json(Providers.self, status: .ok)
        ) { _, _ in
            try JSON.response(
                Providers(
                    localAccounts: state.localAccounts,
                    providers: state.oidc.map { [Providers.Provider(name: $0.name, start: startPath)] } ?? []))
        }
        guard let oidc = state.oidc else { return }
        routes.router.get(RouterPath(startPath)) { _, _ -> Response in
            do {
                return redirect(try await oidc.start())
            } catch {
                return redirect("/login#error=" + OIDCSignIn.formEncode(message(of: error)))
            }
        }
        routes.router.get(RouterPath(callbackPath)) { request, _ -> Response in
            let query = request.uri.queryParameters
            do {
                if let refused = query.get("error") {
                    throw CutoverError(
                        .authenticationFailed,
                        "\(oidc.name) refused the sign-in: \(refused)" + (query.get("error_description").map { " (\($0))" } ?? ""))
                }
                guard let code = query.get("code"), let returned = query.get("state") else {
                    throw CutoverError(.authenticationFailed, "the provider came back without a code and state")
                }
                let signedIn = try await oidc.finish(code: code, state: returned)
                let user = try await saveUser(signedIn, issuer: oidc.config.issuer, store: state.store)
                let (token, expires) = try await state.sessions.token(username: user.username)
                let details = try JSON.encoder.encode(["provider": oidc.config.issuer, "subject": signedIn.subject, "role": signedIn.role.rawValue])
                try await state.store.audit(
                    AuditRecord(
                        username: user.username, action: "user.login", resource: "GET \(callbackPath)", outcome: "200",
                        details: String(decoding: details, as: UTF8.self)))
                return redirect("/login#token=\(OIDCSignIn.formEncode(token))&expires_at=\(OIDCSignIn.formEncode(ISOTime.string(expires)))")
            } catch {
                let status: HTTPResponse.Status = (error as? CutoverError)?.code == .notPermitted ? .forbidden : .unauthorized
                try await state.store.audit(
                    try .failure(username: nil, action: "user.login", resource: "GET \(callbackPath)", status: status, message: message(of: error)))
                return redirect("/login#error=" + OIDCSignIn.formEncode(message(of: error)))
            }
        }
    }

    /// Creates the provider's user on first sign-in, or refreshes its role; refuses a local
    /// account of the same name (that would hand its data to whoever the provider calls so).
    static func saveUser(_ signedIn: OIDCSignIn.SignedIn, issuer: String, store: any MetadataStore) async throws -> UserRecord {
        var user: UserRecord
        if let existing = try await store.user(username: signedIn.username) {
            guard existing.provider == issuer else {
                throw CutoverError(
                    .notPermitted, "\(signedIn.username) is a local account here; it cannot be taken over by a sign-in with the identity provider",
                    hint: "an admin removes the local account, or sets auth.oidc.username_claim so provider users get other names")
            }
            guard !existing.isDisabled else {
                throw CutoverError(.notPermitted, "the account \(signedIn.username) is disabled", hint: "ask an admin to enable it")
            }
            user = existing
            user.role = signedIn.role
        } else {
            user = UserRecord(username: signedIn.username, passwordHash: "", role: signedIn.role, provider: issuer)
        }
        user.lastLoginAt = ISOTime.now()
        try await store.saveUser(user)
        return user
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func message(of error: any Error) -> String {
        (error as? CutoverError).map { $0.message + ($0.hint.map { " — \($0)" } ?? "") } ?? error.redactedDescription
    }
}
