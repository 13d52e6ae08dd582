import CutoverCore
import Foundation
import JWTKit
import Testing

@testable import CutoverServer

/// The ID-token checks, with keys made here: a forged, tampered, misdirected, stale or replayed
/// token is refused; a rotated key is fetched again.
@Suite struct IDTokenVerifierTests {
    struct Payload: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nonce: String?
        var groups: [String]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static let issuer = "https://idp.example.com"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func payload(
        aud: String = "cutover", exp: TimeInterval = 300, iat: TimeInterval = -10, nonce: String? = "n-1", iss: String = issuer
    ) -> Payload {
        Payload(
            iss: .init(value: iss), sub: .init(value: "alice"), aud: .init(value: [aud]), exp: .init(value: now.addingTimeInterval(exp)),
            iat: .init(value: now.addingTimeInterval(iat)), nonce: nonce, groups: ["admins"])
    }

    /// A key pair, its public half as the provider publishes it (no `alg`, like many providers).
    struct Key {
        let kid: String
        let signer = JWTKeyCollection()
        let jwk: JWK

        init(kid: String) async throws {
            self.kid = kid
            let key = ES256PrivateKey()
            await signer.add(ecdsa: key, kid: JWKIdentifier(string: kid))
            let parameters = try #require(key.publicKey.parameters)
            jwk = .ecdsa(nil, identifier: JWKIdentifier(string: kid), x: parameters.x, y: parameters.y, curve: .p256)
        }

        func sign(_ payload: Payload, withKeyID: Bool = true) async throws -> String {
            var header = JWTHeader()
            if withKeyID { header.kid = kid }
            return try await signer.sign(payload, kid: JWKIdentifier(string: kid), header: header)
        }
    }

