import CutoverCore
import Foundation

/// Everything needed to reach a Snowflake account, read from a `snowflake://` URL:
///
/// `snowflake://user[:password]@account/database/schema?warehouse=W&role=R&authenticator=A`
///
/// - `authenticator`: `snowflake` (password, the default), `snowflake_jwt` (key pair: `private_key_file=PATH`,
///   optional `private_key_passphrase` is not supported — use an unencrypted PKCS#8 key), or `oauth`
///   (`token=ACCESS_TOKEN`, e.g. one issued by Okta).
/// - `host`, `port`, `protocol`: override `ACCOUNT.snowflakecomputing.com:443` over https, e.g. to reach
///   a local emulator.
/// - `retries`: how many times a request is retried on 408, 429, 502–504 and transport failures (default 5).
/// - `connect_timeout`: seconds to wait for a TCP/TLS connection (default 10).
/// - `load`: `stage` (PUT + COPY INTO, the default where the stage accepts it) or `binds`.
/// - `stage_compression`: `gzip` (the default) or `none`.
/// - `keep_staged_files`: `true` keeps every staged file, with a manifest per load, in the named
///   stage `CUTOVER_STAGE` under `RUN/TABLE_chunk_NNNN_attempt_N/` (default `false`: a temporary
///   stage, purged after COPY).
public struct SnowflakeSettings: Sendable {
    /// How a connection signs in: password, key pair (JWT) or an OAuth token.
    public enum Authenticator: String, Sendable {
        case password = "snowflake"
        case keyPair = "snowflake_jwt"
        case oauth
    }

    public var account: String
    public var user: String
    public var password: String?
    public var database: String
    public var schema: String
    public var warehouse: String?
    public var role: String?
    public var authenticator: Authenticator
    public var token: String?
    public var privateKeyFile: String?
    public var baseURL: String
    public var retries: Int
    public var connectTimeoutSeconds: Int64
    public var preferStageLoads: Bool
    /// Staged files gzip-compressed (`stage_compression=gzip`, the default) or plain (`none`).
    public var gzipStagedFiles: Bool
    /// Staged files kept in `CUTOVER_STAGE` with a manifest (`keep_staged_files=true`).
    public var keepStagedFiles: Bool

    public init(_ url: ConnectionURL) throws {
        guard url.engine == .snowflake else { throw CutoverError(.usage, "not a Snowflake URL: \(url)") }
        let parameters = Dictionary(url.parameters.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let account = url.host, !account.isEmpty else {
            throw CutoverError(
                .unsupportedURL, "the Snowflake URL \(url) names no account",
                hint: "snowflake://user:password@ACCOUNT/DATABASE/SCHEMA?warehouse=WH")
        }
        guard let user = url.user, !user.isEmpty else {
            throw CutoverError(.unsupportedURL, "the Snowflake URL \(url) names no user", hint: "snowflake://USER:password@account/database/schema")
        }
        guard !url.database.isEmpty else {
            throw CutoverError(.unsupportedURL, "the Snowflake URL \(url) names no database", hint: "snowflake://user@account/DATABASE/SCHEMA")
        }
        let authenticatorName = parameters["authenticator"]?.lowercased() ?? "snowflake"
        guard let authenticator = Authenticator(rawValue: authenticatorName) else {
            throw CutoverError(
                .unsupportedURL, "unknown Snowflake authenticator '\(authenticatorName)' in \(url)",
                hint: "use authenticator=snowflake (password), snowflake_jwt (private_key_file=PATH) or oauth (token=...)")
        }
        self.account = account
        self.user = user
        self.password = url.password
        self.database = url.database
        self.schema = url.schema ?? "PUBLIC"
        self.warehouse = parameters["warehouse"]
        self.role = parameters["role"]
        self.authenticator = authenticator
        self.token = parameters["token"]
        self.privateKeyFile = parameters["private_key_file"]
        switch authenticator {
        case .password where password == nil:
            throw CutoverError(
                .unsupportedURL, "the Snowflake URL \(url) has no password",
                hint: "snowflake://user:PASSWORD@account/db/schema, or authenticator=snowflake_jwt / oauth")
        case .keyPair where privateKeyFile == nil:
            throw CutoverError(.unsupportedURL, "key-pair login needs private_key_file=PATH in \(url)")
        case .oauth where token == nil:
            throw CutoverError(.unsupportedURL, "OAuth login needs token=ACCESS_TOKEN in \(url)")
        default: break
        }
        let scheme = parameters["protocol"] ?? "https"
        let host = parameters["host"] ?? "\(account).snowflakecomputing.com"
        let port = parameters["port"].flatMap(Int.init) ?? (scheme == "http" ? 80 : 443)
        self.baseURL = "\(scheme)://\(host):\(port)"
        self.retries = parameters["retries"].flatMap(Int.init) ?? 5
        self.connectTimeoutSeconds = parameters["connect_timeout"].flatMap(Int64.init) ?? 10
        self.preferStageLoads = (parameters["load"] ?? "stage") != "binds"
        switch parameters["stage_compression"]?.lowercased() ?? "gzip" {
        case "gzip": gzipStagedFiles = true
        case "none": gzipStagedFiles = false
        case let other:
            throw CutoverError(.unsupportedURL, "stage_compression=\(other) in \(url) is not gzip or none", hint: "leave it out for gzip")
        }
        switch parameters["keep_staged_files"]?.lowercased() ?? "false" {
        case "true": keepStagedFiles = true
        case "false": keepStagedFiles = false
        case let other:
            throw CutoverError(
                .unsupportedURL, "keep_staged_files=\(other) in \(url) is not true or false",
                hint: "keep_staged_files=true keeps the files in CUTOVER_STAGE")
        }
    }

    /// The account name without region or cloud suffix, upper-cased, as key-pair JWTs name it.
    var accountLocator: String {
        String(account.split(separator: ".").first ?? Substring(account)).uppercased()
    }
}

extension SnowflakeSettings {
    /// The account (where requests go, lower-cased) and the database (unquoted names fold to upper
    /// case, as Snowflake resolves them).
    public var identity: DatabaseIdentity {
        let quoted = database.hasPrefix("\"") && database.hasSuffix("\"") && database.count > 1
        return .snowflake(
            account: baseURL.lowercased() + "/" + account.lowercased(),
            database: quoted ? String(database.dropFirst().dropLast()) : database.uppercased())
    }
}
