import Foundation
import Yams

/// The contents of `cutover.yml`. Every field is optional: flags alone are enough to run any command.
public struct CutoverConfig: Codable, Sendable {
    /// Named connections: `source: postgres://app:${PGPASSWORD}@db:5432/shop`.
    public var connections: [String: String]
    /// Metadata store URL; default `sqlite:.cutover/cutover.db`.
    public var store: String?
    /// DEV/TEST/UAT/PROD names for templated SQL (`{{database}}`, `{{schema}}`).
    public var environments: [String: EnvironmentConfig]
    /// The environment used when a command does not name one.
    public var defaultEnvironment: String?
    public var tables: TableSelection
    /// Per-table move settings (`table_settings:`), by `schema.table`, `table` or glob.
    public var tableSettings: [String: TableSettings]
    public var overrides: TypeOverrides
    /// The SQL runner's query library: named, described, templated queries.
    public var queries: [String: LibraryQuery]
    /// `log: {level: info, format: json}`: what `serve`, `worker` and other commands write to stderr.
    public var log: LogConfig
    /// `alerts:`: where alerts go (channels, the SMTP server) and how often `serve` evaluates rules.
    public var alerts: AlertsConfig
    /// `ingestion:`: the ingestion metadata tables whose health `cutover ingestion health`, the
    /// Monitoring page and the ingestion alert conditions read.
    public var ingestion: IngestionConfig?
    /// `audit: {retention: 365d}`: `serve` deletes audit entries older than that (kept forever when unset).
    public var audit: AuditConfig
    /// `auth:`: sign-in with an OpenID Connect provider; local accounts on or off.
    public var auth: AuthConfig

    public init(
        connections: [String: String] = [:], store: String? = nil, environments: [String: EnvironmentConfig] = [:],
        defaultEnvironment: String? = nil, tables: TableSelection = .init(), overrides: TypeOverrides = .init(),
        queries: [String: LibraryQuery] = [:], tableSettings: [String: TableSettings] = [:]
    ) {
        self.tableSettings = tableSettings
        self.queries = queries
        self.connections = connections
        self.store = store
        self.environments = environments
        self.defaultEnvironment = defaultEnvironment
        self.tables = tables
        self.overrides = overrides
        self.log = LogConfig()
        self.alerts = AlertsConfig()
        self.audit = AuditConfig()
        self.auth = AuthConfig()
    }

    enum CodingKeys: String, CodingKey {
        case connections, store, environments, tables, overrides, queries, log, alerts, ingestion, audit, auth
        case defaultEnvironment = "default_environment"
        case tableSettings = "table_settings"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        connections = try c.decodeIfPresent([String: String].self, forKey: .connections) ?? [:]
        store = try c.decodeIfPresent(String.self, forKey: .store)
        environments = try c.decodeIfPresent([String: EnvironmentConfig].self, forKey: .environments) ?? [:]
        defaultEnvironment = try c.decodeIfPresent(String.self, forKey: .defaultEnvironment)
        tables = try c.decodeIfPresent(TableSelection.self, forKey: .tables) ?? .init()
        overrides = try c.decodeIfPresent(TypeOverrides.self, forKey: .overrides) ?? .init()
        queries = try c.decodeIfPresent([String: LibraryQuery].self, forKey: .queries) ?? [:]
        tableSettings = try c.decodeIfPresent([String: TableSettings.YAMLForm].self, forKey: .tableSettings)?.mapValues(\.settings) ?? [:]
        log = try c.decodeIfPresent(LogConfig.self, forKey: .log) ?? LogConfig()
        alerts = try c.decodeIfPresent(AlertsConfig.self, forKey: .alerts) ?? AlertsConfig()
        ingestion = try c.decodeIfPresent(IngestionConfig.self, forKey: .ingestion)
        audit = try c.decodeIfPresent(AuditConfig.self, forKey: .audit) ?? AuditConfig()
        auth = try c.decodeIfPresent(AuthConfig.self, forKey: .auth) ?? AuthConfig()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(connections, forKey: .connections)
        try c.encodeIfPresent(store, forKey: .store)
        try c.encode(environments, forKey: .environments)
        try c.encodeIfPresent(defaultEnvironment, forKey: .defaultEnvironment)
        try c.encode(tables, forKey: .tables)
        try c.encode(overrides, forKey: .overrides)
        try c.encode(queries, forKey: .queries)
        if log.level != nil || log.format != nil { try c.encode(log, forKey: .log) }
        if !alerts.channels.isEmpty || alerts.smtp != nil || alerts.interval != nil { try c.encode(alerts, forKey: .alerts) }
        try c.encodeIfPresent(ingestion, forKey: .ingestion)
        if audit.retention != nil { try c.encode(audit, forKey: .audit) }
        if auth.oidc != nil || auth.localAccounts != nil { try c.encode(auth, forKey: .auth) }
        try c.encode(
            tableSettings.mapValues {
                TableSettings.YAMLForm(mode: $0.mode, watermark: $0.watermark, truncate: $0.truncate, chunkRows: $0.chunkRows)
            },
            forKey: .tableSettings)
    }

