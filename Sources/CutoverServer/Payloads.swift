import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

// Request and answer bodies of the API (snake_case on the wire). Answers are Codable so that the
// OpenAPI document can be reflected from them (SchemaReflector).

struct Health: Codable {
    struct Store: Codable { var schemaVersion: Int }
    var status: String
    var store: Store
}

struct Register: Codable {
    var username: String
    var password: String
    var role: Role?
}

struct Login: Codable {
    var username: String
    var password: String
}

/// A user as the API shows one: never the password hash.
struct PublicUser: Codable {
    var id: String
    var username: String
    var role: String
    var lastLoginAt: String?
    var createdAt: String
    var disabledAt: String?
    /// The identity provider that signs this user in; nil for a local account.
    var provider: String?

    init(_ user: UserRecord) {
        provider = user.provider
        id = user.id
        username = user.username
        role = user.role.rawValue
        lastLoginAt = user.lastLoginAt
        createdAt = user.createdAt
        disabledAt = user.disabledAt
    }
}

/// An admin's change to a user: any of role and disabled.
struct UserChange: Codable {
    var role: Role?
    var disabled: Bool?
}

struct PasswordChange: Codable {
    var currentPassword: String
    var newPassword: String
}

struct LoginAnswer: Codable {
    var token: String
    var expiresAt: String
    var user: PublicUser
}

struct ConnectionInfo: Codable {
    var name: String
    /// The URL with its password masked.
    var url: String
    var engine: String
    /// With `check=true`: `ok` or why it failed.
    var status: String?
}

struct ConnectionTest: Codable { var connection: String }

struct ConnectionStatus: Codable {
    var connection: String
    var status: String
}

/// The replaced tool's `POST /api/v1/test-connections`: both ends of a migration at once.
struct ConnectionPairTest: Codable {
    var source: String?
    var target: String?
}

struct ConnectionPairStatus: Codable {
    var source: ConnectionStatus?
    var target: ConnectionStatus?
    var ok: Bool
}

struct StartMigration: Codable {
    var source: String
    var target: String
    var mode: MoveOptions.Mode?
    var tables: [String]?
    var parallel: Int?
    var replace: Bool?
    var validate: Bool?
    var truncate: Bool?
    /// Incremental by this column, for every table (per table: `table_settings`).
    var watermark: String?
    var chunkRows: Int64?
    /// Every table into this target schema.
    var targetSchema: String?
    /// Require an unfinished run of this plan to resume (an error when there is none).
    var resume: Bool?
    /// Per table (`schema.table`, `table` or a glob): mode, watermark, truncate, chunk_rows; wins over cutover.yml's.
    var tableSettings: [String: TableSettings]?
}

struct StartValidation: Codable {
    /// Named connections; default: the project's.
    var source: String?
    var target: String?
    /// Pipeline YAML; without it (and without `pipeline_name`), the row compare of every table.
    var pipeline: String?
    var name: String?
    var tables: [String]?
    /// The project the run belongs to; with `pipeline_name`, which of its pipelines runs.
    var project: String?
    var pipelineName: String?
    /// Fills {{database}}, {{schema}}, {{environment}} in step SQL; default: the project's.
    var environment: String?
}

struct RunStarted: Codable { var runId: String }

struct RunState: Codable {
    var runId: String
    var status: String
}

struct Artifact: Codable {
    var name: String
    var bytes: Int
    var url: String
    /// Where it is read from: `store` (any server sees it) or `folder` (this machine's run folder only).
    var source: String
}

struct LogLine: Codable {
    var id: Int64
    var entry: LogEntry
}

struct Progress: Codable {
    struct Table: Codable {
        var table: String
        var status: String?
        var message: String?
        var chunks = 0
        var done = 0
        var running = 0
        var pending = 0
        var failed = 0
        var rows: Int64 = 0
        /// Chunks done of all chunks, 0–100.
        var percent: Double = 0
    }
    var run: RunRecord
    /// `planning` (no chunks yet), `loading`, `finishing` (chunks done: indexes, foreign keys,
    /// validation), or the run's final status.
    var phase: String
    /// Chunks done of all chunks of the run, 0–100 (100 once it succeeded).
    var percent: Double
    var rowsMoved: Int64
    var elapsedSeconds: Double?
    /// While loading: the time left at the pace of the chunks done so far; nil before the first.
    var etaSeconds: Double?
    var tables: [Table]
}

struct History: Codable {
    var table: String
    var results: [ValidationResultRecord]
}

