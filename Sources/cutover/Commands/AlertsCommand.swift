import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alert rules, alerts and their deliveries.",
        discussion: """
            A rule watches a condition — run_failed, validation_failed, pass_rate_below (percent), run_slower (times the median \
            of earlier runs with the same source and target), and on the ingestion metadata (`cutover ingestion health`) \
            ingestion_stale (times the expected frequency, default 1), ingestion_failed and row_count_anomaly (robust \
            deviations, default 3.5) — and tells its channels when it holds: webhooks named under \
            alerts.channels in cutover.yml (POST JSON, signed with HMAC-SHA256 when the channel has a secret) or `console` \
            (every user's notifications; `console:NAME` for one user). An alert nobody acknowledges within --escalate-after \
            goes to the --escalate-to channels too. `cutover serve` evaluates the rules every alerts.interval (30s); \
            `cutover alerts evaluate` runs one pass (from cron, without a server).

            Example: cutover alerts add prod-failures --when run_failed --channel ops-hook --severity critical \\
                       --escalate-after 15m --escalate-to oncall-hook
            """,
        subcommands: [Add.self, Rules.self, Remove.self, Silence.self, List.self, Show.self, Acknowledge.self, Resolve.self, Evaluate.self])

    /// Who acts from the CLI: the login name (the API records the signed-in user instead).
    static var user: String? { ProcessInfo.processInfo.environment["USER"] }

    /// Acknowledge or resolve one alert and say its new state.
    static func act(_ action: (String, String, any MetadataStore) async throws -> AlertRecord, on id: String, _ global: GlobalOptions) async throws {
        let alert = try await action(id, user ?? "cli", try await global.openStore(try global.loadConfig()))
        Terminal.say("\(alert.id) \(alert.state)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace an alert rule.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rule's name.") var name: String
        @Option(
            name: .customLong("when"),
            help: "run_failed, validation_failed, pass_rate_below, run_slower, ingestion_stale, ingestion_failed or row_count_anomaly.")
        var condition: String
        @Option(name: .long, help: "A table name or glob (validation and ingestion conditions), or a run kind (run conditions).") var scope: String?
        @Option(
            name: .long,
            help:
                "pass_rate_below: percent (default 90); run_slower: factor (default 2); ingestion_stale: factor of the frequency (default 1); row_count_anomaly: deviations (default 3.5)."
        ) var threshold: Double?
        @Option(name: .long, help: "info, warning or critical.") var severity = "warning"
        @Option(name: .long, help: "A channel to tell (repeatable).") var channel: [String] = []
        @Option(name: .long, help: "Escalate an unacknowledged alert after this long: 15m, 1h.", transform: Age.parsing("--escalate-after"))
        var escalateAfter: TimeInterval?
        @Option(name: .long, help: "A channel to escalate to (repeatable).") var escalateTo: [String] = []

        func run() async throws {
            let config = try global.loadConfig()
            let rule = try AlertRuleRecord(
                name: name, condition: condition, scope: scope, threshold: threshold, severity: severity, channels: channel,
                escalateAfterSeconds: escalateAfter.map { Int64($0) },
                escalateTo: escalateTo, createdBy: AlertsCommand.user
            ).checked(config: config)
            try await global.openStore(config).saveAlertRule(rule)
            Terminal.say("saved alert rule \(name): \(condition) → \(channel.joined(separator: ", "))")
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the alert rules.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let rules = try await global.openStore(try global.loadConfig()).alertRules()
            if format == .json { return Terminal.say(String(decoding: try JSONEncoder.cli.encode(rules), as: UTF8.self)) }
            if rules.isEmpty { return Terminal.say("no alert rules (add one with `cutover alerts add`)") }
            for rule in rules {
                var line = "\(rule.name): \(rule.condition)\(rule.scope.map { " (\($0))" } ?? "")\(rule.threshold.map { " threshold \($0)" } ?? "")"
                line += " [\(rule.severity)] → \(rule.channels.joined(separator: ", "))"
                if let after = rule.escalateAfterSeconds {
                    line += "; after \(Format.duration(Double(after))) → \(rule.escalateTo.joined(separator: ", "))"
                }
                if let until = rule.silencedUntil { line += "; silenced until \(until)" }
                Terminal.say(line)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alert rule (its alerts stay as history).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            guard try await global.openStore(try global.loadConfig()).deleteAlertRule(name: name) else {
                throw CutoverError(.usage, "no alert rule named \(name)", hint: "`cutover alerts rules` lists them")
            }
            Terminal.say("removed alert rule \(name)")
        }
    }

    struct Silence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a rule's alerts without delivering them for a while (--for 0m lifts it).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .customLong("for"), help: "How long: 2h, 30m.", transform: Age.parsing("--for")) var duration: TimeInterval

        func run() async throws {
            let seconds = duration
            let rule = try await AlertActions.silence(
                rule: name, until: seconds > 0 ? Date().addingTimeInterval(seconds) : nil,
                store: try await global.openStore(try global.loadConfig()))
            Terminal.say(rule.silencedUntil.map { "\(name) silenced until \($0)" } ?? "\(name) is no longer silenced")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "open, firing, acknowledged or resolved.") var state: String?
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            if let state, !AlertRecord.stateFilters.contains(state) {
                throw CutoverError(.usage, "--state is open, firing, acknowledged or resolved")
            }
            let alerts = try await global.openStore(try global.loadConfig()).alerts(state: state, limit: 200)
            if format == .json { return Terminal.say(String(decoding: try JSONEncoder.cli.encode(alerts), as: UTF8.self)) }
            if alerts.isEmpty { return Terminal.say("no alerts") }
            for alert in alerts {
                Terminal.say(
                    "\(alert.id)  \(alert.state.padding(toLength: 12, withPad: " ", startingAt: 0)) \(alert.severity.padding(toLength: 8, withPad: " ", startingAt: 0)) "
                        + "\(alert.firstAt)  \(alert.title)\(alert.occurrences > 1 ? " (×\(alert.occurrences))" : "")\(alert.escalationLevel > 0 ? " [escalated]" : "")"
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alert with every delivery.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let alert = try await store.alert(id: id) else {
                throw CutoverError(.usage, "no alert \(id)", hint: "`cutover alerts list` shows them")
            }
            Terminal.say("\(alert.id) [\(alert.severity)] \(alert.state): \(alert.title)")
            if let detail = alert.detail { Terminal.say(detail.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")) }
            Terminal.say("rule \(alert.rule) · first \(alert.firstAt) · last \(alert.lastAt) · \(alert.occurrences) occurrence(s)")
            if let by = alert.acknowledgedBy { Terminal.say("acknowledged by \(by) at \(alert.acknowledgedAt ?? "?")") }
            if let by = alert.resolvedBy { Terminal.say("resolved by \(by) at \(alert.resolvedAt ?? "?")") }
            for d in try await store.alertDeliveries(alertID: id) {
                Terminal.say("  \(d.at) \(d.event) → \(d.channel): \(d.status) after \(d.attempts) attempt(s)\(d.detail.map { " (\($0))" } ?? "")")
            }
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an alert (it is not escalated after this).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() async throws { try await AlertsCommand.act(AlertActions.acknowledge, on: id, global) }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve an alert.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() async throws { try await AlertsCommand.act(AlertActions.resolve, on: id, global) }
    }

    struct Evaluate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate every rule once: fire, deliver, escalate, resolve.",
            discussion:
                "Exits 1 when a delivery failed (after its retries), 3 when a rule could not be evaluated (its condition's source out of reach; the other rules were)."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try global.loadConfig()
            let outcome = try await AlertEvaluator(store: try await global.openStore(config), config: config).evaluate()
            for alert in outcome.fired { Terminal.say("fired \(alert.id) [\(alert.severity)] \(alert.title)") }
            for alert in outcome.escalated { Terminal.say("escalated \(alert.id) \(alert.title)") }
            for alert in outcome.resolved { Terminal.say("resolved \(alert.id) \(alert.title)") }
            for d in outcome.deliveries { Terminal.say("  \(d.event) \(d.alertID) → \(d.channel): \(d.status)\(d.detail.map { " (\($0))" } ?? "")") }
            Terminal.say(
                "\(outcome.fired.count) fired, \(outcome.repeated) still holding, \(outcome.escalated.count) escalated, \(outcome.resolved.count) resolved"
            )
            for failure in outcome.unevaluated { Terminal.error("error: alert rule \(failure.rule) could not be evaluated: \(failure.error)") }
            if !outcome.unevaluated.isEmpty { throw ExitCode(3) }
            if outcome.deliveries.contains(where: { $0.status == "failed" }) { throw ExitCode.failure }
        }
    }
}
