import CutoverCore
import Crypto
import Foundation

/// A run of a command (analyze, plan, migrate, validate, demo) as the store keeps it.
/// A file a run wrote (analysis, plan, DDL, results, summary, log), as the store keeps it.
public struct ArtifactRecord: Sendable, Codable, Hashable {
    public var runID: String
    public var name: String
    public var bytes: Int64
    public var sha256: String
    /// False when the file was too large to keep in the store (only its size and digest are).
    public var stored: Bool
    public var storedAt: String

    /// Above this (gzip-compressed) size an artifact's bytes stay in the run folder only; the store
    /// keeps its size and digest. Snowflake's VARCHAR holds 16 MB; base64 adds a third.
    public static let maxStoredBytes = 8 * 1024 * 1024

    public init(runID: String, name: String, bytes: Int64, sha256: String, stored: Bool, storedAt: String) {
        self.runID = runID
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
        self.stored = stored
        self.storedAt = storedAt
    }
}

/// A run's state, as `runs.status` holds it.
public enum RunStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case running, cancelling, succeeded, failed, cancelled
    /// Its coordinator's lease ran out: nobody runs it any more (resumable).
    case interrupted
    /// An unfinished incremental run a later one replaced.
    case superseded
    /// A plan with columns that need a human decision.
    case needsReview = "needs_review"

    /// Still owned by a process that may take more work.
    public var isActive: Bool { self == .running || self == .cancelling }
    /// Ended without finishing its work: a rerun of the same command resumes it.
    public var isResumable: Bool { self == .interrupted || self == .failed || self == .cancelled }
}

/// One run of any kind (analyze, plan, migrate, validate, pipeline, …) as the store keeps it.
public struct RunRecord: Sendable, Codable, Hashable {
    public var id: String
    public var kind: String
    public var status: RunStatus
    public var source: String?
    public var target: String?
    public var startedAt: String
    public var finishedAt: String?
    public var artifactsDir: String?
    public var summary: String?
    public var error: String?
    /// Identifies the plan (tables, columns, modes, chunk bounds) so a rerun of the same plan resumes.
    public var planHash: String?
    /// Who started it (the signed-in user for runs started through the server).
    public var createdBy: String?
    /// The process coordinating the run (`host:pid:nonce`) while it runs, and until when its lease
    /// holds; a running run whose lease ran out is shown as `interrupted`.
    public var leaseOwner: String?
    public var leaseUntil: String?
    /// How the server started it (JSON, connection references masked), so it can be resumed.
    public var request: String?

    public init(
        id: String, kind: String, status: RunStatus = .running, source: String?, target: String?, startedAt: String = ISOTime.now(),
        finishedAt: String? = nil, artifactsDir: String? = nil, summary: String? = nil, error: String? = nil, planHash: String? = nil,
        createdBy: String? = nil, leaseOwner: String? = nil, leaseUntil: String? = nil, request: String? = nil
    ) {
        self.planHash = planHash
        self.createdBy = createdBy
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
        self.request = request
        self.id = id
        self.kind = kind
        self.status = status
        self.source = source
        self.target = target
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.artifactsDir = artifactsDir
        self.summary = summary
        self.error = error
    }

    /// A sortable, readable id: `20261123-091502-3fa9`.
    public static func newID(now: Date = Date()) -> String {
        ISOTime.compactStamp(now) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}

/// One table's outcome within a run.
extension RunRecord {
    /// How long a finished run took; nil while it runs.
    public var seconds: Double? {
        guard let start = ISOTime.parse(startedAt), let end = finishedAt.flatMap(ISOTime.parse) else { return nil }
        return end.timeIntervalSince(start)
    }
}

/// One table's outcome within a run (or one step's, for pipelines).
public struct RunTableRecord: Sendable, Codable, Hashable {
    public var runID: String
    public var table: String
    public var status: String
    public var sourceRows: Int64?
    public var targetRows: Int64?
    public var bytes: Int64?
    public var startedAt: String?
    public var finishedAt: String?
    public var message: String?
    /// JSON with step-specific details.
    public var details: String?

    public init(
        runID: String, table: String, status: String, sourceRows: Int64? = nil, targetRows: Int64? = nil, bytes: Int64? = nil,
        startedAt: String? = nil, finishedAt: String? = nil, message: String? = nil, details: String? = nil
    ) {
        self.runID = runID
        self.table = table
        self.status = status
        self.sourceRows = sourceRows
        self.targetRows = targetRows
        self.bytes = bytes
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.message = message
        self.details = details
    }
}

/// One structured log line.
public struct LogEntry: Sendable, Codable, Hashable {
    public var at: String
    public var level: String
    public var runID: String?
    public var table: String?
    public var event: String
    public var message: String
    public var fields: [String: String] { didSet { storedFields = nil } }
    /// ``fields`` as stored (canonical JSON; nil for none), kept by ``identify()`` so an import
    /// encodes each line's fields once. Derived: not part of equality.
    private(set) var storedFields: String?

