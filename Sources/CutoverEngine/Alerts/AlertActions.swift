import CutoverCore
import CutoverStore
import Foundation

extension AlertRuleRecord {
    /// Conditions on the ingestion metadata (`ingestion:` in cutover.yml).
    public static let ingestionConditions = ["ingestion_stale", "ingestion_failed", "row_count_anomaly"]

    /// The rule as it may be saved, or a usage error that says what to change. Channels must exist
    /// in the config of the process that saves it.
    public func checked(config: CutoverConfig) throws -> AlertRuleRecord {
        guard !name.isEmpty, name.count <= 80, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CutoverError(.usage, "an alert rule name is 1-80 letters, digits, '-', '_' or '.'", hint: "e.g. prod-run-failed")
        }
        guard Self.conditions.contains(condition) else {
            throw CutoverError(.usage, "unknown alert condition \(condition)", hint: "use one of \(Self.conditions.joined(separator: ", "))")
        }
        if Self.ingestionConditions.contains(condition), config.ingestion == nil {
            throw CutoverError(
                .usage, "\(condition) watches the ingestion metadata, and no `ingestion:` is configured",
                hint: "add `ingestion: {connection: NAME-OR-URL, pipelines: TABLE}` to cutover.yml (the server's too)")
        }
        guard Self.severities.contains(severity) else {
            throw CutoverError(.usage, "unknown severity \(severity)", hint: "use info, warning or critical")
        }
        if let threshold {
            guard threshold.isFinite else { throw CutoverError(.usage, "the threshold must be a number", hint: nil) }
            if condition == "pass_rate_below", !(0...100).contains(threshold) {
                throw CutoverError(.usage, "pass_rate_below takes a percent between 0 and 100", hint: "e.g. --threshold 95")
            }
            if condition == "run_slower", threshold <= 1 {
                throw CutoverError(.usage, "run_slower takes a factor above 1 (times the median duration)", hint: "e.g. --threshold 2")
            }
            if condition == "ingestion_stale", threshold <= 0 {
                throw CutoverError(.usage, "ingestion_stale takes a factor of the expected frequency above 0", hint: "e.g. --threshold 1.5")
            }
            if condition == "row_count_anomaly", threshold <= 0 {
                throw CutoverError(.usage, "row_count_anomaly takes a number of robust deviations above 0", hint: "e.g. --threshold 3.5")
            }
        }
        guard !channels.isEmpty else { throw CutoverError(.usage, "an alert rule needs at least one channel", hint: "e.g. --channel console") }
        for channel in channels + escalateTo { _ = try AlertChannel.named(channel, config: config) }
        if !escalateTo.isEmpty, escalateAfterSeconds == nil {
            throw CutoverError(.usage, "escalation channels need an escalation time", hint: "add --escalate-after 15m")
        }
        if let escalateAfterSeconds, escalateAfterSeconds < 0 { throw CutoverError(.usage, "the escalation time cannot be negative", hint: nil) }
        return self
    }
}

/// What people do with alerts, the same from the CLI and the API.
public enum AlertActions {
    /// firing → acknowledged (no escalation after this).
    public static func acknowledge(_ id: String, by user: String, store: any AlertRepository) async throws -> AlertRecord {
        var alert = try await open(id, store: store)
        guard alert.state == "firing" else { return alert }
        alert.state = "acknowledged"
        alert.acknowledgedBy = user
        alert.acknowledgedAt = ISOTime.now()
        try await store.saveAlert(alert)
        return alert
    }

    public static func resolve(_ id: String, by user: String, store: any AlertRepository) async throws -> AlertRecord {
        var alert = try await open(id, store: store)
        alert.state = "resolved"
        alert.resolvedBy = user
        alert.resolvedAt = ISOTime.now()
        try await store.saveAlert(alert)
        return alert
    }

    /// Deliveries are recorded as silenced until then.
    public static func silence(rule name: String, until: Date?, store: any AlertRepository) async throws -> AlertRuleRecord {
        guard var rule = try await store.alertRules().first(where: { $0.name == name }) else {
            throw CutoverError(.usage, "no alert rule named \(name)", hint: "`cutover alerts rules` lists them")
        }
        rule.silencedUntil = until.map(ISOTime.string)
        try await store.saveAlertRule(rule)
        return rule
    }

    private static func open(_ id: String, store: any AlertRepository) async throws -> AlertRecord {
        guard let alert = try await store.alert(id: id) else {
            throw CutoverError(.usage, "no alert \(id)", hint: "`cutover alerts list` shows them")
        }
        guard alert.isOpen else {
            throw CutoverError(.usage, "alert \(id) was resolved at \(alert.resolvedAt ?? "?") by \(alert.resolvedBy ?? "?")", hint: nil)
        }
        return alert
    }
}
