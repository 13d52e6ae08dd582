import CutoverCore
import Foundation

/// A condition watched by `cutover serve` (and `cutover alerts evaluate`), and where its alerts go.
public struct AlertRuleRecord: Sendable, Codable, Hashable {
    public var name: String
    /// One of ``AlertRuleRecord/conditions``.
    public var condition: String
    /// A table name or glob (checks, pass rate, ingestion), or a run kind (run conditions); nil: all.
    public var scope: String?
    /// pass_rate_below: the percent; run_slower: the factor over the median; ingestion_stale: the
    /// factor over the expected frequency; row_count_anomaly: the robust deviations.
    public var threshold: Double?
    /// info, warning or critical.
    public var severity: String
    /// Channel names from `alerts.channels` in cutover.yml, or `console` / `console:USER`.
    public var channels: [String]
    /// Unacknowledged this long after it fired, an alert goes to ``escalateTo`` too.
    public var escalateAfterSeconds: Int64?
    public var escalateTo: [String]
    /// Until then alerts are recorded but not delivered.
    public var silencedUntil: String?
    public var enabled: Bool
    public var createdBy: String?
    public var createdAt: String

    public static let conditions = [
        "run_failed", "validation_failed", "pass_rate_below", "run_slower", "ingestion_stale", "ingestion_failed", "row_count_anomaly",
    ]
    public static let severities = ["info", "warning", "critical"]

    public init(
        name: String, condition: String, scope: String? = nil, threshold: Double? = nil, severity: String = "warning", channels: [String],
        escalateAfterSeconds: Int64? = nil, escalateTo: [String] = [], silencedUntil: String? = nil, enabled: Bool = true,
        createdBy: String? = nil, createdAt: String = ISOTime.now()
    ) {
        self.name = name
        self.condition = condition
        self.scope = scope
        self.threshold = threshold
        self.severity = severity
        self.channels = channels
        self.escalateAfterSeconds = escalateAfterSeconds
        self.escalateTo = escalateTo
        self.silencedUntil = silencedUntil
        self.enabled = enabled
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// One occurrence of a rule's condition, from firing until resolved. A condition that holds again
/// while its alert is open adds an occurrence to it (deduplicated by ``key``), nothing is sent again.
public struct AlertRecord: Sendable, Codable, Hashable {
    public var id: String
    public var rule: String
    /// What the alert is about, unique per rule while open: `run:ID`, `table:NAME`, …
    public var key: String
    /// firing, acknowledged or resolved.
    public var state: String
    public var severity: String
    public var title: String
    public var detail: String?
    /// The run, validation run or table it is about.
    public var subject: String?
    public var firstAt: String
    public var lastAt: String
    public var occurrences: Int64
    /// 0 when only the rule's channels were told; 1 once escalated.
    public var escalationLevel: Int
    public var acknowledgedBy: String?
    public var acknowledgedAt: String?
    public var resolvedBy: String?
    public var resolvedAt: String?

    public init(
        id: String = AlertRecord.newID(), rule: String, key: String, state: String = "firing", severity: String, title: String, detail: String?,
        subject: String?, firstAt: String = ISOTime.now(), lastAt: String? = nil, occurrences: Int64 = 1, escalationLevel: Int = 0
    ) {
        self.id = id
        self.rule = rule
        self.key = key
        self.state = state
        self.severity = severity
        self.title = title
        self.detail = detail
        self.subject = subject
        self.firstAt = firstAt
        self.lastAt = lastAt ?? firstAt
        self.occurrences = occurrences
        self.escalationLevel = escalationLevel
    }

    public var isOpen: Bool { state != "resolved" }

    /// What a listing can ask for: a state, or `open` for firing and acknowledged.
    public static let stateFilters = ["open", "firing", "acknowledged", "resolved"]

    public static func newID() -> String {
        "al-" + String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
            + String(UInt16.random(in: .min ... .max), radix: 16).leftPadded(to: 4)
    }
}

/// One attempt (with its retries) to tell a channel about an alert.
public struct AlertDeliveryRecord: Sendable, Codable, Hashable {
    public var alertID: String
    /// fired, escalated or resolved.
    public var event: String
    public var channel: String
    public var attempts: Int
    /// delivered, failed or silenced.
    public var status: String
    public var detail: String?
    public var at: String

    public init(alertID: String, event: String, channel: String, attempts: Int, status: String, detail: String?, at: String = ISOTime.now()) {
        self.alertID = alertID
        self.event = event
        self.channel = channel
        self.attempts = attempts
        self.status = status
        self.detail = detail
        self.at = at
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
