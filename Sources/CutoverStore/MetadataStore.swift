import CutoverCore
import Foundation

/// A run of a command (analyze, plan, migrate, validate, demo) as the store keeps it.
public struct RunRecord: Sendable, Codable, Hashable {
    public var id: String
    public var kind: String
    public var status: String
    public var source: String?
    public var target: String?
    public var startedAt: String
    public var finishedAt: String?
    public var artifactsDir: String?
    public var summary: String?
    public var error: String?

    public init(id: String, kind: String, status: String = "running", source: String?, target: String?, startedAt: String = ISOTime.now(),
                finishedAt: String? = nil, artifactsDir: String? = nil, summary: String? = nil, error: String? = nil) {
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
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: now) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}

/// One table's outcome within a run.
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

    public init(runID: String, table: String, status: String, sourceRows: Int64? = nil, targetRows: Int64? = nil, bytes: Int64? = nil,
                startedAt: String? = nil, finishedAt: String? = nil, message: String? = nil, details: String? = nil) {
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
    public var fields: [String: String]

    public init(at: String = ISOTime.now(), level: String = "info", runID: String?, table: String? = nil, event: String, message: String,
                fields: [String: String] = [:]) {
        self.at = at
        self.level = level
        self.runID = runID
        self.table = table
        self.event = event
        self.message = Redaction.redact(message)
        self.fields = fields.mapValues(Redaction.redact)
    }

    enum CodingKeys: String, CodingKey { case at, level, runID = "run", table, event, message, fields }
}

/// Where Cutover keeps its records: runs, per-table results and logs.
public protocol MetadataStore: Sendable {
    func startRun(_ run: RunRecord) async throws
    func finishRun(id: String, status: String, summary: String?, error: String?) async throws
    func recordTable(_ result: RunTableRecord) async throws
    func log(_ entry: LogEntry) async throws
    func runs(limit: Int) async throws -> [RunRecord]
    func run(id: String) async throws -> RunRecord?
    func tables(runID: String) async throws -> [RunTableRecord]
    func logs(runID: String) async throws -> [LogEntry]
    /// The applied schema version.
    func schemaVersion() async throws -> Int
}