struct ValidationDetail: Codable {
    var run: ValidationRunRecord
    var results: [ValidationResultRecord]
}

struct Overview: Codable {
    var months: [MonthlyOverview]
    var servedFrom: String
    var recentRuns: [RunRecord]
    var recentFailures: [ValidationResultRecord]
}

struct NewProject: Codable {
    var name: String
    var description: String?
    var source: String?
    var target: String?
}

/// Changes to a project: any of its name, description and connections.
struct ProjectChange: Codable {
    var name: String?
    var description: String?
    var source: String?
    var target: String?
    /// An environment from cutover.yml for the project's runs ({{database}}, {{schema}} in step SQL); "" clears it.
    var environment: String?
}

struct ProjectDetail: Codable {
    var project: ProjectRecord
    var pipelines: [PipelineRecord]
}

/// A pipeline as YAML (`content`) or as typed steps (`steps`, keys as in the YAML: `tolerance_percent`),
/// which the server writes as YAML.
struct NewPipeline: Codable {
    var name: String
    var content: String?
    var steps: [StepSpec]?
    var parallel: Int?
}

struct RunRules: Codable {
    var source: String?
    var target: String?
    var environment: String?
    var names: [String]?
}

struct RulesOutcome: Codable {
    var runId: String
    var results: [RuleResult]
}

struct RunSQL: Codable {
    var connection: String
    /// The SQL, or the name of a library query.
    var sql: String?
    var query: String?
    var environment: String?
    /// Admins only: run a statement that writes (committed). Everyone else's SQL runs read-only.
    var write: Bool?
}

struct SQLAnswer: Codable {
    var columns: [String]
    var rows: [[String?]]
    var truncated: Bool
    var sql: String
    var milliseconds: Int
    var affectedRows: Int64?
    /// What to know about the connection, e.g. that its database role could write.
    var warnings: [String]
}

struct LibraryQueryInfo: Codable {
    var name: String
    var description: String
    var sql: String
}

struct AuditCount: Codable {
    var action: String
    var outcome: String
    var count: Int
}

struct EnvironmentList: Codable {
    struct Item: Codable {
        var name: String
        var database: String?
        var schema: String?
    }
    var `default`: String?
    var environments: [Item]
}

struct NewToken: Codable {
    var name: String
    var expiresInDays: Int?
}

struct CreatedToken: Codable {
    var id: String
    var name: String
    /// The secret, shown this once.
    var token: String
    var expiresAt: String?
}

struct PublicToken: Codable {
    var id: String
    var name: String
    var createdAt: String
    var expiresAt: String?
    var revokedAt: String?

    init(_ token: APITokenRecord) {
        id = token.id
        name = token.name
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
    }
}

extension Role: SchemaEnumerable {}
extension MoveOptions.Mode: SchemaEnumerable {}
extension ChunkRecord.State: SchemaEnumerable {}
extension Rule.Severity: SchemaEnumerable {}
extension Rule.Side: SchemaEnumerable {}

/// A person's decisions on a project's mappings: each source table accepted (with its target,
/// possibly changed) or excluded, and per column a target, an exclusion, a transformation (SQL
/// applied to the source value) or a tolerance (as `validate --tolerance` takes: 0.01, ms, empty-null, case).
struct MappingDecisions: Codable {
    var tables: [TableDecision]

    struct TableDecision: Codable {
        var source: String
        var target: String?
        /// accepted, excluded or proposed (not looked at yet).
        var decision: String
        var confidence: Double?
        var reason: String?
        var columns: [ColumnDecision]?
    }

    struct ColumnDecision: Codable {
        var source: String
        var target: String?
        var excluded: Bool?
        var transformation: String?
        var tolerance: String?
        /// As auto-setup proposed them, kept for the page.
        var confidence: Double?
        var reason: String?
        var sourceType: String?
        var targetType: String?
        var typeFits: Bool?
    }

    static let decisions = ["accepted", "excluded", "proposed"]
}

/// One saved version of a project's mapping decisions.
struct MappingVersion: Codable {
    var version: Int
    var at: String
    var by: String
    var accepted: Int
    var excluded: Int
}

/// `pipeline suggest` for a project, as steps the builder takes.
struct SuggestedSteps: Codable {
    var runId: String
    var steps: [StepSpec]
    var tables: Int
    /// What the suggestion read from the source: each table's role (fact, dimension, bridge),
    /// surrogate and business keys, and relationships, declared or inferred from names.
    var profiles: [TableProfile]
}