    /// `auth:` in cutover.yml: sign-in with the team's identity provider, and whether local
    /// accounts (user names and passwords in the store) still sign in.
    public struct AuthConfig: Codable, Sendable {
        public var oidc: OIDCConfig?
        /// false: only the identity provider signs people in (default true).
        public var localAccounts: Bool?

        public init(oidc: OIDCConfig? = nil, localAccounts: Bool? = nil) {
            self.oidc = oidc
            self.localAccounts = localAccounts
        }

        enum CodingKeys: String, CodingKey {
            case oidc
            case localAccounts = "local_accounts"
        }
    }

    /// An OpenID Connect provider (Okta, Entra ID, Google …): `auth: {oidc: {issuer, client_id, client_secret: ${ENV}, …}}`.
    public struct OIDCConfig: Codable, Sendable {
        /// The provider's issuer URL; its `/.well-known/openid-configuration` is read from it.
        public var issuer: String
        public var clientID: String
        /// `${ENV}` is read from the server's environment when used, never stored.
        public var clientSecret: String?
        /// What the login button says ("Sign in with Okta"); default: the issuer's host.
        public var name: String?
        /// Default: openid profile email (plus the scope that carries `role_claim` if you name it here).
        public var scopes: [String]?
        /// The ID-token claim holding the user's groups or roles (e.g. `groups`).
        public var roleClaim: String?
        /// Claim value → admin, user or viewer; the highest one a user has counts.
        public var roleMap: [String: String]?
        /// The role of users none of whose values is mapped; nil refuses them.
        public var defaultRole: String?
        /// The claim that names the user in Cutover (default: preferred_username, then email, then sub).
        public var usernameClaim: String?
        /// Where the browser reaches this server, for the redirect URI `PUBLIC_URL/auth/oidc/callback`
        /// (default: http://HOST:PORT of `cutover serve`).
        public var publicURL: String?

        public init(
            issuer: String, clientID: String, clientSecret: String? = nil, name: String? = nil, scopes: [String]? = nil, roleClaim: String? = nil,
            roleMap: [String: String]? = nil, defaultRole: String? = nil, usernameClaim: String? = nil, publicURL: String? = nil
        ) {
            self.issuer = issuer
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.name = name
            self.scopes = scopes
            self.roleClaim = roleClaim
            self.roleMap = roleMap
            self.defaultRole = defaultRole
            self.usernameClaim = usernameClaim
            self.publicURL = publicURL
        }

        enum CodingKeys: String, CodingKey {
            case issuer, name, scopes
            case clientID = "client_id"
            case clientSecret = "client_secret"
            case roleClaim = "role_claim"
            case roleMap = "role_map"
            case defaultRole = "default_role"
            case usernameClaim = "username_claim"
            case publicURL = "public_url"
        }
    }

    /// `audit:` in cutover.yml.
    public struct AuditConfig: Codable, Sendable {
        /// 365d, 52w: how long audit entries are kept.
        public var retention: String?
        public init(retention: String? = nil) { self.retention = retention }
    }

    /// `log:` in cutover.yml.
    public struct LogConfig: Codable, Sendable {
        /// trace, debug, info, notice, warning, error or critical.
        public var level: String?
        /// text or json.
        public var format: String?
        public init(level: String? = nil, format: String? = nil) {
            self.level = level
            self.format = format
        }
    }

    /// ```yaml
    /// alerts:
    ///   interval: 30s
    ///   smtp: smtp://cutover:${SMTP_PASSWORD}@mail.example.com:587?from=cutover@example.com
    ///   channels:
    ///     ops-hook: {webhook: https://hooks.example.com/cutover, secret: ${HOOK_SECRET}}
    ///     oncall: {email: [oncall@example.com]}
    /// ```
    /// Secrets stay in the config (interpolated from the environment when used); rules in the store
    /// name channels only.
    public struct AlertsConfig: Codable, Sendable {
        public var channels: [String: AlertChannelConfig]
        public var smtp: String?
        /// How often `serve` evaluates the rules: 30s, 5m. Default 30 s.
        public var interval: String?

