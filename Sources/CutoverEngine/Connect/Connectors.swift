import CutoverCore
import CutoverPostgres
import CutoverSnowflake
import CutoverSQLServer
import CutoverSQLite
import CutoverStore
import Foundation

/// Whether a connection is read from or written to; a SQLite target file is created, a source never is.
public enum ConnectionRole: Sendable { case source, target }

/// Opens the connector for a URL and names the dialect of each engine.
public enum Connectors {
    public static func connect(_ requested: ConnectionURL, role: ConnectionRole) async throws -> any Connector {
        let url = try withAccessToken(requested)
        switch url.engine {
        case .postgres: return try await PostgresConnector(url: url)
        case .sqlite: return try SQLiteConnector(url: url, createIfMissing: role == .target)
        case .snowflake: return try await SnowflakeConnector(url: url)
        case .sqlserver:
            guard role == .source else {
                throw CutoverError(
                    .usage, "SQL Server is a source only (\(url))", hint: "migrate from SQL Server into Snowflake, PostgreSQL or SQLite")
            }
            // `sqlserver-export:PATH` names no host: the files a DBA exported.
            if url.host == nil { return try SQLServerExportConnector(url: url) }
            return try await SQLServerConnector(url: url)
        }
    }

    /// `token=from-login` on the command line: the token `cutover login` printed, from
    /// `CUTOVER_ACCESS_TOKEN`. (The server fills in the signed-in user's token before connecting.)
    public static func withAccessToken(
        _ url: ConnectionURL, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ConnectionURL {
        guard url.parameters["token"] == ConnectionURL.tokenFromLogin else { return url }
        guard let token = environment["CUTOVER_ACCESS_TOKEN"], !token.isEmpty else {
            throw CutoverError(
                .usage, "\(url) takes the token of a sign-in (token=from-login), and CUTOVER_ACCESS_TOKEN is not set",
                hint: "sign in first: eval \"$(cutover login)\"")
        }
        return url.setting("token", to: token)
    }

    public static func dialect(_ engine: ConnectionURL.Engine) throws -> any Dialect {
        switch engine {
        case .postgres: return PostgresDialect()
        case .sqlite: return SQLiteDialect()
        case .snowflake: return SnowflakeDialect()
        case .sqlserver:
            throw CutoverError(.usage, "planning for SQL Server is not available yet", hint: "use --target-dialect snowflake, postgres or sqlite")
        }
    }

    /// `snowflake`, `postgres`/`postgresql`, `sqlite` → engine.
    public static func engine(named name: String) throws -> ConnectionURL.Engine {
        switch name.lowercased() {
        case "postgres", "postgresql", "pg": return .postgres
        case "sqlite", "sqlite3": return .sqlite
        case "snowflake", "sf": return .snowflake
        default:
            throw CutoverError(.usage, "unknown target dialect '\(name)'", hint: "use snowflake, postgres or sqlite")
        }
    }
}

extension Connectors {
    /// What `url` points at, without creating anything: a SQLite file that does not exist yet has no
    /// identity; PostgreSQL is asked which cluster and database it is.
    public static func identities(of url: ConnectionURL) async throws -> Set<DatabaseIdentity> {
        switch url.engine {
        case .sqlite: return DatabaseIdentity.file(atPath: url.database).map { [$0] } ?? []
        case .postgres: return [try await BlockingIO.run { try PostgresSession(url: url).identity() }]
        case .snowflake: return [try SnowflakeSettings(url).identity]
        case .sqlserver: return []
        }
    }

    /// Refuses `url` when it points at the metadata store, however it is spelled.
    public static func refuseStore(_ url: ConnectionURL, store: any MetadataStore) async throws {
        guard
            store.identities.contains(where: { identity in
                switch (identity, url.engine) {
                case (.file, .sqlite), (.postgres, .postgres), (.snowflake, .snowflake): true
                default: false
                }
            })
        else { return }
        if !store.identities.isDisjoint(with: try await identities(of: url)) {
            throw CutoverError(
                .notPermitted, "\(url) is Cutover's metadata store: it cannot be a source, a target or a query connection",
                hint: "the store holds users, password hashes and signing keys; name another database")
        }
    }
}
