import CutoverCore
import Foundation

// Alert rules, alerts and deliveries.
extension SQLMetadataStore {
    static let alertRuleColumns = """
        name, condition, scope, threshold, severity, channels, escalate_after_seconds, escalate_to, silenced_until, enabled, created_by, created_at
        """
    static let alertColumns = """
        id, rule_name, dedup_key, state, severity, title, detail, subject, first_at, last_at, occurrences, escalation_level, \
        acknowledged_by, acknowledged_at, resolved_by, resolved_at
        """
    static let deliveryColumns = "alert_id, event, channel, attempts, status, detail, at"

    public func saveAlertRule(_ r: AlertRuleRecord) async throws {
        let channels = try Self.jsonText(r.channels), escalateTo = try Self.jsonText(r.escalateTo)
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM alert_rules WHERE name = \(r.name)")
                _ = try db.execute(
                    "INSERT INTO alert_rules (\(raw: Self.alertRuleColumns)) VALUES (\(r.name), \(r.condition), \(r.scope), \(r.threshold.map { String($0) }), \(r.severity), \(channels), \(r.escalateAfterSeconds), \(escalateTo), \(r.silencedUntil), \(r.enabled ? "1" : "0"), \(r.createdBy), \(r.createdAt))"
                )
            }
        }
    }

    public func alertRules() async throws -> [AlertRuleRecord] {
        try await run { db in
            let rows = try db.execute("SELECT \(raw: Self.alertRuleColumns) FROM alert_rules ORDER BY name")
            return try NamedRow.rows("alert_rules", Self.alertRuleColumns, rows).map(Self.alertRule)
        }
    }

    private static func alertRule(_ row: NamedRow) throws -> AlertRuleRecord {
        AlertRuleRecord(
            name: try row.required("name"), condition: try row.required("condition"), scope: row.optional("scope"),
            threshold: try row.double("threshold"),
            severity: try row.required("severity"), channels: try row.decoded("channels", as: [String].self),
            escalateAfterSeconds: try row.int("escalate_after_seconds"), escalateTo: try row.decoded("escalate_to", as: [String].self),
            silencedUntil: row.optional("silenced_until"), enabled: try row.requiredInt("enabled") != 0, createdBy: row.optional("created_by"),
            createdAt: try row.required("created_at"))
    }

    public func deleteAlertRule(name: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try !db.execute("SELECT 1 FROM alert_rules WHERE name = \(name)").isEmpty else { return false }
                _ = try db.execute("DELETE FROM alert_rules WHERE name = \(name)")
                return true
            }
        }
    }

    public func saveAlert(_ a: AlertRecord) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM alerts WHERE id = \(a.id)")
                _ = try db.execute(
                    "INSERT INTO alerts (\(raw: Self.alertColumns)) VALUES (\(a.id), \(a.rule), \(a.key), \(a.state), \(a.severity), \(a.title), \(a.detail), \(a.subject), \(a.firstAt), \(a.lastAt), \(a.occurrences), \(a.escalationLevel), \(a.acknowledgedBy), \(a.acknowledgedAt), \(a.resolvedBy), \(a.resolvedAt))"
                )
            }
        }
    }

    public func alertKeys(rule: String) async throws -> Set<String> {
        try await run { db in Set(try db.execute("SELECT DISTINCT dedup_key FROM alerts WHERE rule_name = \(rule)").compactMap { $0.first ?? nil })
        }
    }

    public func alert(id: String) async throws -> AlertRecord? {
        try await alerts(where: "id = \(id)", limit: 1).first
    }

    public func alerts(state: String?, limit: Int) async throws -> [AlertRecord] {
        switch state {
        case nil: return try await alerts(where: "1 = 1", limit: limit)
        case "open": return try await alerts(where: "state <> 'resolved'", limit: limit)
        case let state?: return try await alerts(where: "state = \(state)", limit: limit)
        }
    }

    private func alerts(where condition: StoreSQL, limit: Int) async throws -> [AlertRecord] {
        try await run { db in
            let rows = try db.execute(
                "SELECT \(raw: Self.alertColumns) FROM alerts WHERE \(condition) ORDER BY first_at DESC, id DESC LIMIT \(raw: String(max(0, limit)))")
            return try NamedRow.rows("alerts", Self.alertColumns, rows).map { row in
                var alert = AlertRecord(
                    id: try row.required("id"), rule: try row.required("rule_name"), key: try row.required("dedup_key"),
                    state: try row.required("state"), severity: try row.required("severity"), title: try row.required("title"),
                    detail: row.optional("detail"), subject: row.optional("subject"), firstAt: try row.required("first_at"),
                    lastAt: try row.required("last_at"), occurrences: try row.requiredInt("occurrences"),
                    escalationLevel: Int(try row.requiredInt("escalation_level")))
                alert.acknowledgedBy = row.optional("acknowledged_by")
                alert.acknowledgedAt = row.optional("acknowledged_at")
                alert.resolvedBy = row.optional("resolved_by")
                alert.resolvedAt = row.optional("resolved_at")
                return alert
            }
        }
    }

    public func recordAlertDelivery(_ d: AlertDeliveryRecord) async throws {
        try await run { db in
            _ = try db.execute(
                "INSERT INTO alert_deliveries (\(raw: Self.deliveryColumns)) VALUES (\(d.alertID), \(d.event), \(d.channel), \(d.attempts), \(d.status), \(d.detail), \(d.at))"
            )
        }
    }

    public func alertDeliveries(alertID: String) async throws -> [AlertDeliveryRecord] {
        try await run { db in
            let rows = try db.execute("SELECT \(raw: Self.deliveryColumns) FROM alert_deliveries WHERE alert_id = \(alertID) ORDER BY id")
            return try NamedRow.rows("alert_deliveries", Self.deliveryColumns, rows).map { row in
                AlertDeliveryRecord(
                    alertID: try row.required("alert_id"), event: try row.required("event"), channel: try row.required("channel"),
                    attempts: Int(try row.requiredInt("attempts")), status: try row.required("status"), detail: row.optional("detail"),
                    at: try row.required("at"))
            }
        }
    }

    static func jsonText(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
