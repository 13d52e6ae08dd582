import CutoverCore
import CutoverStore
import Foundation

extension AlertRuleRecord {
    /// Conditions the evaluator can watch today.
    public static let supportedConditions = ["run_failed", "validation_failed", "pass_rate_below", "run_slower"]

    /// The rule as it may be saved, or a usage error that says what to change. Channels must exist
    /// in the config of the process that saves it.
    public func checked(config: CutoverConfig) throws -> AlertRuleRecord {
        guard !name.isEmpty, name.count <= 80, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CutoverError(.usage, "an alert rule name is 1-80 letters, digits, '-', '_' or '.'", hint: "e.g. prod-run-failed")
        }
        guard Self.supportedConditions.contains(condition) else {
            let pending = Self.conditions.filter { !Self.supportedConditions.contains($0) }
            throw CutoverError(.usage, "unknown alert condition \(condition)"
                               + (pending.contains(condition) ? " (needs ingestion health, not built yet)" : ""),
                               hint: "use one of \(Self.supportedConditions.joined(separator: ", "))")
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
    public static func acknowledge(_ id: String, by user: String, store: any MetadataStore) async throws -> AlertRecord {
        var alert = try await open(id, store: store)
        guard alert.state == "firing" else { return alert }
        alert.state = "acknowledged"
        alert.acknowledgedBy = user
        alert.acknowledgedAt = ISOTime.now()
        try await store.saveAlert(alert)
        return alert
    }

    public static func resolve(_ id: String, by user: String, store: any MetadataStore) async throws -> AlertRecord {
        var alert = try await open(id, store: store)
        alert.state = "resolved"
        alert.resolvedBy = user
        alert.resolvedAt = ISOTime.now()
        try await store.saveAlert(alert)
        return alert
    }

    /// Deliveries are recorded as silenced until then.
    public static func silence(rule name: String, until: Date?, store: any MetadataStore) async throws -> AlertRuleRecord {
        guard var rule = try await store.alertRules().first(where: { $0.name == name }) else {
            throw CutoverError(.usage, "no alert rule named \(name)", hint: "`cutover alerts rules` lists them")
        }
        rule.silencedUntil = until.map(ISOTime.string)
        try await store.saveAlertRule(rule)
        return rule
    }

    private static func open(_ id: String, store: any MetadataStore) async throws -> AlertRecord {
        guard let alert = try await store.alert(id: id) else {
            throw CutoverError(.usage, "no alert \(id)", hint: "`cutover alerts list` shows them")
        }
        guard alert.isOpen else {
            throw CutoverError(.usage, "alert \(id) was resolved at \(alert.resolvedAt ?? "?") by \(alert.resolvedBy ?? "?")", hint: nil)
        }
        return alert
    }
}
