import CutoverCore
import Foundation

/// One entry of a team's rulebook registry (`rulebook_registry.json`): an expectation of a suite,
/// kept with its whole definition and known by the hash of it, as the reference's RULEBOOK_REGISTRY.
public struct RegistryRuleRecord: Sendable, Codable, Hashable {
    public var suite: String
    public var expectationType: String
    /// The entry as the file held it, as canonical JSON (sorted keys).
    public var definition: String
    /// SHA-256 of `definition`: the same rule imported twice is one rule.
    public var ruleHash: String
    public var addedOn: String?
    public var lastModified: String
    /// The Cutover check that does the same job (`null_rate`, `allowed_values` …), nil when none does.
    public var check: String?

    public init(suite: String, expectationType: String, definition: String, ruleHash: String, addedOn: String?, lastModified: String, check: String?)
    {
        self.suite = suite
        self.expectationType = expectationType
        self.definition = definition
        self.ruleHash = ruleHash
        self.addedOn = addedOn
        self.lastModified = lastModified
        self.check = check
    }
}

/// A month's figures as another tool reported them (a `monthly_overview_cache.json` entry or a
/// monthly archive's summary JSON), kept beside Cutover's own figures for that month, never added
/// to them.
public struct ReportedMonth: Sendable, Codable, Hashable {
    public var month: String
    /// The file they came from.
    public var origin: String
    public var currentTotal: Int64?
    public var previousTotal: Int64?
    public var delta: Int64?
    public var materials: Int64?
    /// `{name, count}` pairs of the product-hierarchy breakdown.
    public var breakdown: [NamedCount]
    /// The file's log statistics, as JSON.
    public var logStats: String?
    public var dataDate: String?
    public var cachedAt: String
    /// The whole entry as the file held it, as canonical JSON.
    public var payload: String

    public init(
        month: String, origin: String, currentTotal: Int64?, previousTotal: Int64?, delta: Int64?, materials: Int64?, breakdown: [NamedCount],
        logStats: String?, dataDate: String?, cachedAt: String, payload: String
    ) {
        self.month = month
        self.origin = origin
        self.currentTotal = currentTotal
        self.previousTotal = previousTotal
        self.delta = delta
        self.materials = materials
        self.breakdown = breakdown
        self.logStats = logStats
        self.dataDate = dataDate
        self.cachedAt = cachedAt
        self.payload = payload
    }
}

/// A name with how many times it occurs (failures per table, log lines per level).
public struct NamedCount: Sendable, Codable, Hashable {
    public var name: String
    public var count: Int64

    public init(name: String, count: Int64) {
        self.name = name
        self.count = count
    }

    /// Counts of the same name added up, most first, then by name.
    public static func summed(_ counts: [NamedCount]) -> [NamedCount] {
        var totals: [String: Int64] = [:]
        for count in counts { totals[count.name, default: 0] += count.count }
        return totals.map { NamedCount(name: $0.key, count: $0.value) }.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
    }
}

/// The failing rows a suite's validation found on one data date (`<suite>_failures_YYYY-MM-DD.csv`),
/// kept as the exact CSV for drill-down, as the reference's VALIDATION_FAILURES_CACHE.
public struct FailureSnapshotRecord: Sendable, Codable, Hashable {
    public var suite: String
    public var dataDate: String
    public var rows: Int64
    public var columns: [String]
    public var bytes: Int64
    public var sha256: String
    public var cachedAt: String
    public var origin: String

    public init(suite: String, dataDate: String, rows: Int64, columns: [String], bytes: Int64, sha256: String, cachedAt: String, origin: String) {
        self.suite = suite
        self.dataDate = dataDate
        self.rows = rows
        self.columns = columns
        self.bytes = bytes
        self.sha256 = sha256
        self.cachedAt = cachedAt
        self.origin = origin
    }
}

/// What one `cutover workload import` found, as rows the store keeps per table, join pair and
/// column (so SQL and the copilot can ask about them).
public struct WorkloadRows: Sendable {
    public typealias TableUse = (table: String, statements: Int, executions: Int64, milliseconds: Double, timeShare: Double)
    public typealias JoinUse = (left: String, right: String, statements: Int, executions: Int64)
    public typealias ColumnUse = (column: String, filtered: Int64, grouped: Int64, joined: Int64, aggregated: Int64)

    public var tables: [TableUse]
    public var joins: [JoinUse]
    public var columns: [ColumnUse]

    public init(tables: [TableUse], joins: [JoinUse], columns: [ColumnUse]) {
        self.tables = tables
        self.joins = joins
        self.columns = columns
    }
}
