import CutoverCore
import Foundation

/// One validation run (a `validate`, a pipeline, the validation of a migration, or one imported
/// from a file-based history): its suite and how many checks passed, failed and warned.
public struct ValidationRunRecord: Sendable, Codable, Hashable {
    public var id: String
    /// The pipeline's name, `validate`, `rules`, or the imported suite's name.
    public var suite: String
    public var source: String?
    public var target: String?
    /// The day the data was validated for (`YYYY-MM-DD`).
    public var dataDate: String?
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public var passed: Int
    public var failed: Int
    public var warned: Int
    /// `cutover` for runs made here, `import:<path>` for imported ones.
    public var origin: String

    /// The items (material numbers, keys) the run validated, as a suite file lists them.
    public var materials: [String]?
    /// The project whose pipeline ran, and which pipeline exactly: its name, the SHA-256 of its
    /// YAML and the YAML itself (the project's pipeline may change later; this run's does not).
    public var projectID: String?
    public var pipelineName: String?
    public var pipelineHash: String?
    public var pipelineContent: String?

    public init(
        id: String, suite: String, source: String? = nil, target: String? = nil, dataDate: String? = nil, startedAt: String = ISOTime.now(),
        finishedAt: String? = nil, status: String, passed: Int = 0, failed: Int = 0, warned: Int = 0, origin: String = "cutover"
    ) {
        self.id = id
        self.suite = suite
        self.source = source
        self.target = target
        self.dataDate = dataDate ?? String(startedAt.prefix(10))
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.passed = passed
        self.failed = failed
        self.warned = warned
        self.origin = origin
    }
}

extension ValidationRunRecord {
    /// A finished run counted from its results: failed when any check failed.
    public init(
        id: String, suite: String, source: String? = nil, target: String? = nil, startedAt: String, finishedAt: String,
        summarizing results: [ValidationResultRecord], origin: String = "cutover"
    ) {
        let count = { (status: String) in results.filter { $0.status == status }.count }
        // A check that did not run is not a pass: a cancelled pipeline is never recorded as passed.
        let notRun = results.filter { ["cancelled", "skipped", "interrupted"].contains($0.status) }.count
        self.init(
            id: id, suite: suite, source: source, target: target, startedAt: startedAt, finishedAt: finishedAt,
            status: count("failed") > 0 ? "failed" : notRun > 0 ? "cancelled" : "passed", passed: count("passed"), failed: count("failed"),
            warned: count("warning"), origin: origin)
    }
}

/// How a check ended — a table compare, a pipeline step, a rule. Its raw value is what the store,
/// the reports and the API say. (`validation_results.status` also keeps what imported history
/// files said, so that column is read as text.)
public enum CheckStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case passed
    /// Failed, but with severity `warn`: reported, not failing the run.
    case warning
    case failed
    /// Not run: the run was cancelled first.
    case cancelled
}

/// One check's outcome within a validation run; `details` is the check's own JSON.
public struct ValidationResultRecord: Sendable, Codable, Hashable {
    public var validationRunID: String
    public var step: Int?
    public var check: String
    public var table: String?
    /// passed, failed or warning.
    public var status: String
    public var severity: String?
    public var message: String?
    public var durationMS: Int64?
    public var sourceRows: Int64?
    public var targetRows: Int64?
    public var matchPercent: Double?
    public var affectedColumns: [String]
    public var details: String?
    public var at: String

    public init(
        validationRunID: String, step: Int? = nil, check: String, table: String?, status: String, severity: String? = nil, message: String?,
        durationMS: Int64? = nil, sourceRows: Int64? = nil, targetRows: Int64? = nil, matchPercent: Double? = nil,
        affectedColumns: [String] = [], details: String? = nil, at: String = ISOTime.now()
    ) {
        self.validationRunID = validationRunID
        self.step = step
        self.check = check
        self.table = table
        self.status = status
        self.severity = severity
        self.message = message
        self.durationMS = durationMS
        self.sourceRows = sourceRows
        self.targetRows = targetRows
        self.matchPercent = matchPercent
        self.affectedColumns = affectedColumns
        self.details = details
        self.at = at
    }
}

/// A table's introspected columns as cached: `payload` is the catalog's JSON for the table.
public struct ColumnMetadataRecord: Sendable, Codable, Hashable {
    public var connection: String
    public var schema: String
    public var table: String
    public var payload: String
    public var fetchedAt: String

    public init(connection: String, schema: String, table: String, payload: String, fetchedAt: String = ISOTime.now()) {
        self.connection = connection
        self.schema = schema
        self.table = table
        self.payload = payload
        self.fetchedAt = fetchedAt
    }
}