    /// What the provider publishes, changeable by the test; counts the fetches.
    final class Published: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [JWK]
        private(set) var fetches = 0
        init(_ keys: [JWK]) { self.keys = keys }
        func set(_ keys: [JWK]) { lock.withLock { self.keys = keys } }
        func fetch() -> JWKS {
            lock.withLock {
                fetches += 1; return JWKS(keys: keys)
            }
        }
    }

    func verifier(_ published: Published) -> IDTokenVerifier {
        IDTokenVerifier(issuer: Self.issuer, clientID: "cutover", algorithms: ["RS256", "ES256"], fetchKeys: { published.fetch() })
    }

    @Test func acceptsAGoodTokenAndRefusesEveryBadOne() async throws {
        let key = try await Key(kid: "k1")
        let verifier = verifier(Published([key.jwk]))
        let good = try await verifier.verify(try await key.sign(Self.payload()), nonce: "n-1", now: Self.now)
        #expect(good.subject == "alice" && good.claims["groups"]?.strings == ["admins"])
        // 30 s after expiry is within the clock skew; 2 minutes is not.
        _ = try await verifier.verify(try await key.sign(Self.payload(exp: -30)), nonce: "n-1", now: Self.now)

        func refused(_ token: String, nonce: String = "n-1", _ reason: String) async {
            await #expect(throws: CutoverError.self, "\(reason)") { try await verifier.verify(token, nonce: nonce, now: Self.now) }
        }
        await refused(try await key.sign(Self.payload(exp: -120)), "expired")
        await refused(try await key.sign(Self.payload(iat: 600)), "issued in the future")
        await refused(try await key.sign(Self.payload(aud: "another-app")), "another audience")
        await refused(try await key.sign(Self.payload(iss: "https://evil.example.com")), "another issuer")
        await refused(try await key.sign(Self.payload()), nonce: "n-2", "another sign-in's nonce (a replay)")
        await refused(try await key.sign(Self.payload(nonce: nil)), "no nonce")
        // Tampered: the payload changed after signing.
        let parts = try await key.sign(Self.payload()).split(separator: ".").map(String.init)
        let changed = Base64URL.encode(
            Data(String(decoding: Base64URL.decode(parts[1]) ?? Data(), as: UTF8.self).replacingOccurrences(of: "alice", with: "admin").utf8))
        await refused(parts[0] + "." + changed + "." + parts[2], "tampered")
        // Forged: signed by a key the provider does not publish, under its key id.
        let forger = try await Key(kid: "k1")
        await refused(try await forger.sign(Self.payload()), "forged")
        // Unsigned (alg none) and HMAC-signed tokens are never accepted.
        let none = Base64URL.encode(Data(#"{"alg":"none","kid":"k1"}"#.utf8)) + "." + parts[1] + "."
        await refused(none, "alg none")
        let hmac = JWTKeyCollection()
        await hmac.add(hmac: HMACKey(from: Data(String(repeating: "s", count: 64).utf8)), digestAlgorithm: .sha256, kid: "k1")
        await refused(try await hmac.sign(Self.payload(), kid: "k1"), "HS256")
        await refused("not a token", "garbage")
    }

    @Test func aRotatedKeyIsFetchedAgainAtMostOnceASecond() async throws {
        let old = try await Key(kid: "old"), new = try await Key(kid: "new")
        let published = Published([old.jwk])
        let verifier = verifier(published)
        _ = try await verifier.verify(try await old.sign(Self.payload()), nonce: "n-1", now: Self.now)
        #expect(published.fetches == 1)
        // The provider rotates: a token under a new key id fetches the keys again.
        published.set([new.jwk])
        _ = try await verifier.verify(try await new.sign(Self.payload()), nonce: "n-1", now: Self.now.addingTimeInterval(5))
        #expect(published.fetches == 2)
        // Unknown key ids cannot make the server fetch in a loop.
        let stranger = try await Key(kid: "stranger")
        for _ in 0..<5 {
            await #expect(throws: CutoverError.self) {
                try await verifier.verify(try await stranger.sign(Self.payload()), nonce: "n-1", now: Self.now.addingTimeInterval(5.5))
            }
        }
        #expect(published.fetches == 2)
        // A provider without key ids (one key at a time) that rotates: the failed check reads the keys again.
        let plain = try await Key(kid: "plain")
        published.set([plain.jwk])
        _ = try await verifier.verify(try await plain.sign(Self.payload(), withKeyID: false), nonce: "n-1", now: Self.now.addingTimeInterval(10))
        let rotated = try await Key(kid: "rotated")
        published.set([rotated.jwk])
        _ = try await verifier.verify(try await rotated.sign(Self.payload(), withKeyID: false), nonce: "n-1", now: Self.now.addingTimeInterval(20))
    }

    @Test func rolesComeFromTheMappedClaim() async throws {
        let config = CutoverConfig.OIDCConfig(
            issuer: "https://idp.example.com", clientID: "c", roleClaim: "groups", roleMap: ["admins": "admin", "analysts": "viewer", "eng": "user"])
        let oidc = try OIDCSignIn(config: config, defaultPublicURL: "http://127.0.0.1:8080")
        #expect(oidc.redirectURI == "http://127.0.0.1:8080/auth/oidc/callback")
        func signedIn(_ claims: [String: JSONValue]) async throws -> OIDCSignIn.SignedIn {
            try await oidc.signedIn(.init(subject: "s", claims: claims))
        }
        let both = try await signedIn(["preferred_username": .string("ann"), "groups": .array([.string("analysts"), .string("eng")])])
        #expect(both.username == "ann" && both.role == .user, "the highest mapped role counts")
        #expect(try await signedIn(["email": .string("bo@x.io"), "groups": .string("admins")]).role == .admin)
        await #expect(throws: CutoverError.self, "no mapped group and no default role") {
            try await signedIn(["preferred_username": .string("cy"), "groups": .array([.string("other")])])
        }
        await #expect(throws: CutoverError.self, "a user name Cutover cannot hold") {
            try await signedIn(["preferred_username": .string("a b/../c"), "groups": .string("admins")])
        }
        var lenient = config
        lenient.defaultRole = "viewer"
        let withDefault = try OIDCSignIn(config: lenient, defaultPublicURL: "http://h")
        #expect(try await withDefault.signedIn(.init(subject: "dee", claims: ["sub": .string("dee")])).role == .viewer)
        #expect(throws: CutoverError.self) { try OIDCSignIn(config: .init(issuer: "http://idp.example.com", clientID: "c"), defaultPublicURL: "") }
        var badRole = config
        badRole.roleMap = ["admins": "root"]
        #expect(throws: CutoverError.self) { try OIDCSignIn(config: badRole, defaultPublicURL: "") }
    }

    /// `token=from-login` hands over the token of a sign-in with the provider, so a local account
    /// (even an admin) cannot use such a connection, and nothing is sent in its name.
    @Test func aLoginTokenConnectionNeedsASignInWithTheProvider() async throws {
        try await withServer(connections: ["sso": "snowflake://u@acct/DB/PUBLIC?authenticator=oauth&token=from-login"]) { s in
            let answer = try await s.call(.post, "/api/v1/connections/test", token: s.admin, json: #"{"connection": "sso"}"#)
            #expect(answer.status == .forbidden)
            #expect(try s.errorMessage(answer).contains("did not sign in that way"))
            let providers = try s.object(try await s.call(.get, "/api/v1/auth/providers"))
            #expect(providers["local_accounts"] as? Bool == true && (providers["providers"] as? [Any])?.isEmpty == true)
        }
    }
}
