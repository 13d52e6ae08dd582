import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

// Request and answer bodies of the API (snake_case on the wire).

struct Health: Encodable {
    struct Store: Encodable { var schemaVersion: Int }
    var status: String
    var store: Store
    var connections: [[String: String]]
}

struct Register: Decodable {
    var username: String
    var password: String
    var role: String?
}

struct Login: Decodable {
    var username: String
    var password: String
}

/// A user as the API shows one: never the password hash.
struct PublicUser: Encodable {
    var id: String
    var username: String
    var role: String
    var lastLoginAt: String?
    var createdAt: String

    init(_ user: UserRecord) {
        id = user.id
        username = user.username
        role = user.role
        lastLoginAt = user.lastLoginAt
        createdAt = user.createdAt
    }
}

struct LoginAnswer: Encodable {
    var token: String
    var expiresAt: String
    var user: PublicUser
}

struct ConnectionTest: Decodable { var connection: String }

struct StartMigration: Decodable {
    var source: String
    var target: String
    var mode: String?
    var tables: [String]?
    var parallel: Int?
    var replace: Bool?
    var validate: Bool?
}

struct StartValidation: Decodable {
    var source: String
    var target: String
    /// Pipeline YAML; without it, the row compare of every table.
    var pipeline: String?
    var name: String?
    var tables: [String]?
}

struct Artifact: Encodable {
    var name: String
    var bytes: Int
    var url: String
}

struct LogLine: Encodable {
    var id: Int64
    var entry: LogEntry
}

struct Progress: Encodable {
    struct Table: Encodable {
        var table: String
        var status: String?
        var message: String?
        var chunks = 0
        var done = 0
        var running = 0
        var pending = 0
        var failed = 0
        var rows: Int64 = 0
    }
    var run: RunRecord
    var tables: [Table]
}

struct History: Encodable {
    var table: String
    var results: [ValidationResultRecord]
}

struct ValidationDetail: Encodable {
    var run: ValidationRunRecord
    var results: [ValidationResultRecord]
}

struct Overview: Encodable {
    var months: [MonthlyOverview]
    var servedFrom: String
    var recentRuns: [RunRecord]
    var recentFailures: [ValidationResultRecord]
}

struct NewProject: Decodable {
    var name: String
    var description: String?
    var source: String?
    var target: String?
}

struct ProjectDetail: Encodable {
    var project: ProjectRecord
    var pipelines: [PipelineRecord]
}

struct NewPipeline: Decodable {
    var name: String
    var content: String
}

struct RunRules: Decodable {
    var source: String?
    var target: String?
    var environment: String?
    var names: [String]?
}

struct RulesOutcome: Encodable {
    var runId: String
    var results: [RuleResult]
}

struct RunSQL: Decodable {
    var connection: String
    /// The SQL, or the name of a library query.
    var sql: String?
    var query: String?
    var environment: String?
}

struct AuditCount: Encodable {
    var action: String
    var outcome: String
    var count: Int
}

struct EnvironmentList: Encodable {
    struct Item: Encodable {
        var name: String
        var database: String?
        var schema: String?
    }
    var `default`: String?
    var environments: [Item]
}

struct NewToken: Decodable {
    var name: String
    var expiresInDays: Int?
}

struct CreatedToken: Encodable {
    var id: String
    var name: String
    /// The secret, shown this once.
    var token: String
    var expiresAt: String?
}

struct PublicToken: Encodable {
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