        public init(channels: [String: AlertChannelConfig] = [:], smtp: String? = nil, interval: String? = nil) {
            self.channels = channels
            self.smtp = smtp
            self.interval = interval
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            channels = try c.decodeIfPresent([String: AlertChannelConfig].self, forKey: .channels) ?? [:]
            smtp = try c.decodeIfPresent(String.self, forKey: .smtp)
            interval = try c.decodeIfPresent(String.self, forKey: .interval)
        }
    }

    /// One destination: a webhook (with the secret its HMAC signature uses) or e-mail addresses.
    public struct AlertChannelConfig: Codable, Sendable {
        public var webhook: String?
        public var secret: String?
        public var email: [String]?

        public init(webhook: String? = nil, secret: String? = nil, email: [String]? = nil) {
            self.webhook = webhook
            self.secret = secret
            self.email = email
        }
    }

    /// ```yaml
    /// ingestion:
    ///   connection: warehouse                  # a named connection or a URL
    ///   pipelines: metadata_config_table_elt   # one row per pipeline
    ///   history: elt_load_history              # optional: one row per load (volumes, failures)
    ///   environment: PROD                      # optional: only that environment's rows
    ///   expected_every: 24h                    # when the pipelines table has no frequency column
    ///   sla_factor: 2                          # lag beyond 2 × the frequency breaches the SLA
    ///   history_window: 30d
    ///   columns: {last_loaded: last_success_at} # where a column is not found by its usual name
    /// ```
    public struct IngestionConfig: Codable, Sendable {
        public var connection: String
        public var pipelines: String
        public var history: String?
        public var environment: String?
        public var expectedEvery: String?
        public var slaFactor: Double?
        public var historyWindow: String?
        /// Role (`IngestionColumns`' names) → column name.
        public var columns: [String: String]

        public init(
            connection: String, pipelines: String, history: String? = nil, environment: String? = nil, expectedEvery: String? = nil,
            slaFactor: Double? = nil, historyWindow: String? = nil, columns: [String: String] = [:]
        ) {
            self.connection = connection
            self.pipelines = pipelines
            self.history = history
            self.environment = environment
            self.expectedEvery = expectedEvery
            self.slaFactor = slaFactor
            self.historyWindow = historyWindow
            self.columns = columns
        }

        enum CodingKeys: String, CodingKey {
            case connection, pipelines, history, environment, columns
            case expectedEvery = "expected_every"
            case slaFactor = "sla_factor"
            case historyWindow = "history_window"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            connection = try c.decode(String.self, forKey: .connection)
            pipelines = try c.decode(String.self, forKey: .pipelines)
            history = try c.decodeIfPresent(String.self, forKey: .history)
            environment = try c.decodeIfPresent(String.self, forKey: .environment)
            expectedEvery = try c.decodeIfPresent(String.self, forKey: .expectedEvery)
            slaFactor = try c.decodeIfPresent(Double.self, forKey: .slaFactor)
            historyWindow = try c.decodeIfPresent(String.self, forKey: .historyWindow)
            columns = try c.decodeIfPresent([String: String].self, forKey: .columns) ?? [:]
        }
    }

