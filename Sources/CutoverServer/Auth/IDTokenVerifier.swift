import CutoverCore
import Foundation
import JWTKit

/// Checks an OpenID Connect ID token: its signature against the provider's published keys
/// (fetched again when a token names a key not seen yet — the provider rotated them), the issuer,
/// the audience, expiry and issue time with some clock skew, and the nonce of the sign-in.
actor IDTokenVerifier {
    /// The claims Cutover checks; everything else is read from ``Verified/claims``.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nonce: String?
        var azp: String?

        /// Checked by the verifier, with skew, after the signature.
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    struct Verified: Sendable {
        var subject: String
        /// Every claim of the token, as JSON values.
        var claims: [String: JSONValue]
    }

    /// Algorithms an ID token may be signed with: asymmetric only (never `none`, never an HMAC
    /// keyed with a public key).
    static let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

    let issuer: String
    let clientID: String
    let skew: TimeInterval
    private let fetchKeys: @Sendable () async throws -> JWKS
    private let allowed: Set<String>
    private var keys: JWTKeyCollection?
    private var keyIDs: Set<String> = []
    private var fetchedAt: Date?
    /// A token with an unknown key id fetches the keys again, but not more often than this.
    static let refetchInterval: TimeInterval = 1

    init(issuer: String, clientID: String, algorithms: [String]?, skew: TimeInterval = 60, fetchKeys: @escaping @Sendable () async throws -> JWKS) {
        self.issuer = issuer
        self.clientID = clientID
        self.skew = skew
        self.fetchKeys = fetchKeys
        allowed = algorithms.map { Self.asymmetric.intersection($0) } ?? Self.asymmetric
    }

    func verify(_ token: String, nonce: String, now: Date = Date()) async throws -> Verified {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let payloadData = Base64URL.decode(parts[1]),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerData))
        else {
            throw Self.refused("the ID token is not a signed JWT")
        }
        guard allowed.contains(header.alg) else { throw Self.refused("the ID token is signed with \(header.alg), which is not accepted") }
        let current = try await keys(for: header.kid, now: now)
        // A signature that does not verify is an answer (no), not an error to pass on.
        var claims = try? await current.verify(token, as: Claims.self)
        // A token without a key id, or one whose key changed under the same id: the provider may
        // have rotated its keys, so read them again (at most once a second) before refusing.
        if claims == nil, mayRefetch(now: now) {
            let fresh = try await refetch(now: now)
            claims = try? await fresh.verify(token, as: Claims.self)
        }
        guard let claims else { throw Self.refused("the ID token's signature does not verify against the provider's keys") }
        guard Self.sameIssuer(claims.iss.value, issuer) else {
            throw Self.refused("the ID token was issued by \(claims.iss.value), not \(issuer)")
        }
        guard claims.aud.value.contains(clientID) else { throw Self.refused("the ID token is for another client (audience \(claims.aud.value))") }
        if claims.aud.value.count > 1, claims.azp != clientID {
            throw Self.refused("the ID token has several audiences and another authorized party")
        }
        guard claims.exp.value.addingTimeInterval(skew) > now else {
            throw Self.refused("the ID token expired at \(ISOTime.string(claims.exp.value))")
        }
        guard claims.iat.value.addingTimeInterval(-skew) <= now else { throw Self.refused("the ID token was issued in the future") }
        guard claims.nonce == nonce else { throw Self.refused("the ID token's nonce is not this sign-in's") }
        let all = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(payloadData))) ?? [:]  // decoded above as Claims: cannot fail
        return Verified(subject: claims.sub.value, claims: all)
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    /// The provider's keys, fetched again when `kid` is not among them (at most once a second).
    private func keys(for kid: String?, now: Date) async throws -> JWTKeyCollection {
        let known = { (ids: Set<String>) in kid.map { ids.contains($0) } ?? (ids.count == 1) }
        if let keys, known(keyIDs) { return keys }
        guard mayRefetch(now: now) else { throw Self.refused("the ID token names a key the provider does not publish") }
        let collection = try await refetch(now: now)
        guard known(keyIDs) else { throw Self.refused("the ID token names a key the provider does not publish") }
        return collection
    }

    private func mayRefetch(now: Date) -> Bool {
        fetchedAt.map { now.timeIntervalSince($0) >= Self.refetchInterval } ?? true
    }

    private func refetch(now: Date) async throws -> JWTKeyCollection {
        let jwks = try await fetchKeys()
        let collection = JWTKeyCollection()
        var ids = Set<String>()
        for key in jwks.keys {
            guard let id = key.keyIdentifier?.string else { continue }
            do {
                try await collection.add(jwk: key)
                ids.insert(id)
            } catch {
                continue  // a key of a type jwt-kit cannot use (e.g. an encryption key) signs nothing we read
            }
        }
        keys = collection
        keyIDs = ids
        fetchedAt = now
        return collection
    }

    static func sameIssuer(_ a: String, _ b: String) -> Bool {
        a.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == b.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    static func refused(_ message: String) -> CutoverError { CutoverError(.authenticationFailed, message) }
}

/// A JSON value of a token's claims.
enum JSONValue: Codable, Sendable, Hashable {
    case string(String), number(Double), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Double.self) {
            self = .number(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let v): try c.encode(v)
        case .number(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        case .null: try c.encodeNil()
        }
    }

    /// The strings a claim holds: itself, or the strings of an array (groups, roles).
    var strings: [String] {
        switch self {
        case .string(let v): [v]
        case .array(let values): values.compactMap { if case .string(let v) = $0 { v } else { nil } }
        default: []
        }
    }
}