    public init(
        at: String = ISOTime.now(), level: String = "info", runID: String?, table: String? = nil, event: String, message: String,
        fields: [String: String] = [:]
    ) {
        self.at = at
        self.level = level
        self.runID = runID
        self.table = table
        self.event = event
        self.message = Redaction.redact(message)
        // Rewritten only where a value changes (most hold no secret): no second dictionary per line.
        var masked = fields
        for (name, value) in fields {
            let redacted = Redaction.redact(value)
            if redacted != value { masked[name] = redacted }
        }
        self.fields = masked
    }

    /// The identity of an imported line (its whole content, see ``contentKey()``); nil for the
    /// lines Cutover writes itself, which may legitimately repeat.
    public var key: String?

    enum CodingKeys: String, CodingKey { case at, level, runID = "run", table, event, message, fields }

    /// SHA-256 (first 128 bits, hex) of every part of the line, so the same line exported twice is
    /// stored once and lines that differ in anything are both kept. The store's unique index is
    /// (time, key): the time is not repeated in the key (before store migration 23 it led it).
    public func contentKey() -> String { contentKey(fieldsJSON: JSONCanonical.object(fields)) }

    /// A key as stored since migration 23: one written before (`time/hash`) loses its time.
    public static func currentKey(_ stored: String) -> String {
        guard let slash = stored.lastIndex(of: "/") else { return stored }
        return String(stored[stored.index(after: slash)...])
    }

    private func contentKey(fieldsJSON: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        for part in [at, level, runID ?? "", table ?? "", event, message, fieldsJSON] {
            bytes.append(contentsOf: part.utf8)
            bytes.append(0x1F)
        }
        return SHA256.hash(data: bytes).withUnsafeBytes { Hex.encode($0.prefix(16)) }
    }

    /// Marks an imported line: sets ``key`` to its ``contentKey()`` and keeps its fields' JSON for the store.
    public mutating func identify() {
        let json = fieldsColumn
        key = contentKey(fieldsJSON: json ?? "{}")
        storedFields = json
    }

    /// The fields' column value: nil for none, else their canonical JSON.
    var fieldsColumn: String? { storedFields ?? (fields.isEmpty ? nil : JSONCanonical.object(fields)) }

    public static func == (a: LogEntry, b: LogEntry) -> Bool {
        (a.at, a.level, a.runID, a.table) == (b.at, b.level, b.runID, b.table)
            && (a.event, a.message, a.key, a.fields) == (b.event, b.message, b.key, b.fields)
    }

    public func hash(into hasher: inout Hasher) {
        for part in [at, level, runID, table, event, message, key] { hasher.combine(part) }
        hasher.combine(fields)
    }

    /// The fields as stored (a JSON object); text that is not one — written by hand or by another
    /// tool — is kept whole under `unparsed` rather than dropped.
    static func fields(stored: String?) -> [String: String] {
        guard let stored, !stored.isEmpty else { return [:] }
        if let fields = try? JSONDecoder().decode([String: String].self, from: Data(stored.utf8)) { return fields }  // not an object: kept whole below
        return ["unparsed": stored]
    }
}

/// One chunk in the ledger: a key range of one table of one run.
/// The high watermark of the last incremental load of one table from a source into a target.
public struct WatermarkRecord: Sendable, Codable, Hashable {
    public var source: String
    public var target: String
    public var table: String
    public var column: String
    /// NULL when the load saw no value in the column (an empty table, or only NULLs).
    public var value: String?
    public var runID: String?
    public var updatedAt: String
}

/// The rows one incremental run loads of a table: its watermark column from `low` (inclusive,
/// nil on a first or full load) to `high` (inclusive, the source's maximum when the run started;
/// nil when the column held no value then). Kept so a resumed run and its workers load the same
/// window, and so the watermark advances to `high` only once the whole table is in.
public struct RunWindow: Sendable, Codable, Hashable {
    public var column: String
    public var low: String?
    public var high: String?
    public init(column: String, low: String?, high: String?) {
        self.column = column
        self.low = low
        self.high = high
    }
}

/// One chunk of a table's move in the ledger: its bounds, state, rows, checksum and lease.
public struct ChunkRecord: Sendable, Codable, Hashable {
    /// Where a chunk is: waiting, held by a worker, loaded, or failed.
    public enum State: String, Sendable, Codable, CaseIterable { case pending, running, done, failed }
    public var runID: String
    public var table: String
    public var number: Int
    /// JSON of the chunk's bounds, as the mover wrote it.
    public var bounds: String
    public var state: State
    public var rows: Int64?
    public var bytes: Int64?
    public var checksum: String?
    public var attempts: Int
    public var leaseOwner: String?
    public var leaseUntil: String?
    public var error: String?

