import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Alert rules (admins write them), alerts (users acknowledge and resolve them) and their deliveries.
enum AlertRoutes {
    struct RuleInput: Codable, Sendable {
        var name: String
        var condition: String
        var scope: String?
        var threshold: Double?
        var severity: String?
        var channels: [String]
        /// 15m, 1h, 30s.
        var escalateAfter: String?
        var escalateTo: [String]?
        var enabled: Bool?
    }

    struct Silence: Codable, Sendable {
        /// 2h, 30m; absent or empty: lift the silence.
        var duration: String?
    }

    struct AlertDetail: Codable, Sendable {
        var alert: AlertRecord
        var deliveries: [AlertDeliveryRecord]
    }

    struct ChannelInfo: Codable, Sendable {
        var name: String
        var kind: String
    }

    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(
            .get, "/api/v1/alerts", "Alerts, newest first: state=open|firing|acknowledged|resolved", role: .viewer,
            answer: .json([AlertRecord].self, status: .ok),
            query: [.init(name: "state", kind: .string, description: "open, firing, acknowledged or resolved"), .limit(default: 200)]
        ) { request, _ in
            let filter: String? = try request.query("state")
            if let filter, !AlertRecord.stateFilters.contains(filter) {
                throw APIError(.badRequest, "state is open, firing, acknowledged or resolved")
            }
            return try JSON.response(try await store.alerts(state: filter, limit: try request.integer("limit", default: 200, in: 1...1000)))
        }
        routes.add(.get, "/api/v1/alerts/:id", "One alert with every delivery", role: .viewer, answer: .json(AlertDetail.self, status: .ok)) {
            _, context in
            let id = try context.require("id")
            guard let alert = try await store.alert(id: id) else { throw APIError(.notFound, "no alert \(id)") }
            return try JSON.response(AlertDetail(alert: alert, deliveries: try await store.alertDeliveries(alertID: id)))
        }
        routes.add(
            .post, "/api/v1/alerts/:id/acknowledge", "Acknowledge an alert (stops its escalation)", role: .user, action: "alert.acknowledge",
            answer: .json(AlertRecord.self, status: .ok)
        ) { _, context in
            try JSON.response(try await AlertActions.acknowledge(try existing(context, store), by: context.caller.username, store: store))
        }
        routes.add(
            .post, "/api/v1/alerts/:id/resolve", "Resolve an alert", role: .user, action: "alert.resolve",
            answer: .json(AlertRecord.self, status: .ok)
        ) { _, context in
            try JSON.response(try await AlertActions.resolve(try existing(context, store), by: context.caller.username, store: store))
        }
        routes.add(
            .post, "/api/v1/alerts/evaluate", "Evaluate every rule now (the server also does every alerts.interval)", role: .admin,
            action: "alert.evaluate", answer: .json(AlertEvaluator.Outcome.self, status: .ok)
        ) { _, _ in
            try JSON.response(try await AlertEvaluator(store: store, config: state.config).evaluate())
        }
        routes.add(.get, "/api/v1/alert-rules", "Alert rules", role: .viewer, answer: .json([AlertRuleRecord].self, status: .ok)) { _, _ in
            try JSON.response(try await store.alertRules())
        }
        routes.add(
            .get, "/api/v1/alert-channels", "Channels a rule can name (from cutover.yml; no URLs or secrets)", role: .viewer,
            answer: .json([ChannelInfo].self, status: .ok)
        ) { _, _ in
            let configured = state.config.alerts.channels.sorted { $0.key < $1.key }.map {
                ChannelInfo(name: $0.key, kind: $0.value.webhook != nil ? "webhook" : "email")
            }
            return try JSON.response(
                [ChannelInfo(name: "console", kind: "console"), ChannelInfo(name: "console:USER", kind: "console")] + configured)
        }
        routes.add(
            .post, "/api/v1/alert-rules", "Add or replace an alert rule", role: .admin, action: "alert_rule.save", body: RuleInput.self,
            answer: .json(AlertRuleRecord.self, status: .created)
        ) { request, context in
            let input = try await APIInput.body(request, as: RuleInput.self, context: context)
            let rule = try AlertRuleRecord(
                name: input.name, condition: input.condition, scope: input.scope, threshold: input.threshold,
                severity: input.severity ?? "warning", channels: input.channels,
                escalateAfterSeconds: try input.escalateAfter.map { Int64(try Age.seconds($0, option: "escalate_after")) },
                escalateTo: input.escalateTo ?? [], enabled: input.enabled ?? true, createdBy: context.caller.username
            )
            .checked(config: state.config)
            try await store.saveAlertRule(rule)
            return try JSON.response(rule, status: .created)
        }
        routes.add(
            .post, "/api/v1/alert-rules/:name/silence", "Silence a rule for a while (duration: 2h), or lift it (no duration)", role: .user,
            action: "alert_rule.silence", body: Silence.self, answer: .json(AlertRuleRecord.self, status: .ok)
        ) { request, context in
            let input = try await APIInput.body(request, as: Silence.self, context: context)
            let until = try input.duration.flatMap { $0.isEmpty ? nil : Date().addingTimeInterval(try Age.seconds($0, option: "duration")) }
            return try JSON.response(try await AlertActions.silence(rule: try context.require("name"), until: until, store: store))
        }
        routes.add(
            .delete, "/api/v1/alert-rules/:name", "Remove an alert rule (its alerts stay as history)", role: .admin, action: "alert_rule.delete",
            answer: .empty(status: .noContent)
        ) { _, context in
            let name = try context.require("name")
            guard try await store.deleteAlertRule(name: name) else { throw APIError(.notFound, "no alert rule named \(name)") }
            return Response(status: .noContent)
        }
    }

    private static func existing(_ context: SignedInContext, _ store: any MetadataStore) async throws -> String {
        let id = try context.require("id")
        guard try await store.alert(id: id) != nil else { throw APIError(.notFound, "no alert \(id)") }
        return id
    }
}

