import CutoverCore
import Crypto
import Foundation

/// Signed session tokens: JWTs (HS256) carrying the user name, role and expiry. The signing key
/// lives in the store, so every server sharing the store accepts the same tokens.
struct TokenSigner: Sendable {
    struct Claims: Codable, Sendable {
        var sub: String
        var role: String
        var iat: Int
        var exp: Int
    }

    let key: SymmetricKey
    /// How long a token is good for.
    let lifetime: TimeInterval

    init(secret: String, lifetime: TimeInterval = 8 * 3600) {
        key = SymmetricKey(data: Data(secret.utf8))
        self.lifetime = lifetime
    }

    func token(username: String, role: String, now: Date = Date()) throws -> (token: String, expires: Date) {
        let issued = Int(now.timeIntervalSince1970)
        let claims = Claims(sub: username, role: role, iat: issued, exp: issued + Int(lifetime))
        let header = Base64URL.encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(try JSONEncoder().encode(claims))
        let signature = HMAC<SHA256>.authenticationCode(for: Data((header + "." + payload).utf8), using: key)
        return (header + "." + payload + "." + Base64URL.encode(Data(signature)), Date(timeIntervalSince1970: TimeInterval(claims.exp)))
    }

    /// The claims of a token this server signed and that has not expired; nil otherwise.
    func verify(_ token: String, now: Date = Date()) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        // The signature must also be spelled canonically: base64's unused last bits are not a second spelling.
        guard parts.count == 3, let signature = Base64URL.decode(parts[2]), Base64URL.encode(signature) == parts[2],
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data((parts[0] + "." + parts[1]).utf8), using: key),
              let header = Base64URL.decode(parts[0]), String(decoding: header, as: UTF8.self).contains(#""HS256""#),
              let payload = Base64URL.decode(parts[1]), let claims = try? JSONDecoder().decode(Claims.self, from: payload),
              TimeInterval(claims.exp) > now.timeIntervalSince1970 else { return nil }
        return claims
    }

    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// Roles, weakest first: a viewer reads, a user also starts and changes things, an admin also
/// manages users and may run writing SQL.
enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, user, admin

    static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// Personal API tokens: `cut_` + 32 random bytes in hex; the store keeps only their SHA-256.
enum APITokens {
    static let prefix = "cut_"

    static func newSecret() -> String { prefix + TokenSigner.newSecret() }

    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}
