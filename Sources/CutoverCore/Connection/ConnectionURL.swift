import Foundation

/// A parsed connection URL. The password is kept apart so that the URL's description is always
/// redacted; only a driver asks for the secret, through ``password``.
///
/// Accepted forms:
/// - `postgres://user:pass@host:port/db?sslmode=...` (also `postgresql://`)
/// - `sqlite:///abs/path.db`, `sqlite:rel/path.db`, `sqlite::memory:`
/// - `snowflake://user[:password]@account/database/schema?warehouse=W&role=R`
public struct ConnectionURL: Sendable, Hashable, CustomStringConvertible {
    /// The engines a connection URL can name (SQL Server URLs parse; connecting is not built yet).
    public enum Engine: String, Sendable, Codable, CaseIterable {
        case postgres, sqlite, snowflake, sqlserver
    }

    public let engine: Engine
    public let user: String?
    public let password: String?
    public let host: String?
    public let port: Int?
    /// PostgreSQL/Snowflake database name, or the SQLite file path.
    public let database: String
    /// Snowflake schema from the path; nil elsewhere.
    public let schema: String?
    public let parameters: [String: String]

    public init(
        engine: Engine, user: String? = nil, password: String? = nil, host: String? = nil, port: Int? = nil,
        database: String, schema: String? = nil, parameters: [String: String] = [:]
    ) {
        self.engine = engine
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.schema = schema
        self.parameters = parameters
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw CutoverError(
                .unsupportedURL, "cannot read connection URL '\(trimmed)': it has no scheme",
                hint: "examples: postgres://user:pass@localhost:5432/db, sqlite:///abs/path.db, sqlite:rel/path.db")
        }
        let scheme = trimmed[..<colon].lowercased()
        switch scheme {
        case "sqlite", "sqlite3":
            var path = String(trimmed[trimmed.index(after: colon)...])
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite:///abs → /abs ; sqlite://rel → rel
            if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
            guard !path.isEmpty else { throw Self.malformed(scheme, "it names no file") }
            self.init(engine: .sqlite, database: path.removingPercentEncoding ?? path)
        case "sqlserver-export":
            // The file (or folder) `cutover sqlserver extract-script`'s output was saved to.
            var path = String(trimmed[trimmed.index(after: colon)...])
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw Self.malformed(scheme, "it names no export file or folder") }
            self.init(engine: .sqlserver, database: (path as NSString).lastPathComponent, parameters: ["export": path])
        case "postgres", "postgresql", "snowflake", "sqlserver", "mssql":
            guard let components = URLComponents(string: trimmed), components.host != nil else {
                throw Self.malformed(scheme, "expected \(scheme)://user:password@host/database")
            }
            let pathParts = components.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            var parameters: [String: String] = [:]
            for item in components.queryItems ?? [] { parameters[item.name] = item.value ?? "" }
            let engine: Engine = scheme.hasPrefix("postgres") ? .postgres : scheme == "snowflake" ? .snowflake : .sqlserver
            guard engine == .snowflake || pathParts.count <= 1 else {
                throw Self.malformed(scheme, "the path must be just the database name")
            }
            self.init(
                engine: engine,
                user: components.user?.removingPercentEncoding ?? components.user,
                password: components.password?.removingPercentEncoding ?? components.password,
                host: components.host,
                port: components.port,
                database: pathParts.first ?? "",
                schema: pathParts.count > 1 ? pathParts[1] : nil,
                parameters: parameters
            )
        default:
            throw CutoverError(
                .unsupportedURL, "unknown URL scheme '\(scheme)'",
                hint:
                    "use postgres://user:pass@host:5432/db, sqlite:path/to/file.db, snowflake://user@account/db/schema, sqlserver://user:pass@host:1433/db (a source) or sqlserver-export:FOLDER"
            )
        }
    }

    /// The URL itself is not repeated: where it does not parse, no part of it is known to be free of the password.
    private static func malformed(_ scheme: String, _ why: String) -> CutoverError {
        CutoverError(
            .unsupportedURL, "cannot read the \(scheme) connection URL (not shown, it may hold a password): \(why)",
            hint: "percent-encode special characters in the user name and password (@ as %40, / as %2F, : as %3A, # as %23, ? as %3F); "
                + "examples: postgres://user:pass@localhost:5432/db, sqlite:///abs/path.db, sqlite:rel/path.db")
    }

    /// The URL with the password masked: safe for logs, reports and the API.
    public var description: String {
        switch engine {
        case .sqlite:
            return database.hasPrefix("/") ? "sqlite://\(database)" : "sqlite:\(database)"
        case .sqlserver where host == nil && parameters["export"] != nil:
            return "sqlserver-export:" + (parameters["export"] ?? "")
        default:
            var text = "\(engine.rawValue)://"
            if let user { text += user + (password != nil ? ":\(Redaction.mask)" : "") + "@" }
            text += host ?? ""
            if let port { text += ":\(port)" }
            text += "/" + database
            if let schema { text += "/" + schema }
            if !parameters.isEmpty {
                text +=
                    "?"
                    + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.isSecret($0.key) ? Redaction.mask : $0.value)" }
                    .joined(separator: "&")
            }
            return text
        }
    }

    /// `token=from-login`: the token of a sign-in with the identity provider — the signed-in user's
    /// on the server, `CUTOVER_ACCESS_TOKEN` (from `cutover login`) on the command line.
    public static let tokenFromLogin = "from-login"

    /// The same URL with `parameter` set to `value` (a token filled in where the URL says where it comes from).
    public func setting(_ parameter: String, to value: String) -> ConnectionURL {
        var parameters = parameters
        parameters[parameter] = value
        return ConnectionURL(
            engine: engine, user: user, password: password, host: host, port: port, database: database, schema: schema, parameters: parameters)
    }

    static func isSecret(_ key: String) -> Bool {
        ["password", "pwd", "token", "access_token", "secret", "client_secret", "private_key_passphrase"].contains(key.lowercased())
    }

    /// Short human name: `postgres db@host` or the SQLite file name.
    public var displayName: String {
        engine == .sqlite ? database : "\(engine.rawValue) \(database)@\(host ?? "")"
    }
}
