import Crypto
import CutoverCore
import Foundation
import JWTKit

/// Session tokens: HS256 JWTs (jwt-kit) naming the user and when they expire. The signing key lives
/// in the store, so every server sharing the store accepts the same tokens. The role is not in the
/// token: it is read from the store on every request.
struct SessionTokens: Sendable {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        /// The session's id, for signing it out (tokens from before it had one: nil).
        var jti: IDClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    private let keys: JWTKeyCollection
    /// How long a token is good for.
    let lifetime: TimeInterval

    init(secret: String, lifetime: TimeInterval) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Data(secret.utf8)), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    /// What a valid session token says.
    struct Session: Sendable {
        var username: String
        var id: String?
        var issuedAt: Date
        var expires: Date
    }

    func token(username: String, now: Date = Date()) async throws -> (token: String, expires: Date) {
        let expires = now.addingTimeInterval(lifetime)
        let claims = Claims(
            sub: SubjectClaim(value: username), iat: IssuedAtClaim(value: now), exp: ExpirationClaim(value: expires),
            jti: IDClaim(value: SessionTokens.newSecret()))
        return (try await keys.sign(claims), expires)
    }

    /// The session of a token this store's key signed and that has not expired; nil otherwise.
    /// Whether it was signed out is the store's to say (``ServerState/caller(presenting:)``).
    func session(of token: String) async -> Session? {
        // One spelling per signature: base64url's unused low bits of the last character are not a second one.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Base64URL.decode(parts[2]), Base64URL.encode(signature) == parts[2] else { return nil }
        do {
            let claims = try await keys.verify(token, as: Claims.self)
            return Session(username: claims.sub.value, id: claims.jti?.value, issuedAt: claims.iat.value, expires: claims.exp.value)
        } catch {
            return nil  // a bad or expired token is simply no identity: the route answers 401
        }
    }

    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// Personal API tokens: `cut_` + 32 random bytes in hex; the store keeps only their SHA-256.
enum APITokens {
    static let prefix = "cut_"

    static func newSecret() -> String { prefix + SessionTokens.newSecret() }

    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}
