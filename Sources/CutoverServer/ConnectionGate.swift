import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

/// Which connections a request may use. Users and viewers name connections an admin defined in
/// `cutover.yml` (whose `${ENV}` references are expanded, because an admin wrote them); a
/// connection URL in a request is for admins only and is taken literally. Whatever a request
/// names, it is never the metadata store: identities are compared, not spellings.
struct ConnectionGate: Sendable {
    let config: CutoverConfig
    let store: any MetadataStore
    let oidc: OIDCSignIn?

    /// The connection `reference` names, if `caller` may use it.
    func resolve(_ reference: String, for caller: Caller) async throws -> ConnectionURL {
        let url: ConnectionURL
        if config.connections[reference] != nil {
            url = try config.resolveConnection(reference)
        } else if reference.contains(":") {
            guard caller.isAdmin else {
                throw APIError(
                    .forbidden, "only admins may use a connection URL; pick one of the named connections",
                    hint: names.isEmpty ? "an admin defines connections in cutover.yml" : "named connections: " + names.joined(separator: ", "))
            }
            url = try ConnectionURL(parsing: reference)
        } else {
            throw APIError(
                .badRequest, "there is no connection named \(reference)",
                hint: names.isEmpty ? "an admin defines connections in cutover.yml" : "named connections: " + names.joined(separator: ", "))
        }
        try await Connectors.refuseStore(url, store: store)
        return try await withLoginToken(url, for: caller)
    }

    /// `token=from-login` (a Snowflake connection with `authenticator=oauth`): the caller's
    /// access token from the identity provider they signed in with, refreshed when due. Only in
    /// memory and in the connection that uses it; masked wherever the URL is shown.
    func withLoginToken(_ url: ConnectionURL, for caller: Caller) async throws -> ConnectionURL {
        guard url.parameters["token"] == ConnectionURL.tokenFromLogin else { return url }
        guard let oidc, caller.user.provider == oidc.config.issuer else {
            throw APIError(
                .forbidden,
                "this connection uses the token of a sign-in with the identity provider (token=from-login); \(caller.username) did not sign in that way",
                hint: "sign in with the identity provider's button on the sign-in page")
        }
        return url.setting("token", to: try await oidc.accessToken(for: caller.username))
    }

    /// How a reference may be stored and shown: a name as it is, a URL with its password masked.
    static func shown(_ reference: String) -> String { Redaction.connectionString(reference) }

    var names: [String] { config.connections.keys.sorted() }
}
