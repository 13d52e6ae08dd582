import CutoverCore
import Crypto
import CryptoExtras
import Foundation

/// The body of `/session/v1/login-request`, shaped as Snowflake's own connectors send it.
struct LoginRequest {
    let settings: SnowflakeSettings
    var now = Date()

    func json() throws -> [UInt8] {
        var data: [String: Any] = [
            "CLIENT_APP_ID": "Cutover",
            "CLIENT_APP_VERSION": "0.1.0",
            "ACCOUNT_NAME": settings.accountLocator,
            "LOGIN_NAME": settings.user,
            "CLIENT_ENVIRONMENT": ["APPLICATION": "Cutover", "OS": "Linux"],
            // Ask for JSON results where the server honours it; Arrow is decoded either way.
            "SESSION_PARAMETERS": ["JDBC_QUERY_RESULT_FORMAT": "JSON", "CLIENT_SESSION_KEEP_ALIVE": true],
        ]
        switch settings.authenticator {
        case .password:
            data["PASSWORD"] = settings.password ?? ""
        case .oauth:
            data["AUTHENTICATOR"] = "OAUTH"
            data["TOKEN"] = settings.token ?? ""
        case .keyPair:
            data["AUTHENTICATOR"] = "SNOWFLAKE_JWT"
            data["TOKEN"] = try KeyPairToken(settings: settings).jwt(now: now)
        }
        return Array(try JSONSerialization.data(withJSONObject: ["data": data], options: [.sortedKeys]))
    }
}

/// A key-pair login token: a JWT signed with the user's RSA private key (RS256), naming the
/// SHA-256 fingerprint of the public key registered with `ALTER USER … SET RSA_PUBLIC_KEY`.
struct KeyPairToken {
    let account: String
    let user: String
    let key: _RSA.Signing.PrivateKey

    init(settings: SnowflakeSettings) throws {
        guard let path = settings.privateKeyFile else {
            throw CutoverError(.usage, "key-pair login needs private_key_file=PATH")
        }
        let pem: String
        do { pem = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CutoverError(.io, "cannot read the private key file \(path): \(error.localizedDescription)")
        }
        do { key = try _RSA.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw CutoverError(
                .usage, "the private key in \(path) is not an unencrypted RSA key in PEM form",
                hint: "convert it with `openssl pkcs8 -topk8 -nocrypt -in key.p8 -out key.pem`")
        }
        account = settings.accountLocator
        user = settings.user.uppercased()
    }

    /// `SHA256:` + base64 of the SHA-256 of the public key's DER (SubjectPublicKeyInfo).
    var fingerprint: String {
        "SHA256:" + Data(SHA256.hash(data: key.publicKey.derRepresentation)).base64EncodedString()
    }

    func jwt(now: Date) throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        let header = #"{"alg":"RS256","typ":"JWT"}"#
        let payload = #"{"iss":"\#(account).\#(user).\#(fingerprint)","sub":"\#(account).\#(user)","iat":\#(issued),"exp":\#(issued + 3540)}"#
        let signingInput = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