/// One month of activity: runs, validation outcomes and rows moved.
public struct MonthlyOverview: Sendable, Codable, Hashable {
    public var month: String
    public var runs: Int64 = 0
    public var failedRuns: Int64 = 0
    public var migrations: Int64 = 0
    public var rowsMoved: Int64 = 0
    public var validationRuns: Int64 = 0
    public var checks: Int64 = 0
    public var passed: Int64 = 0
    public var failed: Int64 = 0
    public var warned: Int64 = 0
    /// Failed checks of the month before, and `failed` minus that (the reference's previous total
    /// and delta); filled in when the overview is put together.
    public var previousFailed: Int64 = 0
    public var failedDelta: Int64 = 0
    /// Distinct materials (the keys a suite validated) over the month's validation runs.
    public var materials: Int64 = 0
    /// Failed checks per table, most first (the breakdown the reference keeps per product hierarchy).
    public var failuresByTable: [NamedCount] = []
    /// Log lines of the month, per level, and the ten most frequent events (plugins, for imported logs).
    public var logLines: Int64 = 0
    public var logLevels: [NamedCount] = []
    public var logEvents: [NamedCount] = []
    /// The month as another tool reported it (an imported overview cache or archive summary), beside
    /// Cutover's own figures.
    public var reported: ReportedMonth?
    /// passed / checks, nil without checks.
    public var passRate: Double? { checks == 0 ? nil : Double(passed) / Double(checks) }

    public init(month: String) { self.month = month }
}

/// The overview and where it came from: `memory`, `cache` (the store's overview_cache) or `rebuilt`.
public struct OverviewAnswer: Sendable, Codable {
    public var months: [MonthlyOverview]
    public var servedFrom: String
    public var cachedAt: String
}

/// The most recent failed checks, as cached for dashboards.
public struct FailuresAnswer: Sendable, Codable {
    public var failures: [ValidationResultRecord]
    public var servedFrom: String
    public var cachedAt: String
}

/// A project: the source and target a team validates, with its mappings and settings.
public struct ProjectRecord: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    public var description: String?
    public var source: String?
    public var target: String?
    /// JSON: the project's settings and mappings.
    public var settings: String?
    public var createdBy: String?
    public var createdAt: String

    public init(
        id: String = UUID().uuidString.lowercased(), name: String, description: String? = nil, source: String? = nil, target: String? = nil,
        settings: String? = nil, createdBy: String? = nil, createdAt: String = ISOTime.now()
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.source = source
        self.target = target
        self.settings = settings
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A pipeline file kept in the store, in a project ("" for none).
extension ProjectRecord {
    /// The settings as a JSON object (empty when there are none). Auto-setup's proposal or the
    /// saved mapping decisions are under `mappings`, their versions under `mapping_history`, the
    /// project's environment under `environment`.
    public var settingsObject: [String: Any] {
        guard let settings, let object = try? JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: Any] else {
            return [:]  // none yet; settings are only ever written by Cutover as an object
        }
        return object
    }

    /// Changes the settings object and stores it back as key-sorted JSON.
    public mutating func updateSettings(_ change: (inout [String: Any]) throws -> Void) throws {
        var object = settingsObject
        try change(&object)
        settings = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The environment (from cutover.yml) the project's runs use.
    public var environment: String? { settingsObject["environment"] as? String }

    /// The stored mappings' tables (the proposal's or the decisions'); nil when never set up.
    public var mappingTables: [[String: Any]]? { (settingsObject["mappings"] as? [String: Any])?["tables"] as? [[String: Any]] }
}

/// A project's pipeline: its YAML and the SHA-256 that identifies this version of it.
public struct PipelineRecord: Sendable, Codable, Hashable {
    public var id: String
    public var projectID: String
    public var name: String
    public var content: String
    public var contentHash: String
    public var updatedAt: String

    public init(
        id: String = UUID().uuidString.lowercased(), projectID: String = "", name: String, content: String, contentHash: String,
        updatedAt: String = ISOTime.now()
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.content = content
        self.contentHash = contentHash
        self.updatedAt = updatedAt
    }
}

/// Roles, weakest first: a viewer reads, a user also starts and changes what they own, an admin
/// also manages users, everyone's runs and projects, raw connection URLs and writing SQL. The raw
/// values are what `users.role` holds.
public enum UserRole: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case viewer, user, admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .user: 1
        case .admin: 2
        }
    }

    public static func < (a: UserRole, b: UserRole) -> Bool { a.rank < b.rank }
}