    public init(
        runID: String, table: String, number: Int, bounds: String, state: State = .pending, rows: Int64? = nil, bytes: Int64? = nil,
        checksum: String? = nil, attempts: Int = 0, leaseOwner: String? = nil, leaseUntil: String? = nil, error: String? = nil
    ) {
        self.runID = runID
        self.table = table
        self.number = number
        self.bounds = bounds
        self.state = state
        self.rows = rows
        self.bytes = bytes
        self.checksum = checksum
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
        self.error = error
    }
}

/// A source row the target refused (`--on-error reject`), with why.
public struct RejectRecord: Sendable, Codable, Hashable {
    public var runID: String
    public var table: String
    public var chunk: Int?
    public var key: String?
    public var reason: String
    /// The row as JSON (column → canonical text).
    public var values: String?

    public init(runID: String, table: String, chunk: Int?, key: String?, reason: String, values: String?) {
        self.runID = runID
        self.table = table
        self.chunk = chunk
        self.key = key
        self.reason = reason
        self.values = values
    }
}

/// How much a broken rule weighs: `error` fails the run when its `error_if` holds, `warn` only warns.
public enum RuleSeverity: String, Sendable, Codable, Hashable, CaseIterable { case error, warn }

/// Which database a rule's SQL runs on.
public enum RuleSide: String, Sendable, Codable, Hashable, CaseIterable { case source, target, both }

/// A rule of the rulebook as stored: identified by the hash of its content, so the same rule is
/// stored once however often it is loaded.
public struct StoredRule: Sendable, Codable, Hashable {
    public var contentHash: String
    /// Who added its first version (nil for rules loaded by the CLI or imported): its owner.
    public var createdBy: String?
    /// A rule is known by its name; saving a changed rule of that name makes a new version.
    public var name: String
    public var description: String?
    public var severity: RuleSeverity
    public var sql: String
    public var warnIf: String?
    public var errorIf: String?
    public var side: RuleSide
    public var category: String?
    /// 1 for the first content saved under this name, then one more per change.
    public var version: Int
    /// When and by whom this version was saved.
    public var updatedAt: String?
    public var updatedBy: String?

    public init(
        contentHash: String, name: String, description: String?, severity: RuleSeverity, sql: String, warnIf: String?, errorIf: String?,
        side: RuleSide,
        category: String? = nil, createdBy: String? = nil, version: Int = 1, updatedAt: String? = nil, updatedBy: String? = nil
    ) {
        self.contentHash = contentHash
        self.createdBy = createdBy
        self.name = name
        self.description = description
        self.severity = severity
        self.sql = sql
        self.warnIf = warnIf
        self.errorIf = errorIf
        self.side = side
        self.category = category
        self.version = version
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

/// Where Cutover keeps its records, as one store: every repository below, implemented once by
/// ``SQLMetadataStore`` over SQLite, PostgreSQL or Snowflake. Code that needs one concept can take
/// that repository (`any RunRepository`, `any AuditRepository`, …) instead.
public protocol MetadataStore: RunRepository, ValidationRepository, RulebookRepository, CacheRepository, ProjectRepository, UserRepository,
    AuditRepository, NotificationRepository, AlertRepository, BatchRepository, ArtifactRepository, ImportedHistoryRepository, StoreOperations
{}

/// What a sign-in attempt may do.
public enum SignInReservation: Sendable, Equatable {
    /// Check the password; this attempt is already counted as a failure until cleared.
    case allowed
    /// Refused without checking, until then.
    case locked(until: String)
}

/// The tables `cutover store archive` moves out, each with its time column and key.
public enum ArchivableTable: String, Sendable, CaseIterable, Codable {
    case validationResults = "validation_results"
    case validationRuns = "validation_runs"
    case logs

    public var timeColumn: String { self == .validationRuns ? "started_at" : "at" }
    /// Archived and deleted in key order, so a batch is a key range.
    public var key: String { "id" }
    /// Ordered numerically (identity columns) or as text (run ids).
    public var numericKey: Bool { self != .validationRuns }
    /// Archives count this table's rows per month and status (results), or per month only.
    public var countedByStatus: Bool { self == .validationResults }

    /// The table an archive file (`TABLE-before-DATE-ID.ndjson.gz`, as `store archive` names it) holds; nil for other files.
    public static func archived(inFile name: String) -> ArchivableTable? {
        guard name.hasSuffix(".ndjson.gz") else { return nil }
        return allCases.first { name.hasPrefix($0.rawValue + "-before-") }
    }
}