/// Set when a job of this server ends, so the alert service evaluates at once instead of at its
/// next interval: a failed run is told about within seconds.
final class AlertNudge: @unchecked Sendable {
    private var nudged = false
    private let lock = NSLock()

    func poke() {
        lock.lock()
        nudged = true
        lock.unlock()
    }

    /// Whether it was poked since the last call.
    func take() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let was = nudged
        nudged = false
        return was
    }
}

/// Evaluates the alert rules every `alerts.interval` (default 30 s) while the server runs, and
/// right after a job of this server ends. A pass that fails is logged and the next one tries again.
struct AlertService: Service {
    let store: any MetadataStore
    let config: CutoverConfig
    let interval: TimeInterval
    var nudge = AlertNudge()
    static let logger = Logger(label: "cutover.alerts")

    func run() async throws {
        let evaluator = AlertEvaluator(store: store, config: config)
        while !Task.isCancelled {
            do {
                let outcome = try await evaluator.evaluate()
                for alert in outcome.fired {
                    Self.logger.warning(
                        "alert \(alert.id) fired: \(alert.title)", metadata: ["rule": "\(alert.rule)", "severity": "\(alert.severity)"])
                }
                for alert in outcome.escalated {
                    Self.logger.warning("alert \(alert.id) escalated: \(alert.title)", metadata: ["rule": "\(alert.rule)"])
                }
                for failure in outcome.unevaluated { Self.logger.error("alert rule \(failure.rule) could not be evaluated: \(failure.error)") }
                for delivery in outcome.deliveries where delivery.status == "failed" {
                    Self.logger.error("alert \(delivery.alertID): \(delivery.channel) not reached: \(delivery.detail ?? "")")
                }
            } catch {
                Self.logger.error("alert evaluation failed: \(error.redactedDescription)")
            }
            do {
                // Waits the interval in steps of a second, and stops waiting when a job ended.
                try await cancelWhenGracefulShutdown {
                    var waited = 0.0
                    while waited < interval, !nudge.take() {
                        try await Task.sleep(nanoseconds: UInt64(min(1, interval - waited) * 1e9))
                        waited += 1
                    }
                }
            } catch {
                return  // shutting down
            }
        }
    }
}

/// Deletes audit entries older than `audit.retention` when the server starts and every 6 hours.
struct AuditRetentionService: Service {
    let store: any MetadataStore
    let retention: TimeInterval
    static let logger = Logger(label: "cutover.audit")

    func run() async throws {
        while !Task.isCancelled {
            do {
                let removed = try await store.pruneAudit(before: ISOTime.string(Date().addingTimeInterval(-retention)))
                if removed > 0 { Self.logger.info("removed \(removed) audit entries older than the retention of \(Format.span(retention))") }
            } catch {
                Self.logger.error("audit retention failed: \(error.redactedDescription)")
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: 6 * 3600 * 1_000_000_000) }
            } catch {
                return
            }
        }
    }
}