/// A user of the server.
public struct UserRecord: Sendable, Codable, Hashable {
    public var id: String
    public var username: String
    /// A bcrypt hash; never the password.
    public var passwordHash: String
    public var role: UserRole
    public var lastLoginAt: String?
    public var createdAt: String
    /// Set while an admin has disabled the account: no sign-in, no session, no API token counts.
    public var disabledAt: String?
    /// Sessions signed before this moment no longer count: set when the password changes, when
    /// the account is disabled, and on signing out a session that has no id.
    public var sessionsValidAfter: String?
    /// The identity provider (its issuer) that signs this user in; nil for a local account with a password.
    public var provider: String?

    public init(
        id: String = UUID().uuidString.lowercased(), username: String, passwordHash: String, role: UserRole,
        lastLoginAt: String? = nil, createdAt: String = ISOTime.now(), disabledAt: String? = nil, sessionsValidAfter: String? = nil,
        provider: String? = nil
    ) {
        self.provider = provider
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
        self.disabledAt = disabledAt
        self.sessionsValidAfter = sessionsValidAfter
    }

    public var isDisabled: Bool { disabledAt != nil }
}

/// Who did what to which resource, and how it ended.
public struct AuditRecord: Sendable, Codable, Hashable {
    public var at: String
    public var username: String?
    public var action: String
    public var resource: String?
    public var outcome: String
    public var details: String?

    public init(at: String = ISOTime.now(), username: String?, action: String, resource: String?, outcome: String, details: String? = nil) {
        self.at = at
        self.username = username
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.details = details
    }
}

/// A message for one user (or everyone): a run finished, an alert fired, a batch ended.
public struct NotificationRecord: Sendable, Codable, Hashable {
    public var id: Int64?
    public var at: String
    /// nil: for everyone.
    public var username: String?
    public var kind: String
    public var title: String
    public var message: String?
    public var runID: String?
    public var readAt: String?

    public init(
        id: Int64? = nil, at: String = ISOTime.now(), username: String? = nil, kind: String, title: String, message: String? = nil,
        runID: String? = nil, readAt: String? = nil
    ) {
        self.id = id
        self.at = at
        self.username = username
        self.kind = kind
        self.title = title
        self.message = message.map(Redaction.redact)
        self.runID = runID
        self.readAt = readAt
    }
}

/// What `cutover store stats` shows.
public struct StoreStats: Sendable, Codable {
    /// One store table's row count.
    public struct Table: Sendable, Codable { public var name: String; public var rows: Int64 }
    /// One in-process cache's hits and misses.
    public struct Cache: Sendable, Codable {
        public var name: String
        public var entries: Int64
        public var oldest: String?
        public var hits: Int64
        public var misses: Int64
        public var rebuiltAt: String?
    }
    public var location: String
    public var engine: String
    public var schemaVersion: Int
    public var tables: [Table]
    public var caches: [Cache]
}

/// A batch of migrations and validations run together, at most `maxParallel` at a time.
public struct BatchRecord: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    /// running, cancelling, succeeded, failed or cancelled.
    public var status: String
    public var maxParallel: Int
    public var createdBy: String?
    public var createdAt: String
    public var finishedAt: String?

    /// The project it was started for.
    public var projectID: String?

    public init(
        id: String = UUID().uuidString.lowercased(), name: String, status: String = "running", maxParallel: Int, createdBy: String?,
        createdAt: String = ISOTime.now(), finishedAt: String? = nil, projectID: String? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.maxParallel = maxParallel
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.projectID = projectID
    }
}

/// One item of a batch: what to run (`spec`, JSON), the run it became and how it ended.
public struct BatchItemRecord: Sendable, Codable, Hashable {
    public var batchID: String
    public var number: Int
    /// migration or validation.
    public var kind: String
    public var spec: String
    public var runID: String?
    /// pending, running, succeeded, failed or cancelled.
    public var status: String
    public var message: String?

    public init(batchID: String, number: Int, kind: String, spec: String, runID: String? = nil, status: String = "pending", message: String? = nil) {
        self.batchID = batchID
        self.number = number
        self.kind = kind
        self.spec = spec
        self.runID = runID
        self.status = status
        self.message = message
    }
}

/// A personal API token (for scripts and CI): only its SHA-256 is stored; the secret is shown once.
public struct APITokenRecord: Sendable, Codable, Hashable {
    public var id: String
    public var userID: String
    public var name: String
    public var tokenHash: String
    public var createdAt: String
    public var expiresAt: String?
    public var revokedAt: String?

    public init(
        id: String = UUID().uuidString.lowercased(), userID: String, name: String, tokenHash: String, createdAt: String = ISOTime.now(),
        expiresAt: String? = nil, revokedAt: String? = nil
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}