    /// Reads and parses a config file. A missing file at the default path is an empty config; a
    /// named file that is missing or malformed is an error that says where.
    public static func load(path: String, required: Bool) throws -> CutoverConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            if required {
                throw CutoverError(.config, "config file \(path) does not exist", hint: "run `cutover init` to write one, or pass URLs as flags")
            }
            return CutoverConfig()
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CutoverError(
                .config, "cannot read config file \(path): \(error.localizedDescription)",
                hint: "check the file's permissions")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String = "cutover.yml") throws -> CutoverConfig {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return CutoverConfig() }
        do {
            return try YAMLDecoder().decode(CutoverConfig.self, from: text)
        } catch let error as DecodingError {
            throw CutoverError(
                .config, "config file \(source) is not valid: \(Self.describe(error))",
                hint: "compare it with the file `cutover init` writes")
        } catch {
            throw CutoverError(
                .config, "config file \(source) is not valid YAML: \(error)",
                hint: "check indentation and quoting near the position given")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "at `\(path(c))`: \(c.debugDescription)"
        case .keyNotFound(let key, let c):
            return "missing key `\(key.stringValue)` at `\(path(c))`"
        @unknown default:
            return String(describing: error)
        }
    }

    /// Resolves a flag value that is either a URL or the name of a configured connection.
    /// `${ENV}` references are expanded only in the connections this file names — text an admin
    /// wrote — never in a URL given directly, which may come from a request.
    /// The environment of that name, or a config error that lists the ones cutover.yml has.
    public func environment(named name: String) throws -> EnvironmentConfig {
        guard let found = environments[name] else {
            throw CutoverError(
                .config, "no environment \(name) in cutover.yml", hint: "environments: " + environments.keys.sorted().joined(separator: ", "))
        }
        return found
    }

    public func resolveConnection(_ nameOrURL: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConnectionURL {
        if let configured = connections[nameOrURL] {
            return try ConnectionURL(parsing: Self.interpolate(configured, environment: environment, in: "connection \(nameOrURL)"))
        }
        guard nameOrURL.contains(":") else {
            let known = connections.keys.sorted()
            throw CutoverError(
                .usage, "'\(nameOrURL)' is neither a connection URL nor a connection named in the config",
                hint: known.isEmpty
                    ? "pass a URL such as postgres://user@host/db or sqlite:file.db"
                    : "configured connections: " + known.joined(separator: ", "))
        }
        return try ConnectionURL(parsing: nameOrURL)
    }

    /// Replaces `${NAME}` and `${NAME:-default}` with environment values; an unset variable with no
    /// default is an error naming it. `place` says where the text came from (it is never echoed: it
    /// may hold a password).
    public static func interpolate(_ text: String, environment: [String: String], in place: String = "the config") throws -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw CutoverError(.config, "unterminated ${ in \(place)", hint: "write ${NAME}")
            }
            let expression = rest[start.upperBound..<end]
            let parts = expression.components(separatedBy: ":-")
            let name = parts[0]
            if let value = environment[name] {
                output += value
            } else if parts.count > 1 {
                output += parts.dropFirst().joined(separator: ":-")
            } else {
                throw CutoverError(
                    .config, "environment variable \(name) is not set (used in \(place))",
                    hint: "export \(name)=... or write ${\(name):-default}")
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return output
    }
}

/// The names one environment (DEV, PROD, …) fills into templated SQL, and its connection.
public struct EnvironmentConfig: Codable, Sendable, Hashable {
    public var database: String?
    public var schema: String?
    public var connection: String?
    public init(database: String? = nil, schema: String? = nil, connection: String? = nil) {
        self.database = database
        self.schema = schema
        self.connection = connection
    }
}

/// Which tables a command works on: glob patterns on `schema.table` (or `table`).
public struct TableSelection: Codable, Sendable, Hashable {
    public var include: [String]
    public var exclude: [String]
    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include
        self.exclude = exclude
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        include = try c.decodeIfPresent([String].self, forKey: .include) ?? []
        exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? []
    }

    public func includes(_ table: TableRef) -> Bool {
        let names = [table.description, table.name]
        let included = include.isEmpty || include.contains { pattern in names.contains { Glob.matches(pattern, $0) } }
        let excluded = exclude.contains { pattern in names.contains { Glob.matches(pattern, $0) } }
        return included && !excluded
    }
}

/// User decisions that win over the built-in type rules.
public struct TypeOverrides: Codable, Sendable, Hashable {
    /// Source native type name (lower-case, without length) → target type, e.g. `numeric: NUMBER(38,10)`.
    public var types: [String: String]
    /// `schema.table.column` or `table.column` → target type.
    public var columns: [String: String]
    public init(types: [String: String] = [:], columns: [String: String] = [:]) {
        self.types = types
        self.columns = columns
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        types = try c.decodeIfPresent([String: String].self, forKey: .types) ?? [:]
        columns = try c.decodeIfPresent([String: String].self, forKey: .columns) ?? [:]
    }

    /// The override for a column, if any, and where it came from.
    public func override(table: TableRef, column: Column) -> (type: String, source: String)? {
        for key in ["\(table.description).\(column.name)", "\(table.name).\(column.name)"] {
            if let type = columns[key] { return (type, "column override `\(key)` in cutover.yml") }
        }
        let native = column.nativeType.lowercased()
        let base = native.split(separator: "(").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? native
        for key in [native, base] {
            if let type = types[key] ?? types.first(where: { $0.key.lowercased() == key })?.value {
                return (type, "type override `\(key)` in cutover.yml")
            }
        }
        return nil
    }
}

/// Shell-style `*` and `?` matching, case-sensitive.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// One query of the library: `queries: { active_pipelines: { description: …, sql: SELECT … FROM {{schema}}.… } }`.
public struct LibraryQuery: Codable, Sendable, Hashable {
    public var description: String?
    public var sql: String
    public init(description: String? = nil, sql: String) {
        self.description = description
        self.sql = sql
    }
}
