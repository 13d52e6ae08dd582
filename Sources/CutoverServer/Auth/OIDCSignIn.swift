import AsyncHTTPClient
import Crypto
import CutoverCore
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1

/// Sign-in with an OpenID Connect provider: the authorization code flow with PKCE. The provider is
/// read from its discovery document; the ID token is checked by ``IDTokenVerifier``; the user's
/// role comes from a claim (`role_claim` through `role_map`). The provider's access token is kept
/// in memory only, for Snowflake connections that say `token=from-login`.
actor OIDCSignIn {
    struct Discovery: Codable, Sendable {
        var issuer: String
        var authorizationEndpoint: String
        var tokenEndpoint: String
        var jwksURI: String
        var idTokenSigningAlgValuesSupported: [String]?

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
        }
    }

    /// What a finished sign-in says about the user.
    struct SignedIn: Sendable {
        var username: String
        var role: Role
        var subject: String
        var groups: [String]
    }

    /// A sign-in between the redirect to the provider and its way back.
    private struct Pending {
        var nonce: String
        var verifier: String
        var started: Date
    }

    private struct ProviderToken {
        var accessToken: String
        var refreshToken: String?
        var expires: Date
    }

    nonisolated let config: CutoverConfig.OIDCConfig
    nonisolated let redirectURI: String
    /// The button's words: "Sign in with …".
    nonisolated let name: String
    private var discovery: Discovery?
    private var verifier: IDTokenVerifier?
    private var pending: [String: Pending] = [:]
    private var tokens: [String: ProviderToken] = [:]
    /// A sign-in must come back within this long.
    static let pendingLifetime: TimeInterval = 600
    static let maxPending = 10_000

    init(config: CutoverConfig.OIDCConfig, defaultPublicURL: String) throws {
        guard let issuer = URL(string: config.issuer), issuer.scheme == "https" || issuer.host == "127.0.0.1" || issuer.host == "localhost" else {
            throw CutoverError(
                .config, "auth.oidc.issuer \(config.issuer) must be an https URL (plain http only on this machine, for tests)",
                hint: "e.g. https://YOUR-ORG.okta.com/oauth2/default")
        }
        for (value, key) in [(config.defaultRole, "default_role")] + (config.roleMap ?? [:]).map({ ($0.value, "role_map.\($0.key)") }) {
            if let value, Role(rawValue: value) == nil {
                throw CutoverError(.config, "auth.oidc.\(key) is \(value); a role is admin, user or viewer")
            }
        }
        self.config = config
        redirectURI = (config.publicURL ?? defaultPublicURL).trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/auth/oidc/callback"
        name = config.name ?? issuer.host ?? config.issuer
    }

    // MARK: The flow

    /// Where to send the browser: the provider's authorization endpoint with state, nonce and the
    /// PKCE challenge of a verifier kept here.
    func start(now: Date = Date()) async throws -> String {
        let discovery = try await discovered()
        pending = pending.filter { now.timeIntervalSince($0.value.started) < Self.pendingLifetime }
        // Bounded: a flood of started sign-ins pushes out the oldest rather than locking everyone out.
        if pending.count >= Self.maxPending, let oldest = pending.min(by: { $0.value.started < $1.value.started })?.key {
            pending[oldest] = nil
        }
        let state = Self.randomToken(), nonce = Self.randomToken(), verifier = Self.randomToken()
        pending[state] = Pending(nonce: nonce, verifier: verifier, started: now)
        let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
        guard var components = URLComponents(string: discovery.authorizationEndpoint) else {
            throw CutoverError(.authenticationFailed, "the provider's authorization endpoint is not a URL")
        }
        components.queryItems =
            (components.queryItems ?? []) + [
                .init(name: "response_type", value: "code"), .init(name: "client_id", value: config.clientID),
                .init(name: "redirect_uri", value: redirectURI), .init(name: "scope", value: scopes.joined(separator: " ")),
                .init(name: "state", value: state), .init(name: "nonce", value: nonce), .init(name: "code_challenge", value: challenge),
                .init(name: "code_challenge_method", value: "S256"),
            ]
        guard let url = components.url?.absoluteString else { throw CutoverError(.authenticationFailed, "cannot build the authorization URL") }
        return url
    }

    var scopes: [String] { config.scopes ?? ["openid", "profile", "email"] }

    /// The provider sent the browser back with `code` for `state`: exchange it, check the ID token,
    /// work out the user's name and role.
    func finish(code: String, state: String, now: Date = Date()) async throws -> SignedIn {
        let (verified, tokens) = try await exchange(code: code, state: state, now: now)
        let user = try signedIn(verified)
        if let access = tokens.accessToken {
            self.tokens[user.username] = ProviderToken(
                accessToken: access, refreshToken: tokens.refreshToken, expires: now.addingTimeInterval(TimeInterval(tokens.expiresIn ?? 3600)))
        }
        return user
    }

    /// The tokens a sign-in's code is worth, its ID token checked: for the server's sign-in and for
    /// `cutover login`.
    func exchange(code: String, state: String, now: Date = Date()) async throws -> (IDTokenVerifier.Verified, TokenAnswer) {
        guard let started = pending.removeValue(forKey: state), now.timeIntervalSince(started.started) < Self.pendingLifetime else {
            throw CutoverError(
                .authenticationFailed, "this sign-in is unknown or too old (state does not match)", hint: "start again from the sign-in page")
        }
        let discovery = try await discovered()
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", started.verifier),
            ("client_id", config.clientID),
        ]
        if let secret = try clientSecret() { form.append(("client_secret", secret)) }
        let answer = try await post(discovery.tokenEndpoint, form: form)
        guard let idToken = answer.idToken else { throw CutoverError(.authenticationFailed, "the provider answered without an ID token") }
        return (try await tokenVerifier(discovery).verify(idToken, nonce: started.nonce, now: now), answer)
    }

    /// The user's name and role from the verified claims.
    func signedIn(_ verified: IDTokenVerifier.Verified) throws -> SignedIn {
        let nameClaims = config.usernameClaim.map { [$0] } ?? ["preferred_username", "email", "sub"]
        guard let username = nameClaims.lazy.compactMap({ verified.claims[$0]?.strings.first }).first,
            username.range(of: #"^[A-Za-z0-9._@-]{2,64}$"#, options: .regularExpression) != nil
        else {
            throw CutoverError(
                .authenticationFailed,
                "the provider gave no usable user name (\(nameClaims.joined(separator: ", ")): 2 to 64 letters, digits or . _ @ -)",
                hint: "set auth.oidc.username_claim to a claim that holds one")
        }
        let groups = config.roleClaim.flatMap { verified.claims[$0]?.strings } ?? []
        let mapped = groups.compactMap { config.roleMap?[$0] }.compactMap(Role.init(rawValue:))
        guard let role = mapped.max() ?? config.defaultRole.flatMap(Role.init(rawValue:)) else {
            throw CutoverError(
                .notPermitted,
                "\(username) has no role in Cutover: none of \(config.roleClaim ?? "the role claim")'s values (\(groups.joined(separator: ", "))) is mapped",
                hint: "an admin maps a group in auth.oidc.role_map, or sets auth.oidc.default_role")
        }
        return SignedIn(username: username, role: role, subject: verified.subject, groups: groups)
    }

    /// The signed-in user's access token from the provider, refreshed when it is about to expire;
    /// for Snowflake connections that say `token=from-login`.
    func accessToken(for username: String, now: Date = Date()) async throws -> String {
        guard let token = tokens[username] else {
            throw CutoverError(
                .authenticationFailed,
                "no token from \(name) for \(username): this server has not seen \(username) sign in with \(name) since it started",
                hint: "sign out and sign in with \(name) again")
        }
        if token.expires.timeIntervalSince(now) > 60 { return token.accessToken }
        guard let refresh = token.refreshToken else {
            throw CutoverError(.authenticationFailed, "\(username)'s token from \(name) expired and there is no refresh token", hint: "sign in again")
        }
        var form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", config.clientID)]
        if let secret = try clientSecret() { form.append(("client_secret", secret)) }
        let answer = try await post(try await discovered().tokenEndpoint, form: form)
        guard let access = answer.accessToken else { throw CutoverError(.authenticationFailed, "\(name) refreshed without an access token") }
        tokens[username] = ProviderToken(
            accessToken: access, refreshToken: answer.refreshToken ?? refresh, expires: now.addingTimeInterval(TimeInterval(answer.expiresIn ?? 3600))
        )
        return access
    }

    func forget(_ username: String) { tokens[username] = nil }

    // MARK: Talking to the provider

    struct TokenAnswer: Decodable, Sendable {
        var idToken: String?
        var accessToken: String?
        var refreshToken: String?
        var expiresIn: Int?
        var error: String?
        var errorDescription: String?

        enum CodingKeys: String, CodingKey {
            case idToken = "id_token"
            case accessToken = "access_token"
            case refreshToken = "refresh_token"
            case expiresIn = "expires_in"
            case error
            case errorDescription = "error_description"
        }
    }

    func clientSecret() throws -> String? {
        try config.clientSecret.map { try CutoverConfig.interpolate($0, environment: ProcessInfo.processInfo.environment) }
    }

    private func discovered() async throws -> Discovery {
        if let discovery { return discovery }
        let url = config.issuer.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/.well-known/openid-configuration"
        let document = try JSONDecoder().decode(Discovery.self, from: try await Self.get(url))
        guard IDTokenVerifier.sameIssuer(document.issuer, config.issuer) else {
            throw CutoverError(
                .config, "the provider at \(config.issuer) calls itself \(document.issuer)", hint: "set auth.oidc.issuer to \(document.issuer)")
        }
        discovery = document
        return document
    }

    private func tokenVerifier(_ discovery: Discovery) -> IDTokenVerifier {
        if let verifier { return verifier }
        let jwksURI = discovery.jwksURI
        let made = IDTokenVerifier(
            issuer: config.issuer, clientID: config.clientID, algorithms: discovery.idTokenSigningAlgValuesSupported,
            fetchKeys: { try JSONDecoder().decode(JWKS.self, from: try await OIDCSignIn.get(jwksURI)) })
        verifier = made
        return made
    }

    static func get(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        return try await send(request, what: url)
    }

    private func post(_ url: String, form: [(String, String)]) async throws -> TokenAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: form.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")))
        let data = try await Self.send(request, what: url, acceptingErrors: true)
        let answer: TokenAnswer
        do {
            answer = try JSONDecoder().decode(TokenAnswer.self, from: data)
        } catch {
            throw CutoverError(.authenticationFailed, "the provider's token endpoint did not answer with JSON tokens")
        }
        if let error = answer.error {
            throw CutoverError(
                .authenticationFailed, "the provider refused the token request: \(error)" + (answer.errorDescription.map { " (\($0))" } ?? ""))
        }
        return answer
    }

    private static func send(_ request: HTTPClientRequest, what: String, acceptingErrors: Bool = false) async throws -> Data {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        } catch {
            throw CutoverError(.connectionFailed, "cannot reach the identity provider at \(what): \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) || (acceptingErrors && [400, 401].contains(response.status.code)) else {
            throw CutoverError(.authenticationFailed, "the identity provider answered \(response.status.code) at \(what)")
        }
        return Data(buffer: body)
    }

    /// Percent-encodes all but RFC 3986's unreserved characters: for form bodies and URL fragments.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }
}
