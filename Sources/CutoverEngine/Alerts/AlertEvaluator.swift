import CutoverCore
import CutoverStore
import Foundation

/// One pass over the alert rules: what holds now becomes an alert (or another occurrence of an open
/// one), what no longer holds resolves, and unacknowledged alerts past their rule's escalation time
/// go to the escalation channels. `cutover serve` runs a pass every `alerts.interval`;
/// `cutover alerts evaluate` runs one (from cron, without a server).
public struct AlertEvaluator: Sendable {
    let store: any MetadataStore
    let config: CutoverConfig
    let sender: AlertSender

    /// What one evaluation pass did.
    public struct Outcome: Codable, Sendable {
        public var fired: [AlertRecord] = []
        public var repeated = 0
        public var resolved: [AlertRecord] = []
        public var escalated: [AlertRecord] = []
        public var deliveries: [AlertDeliveryRecord] = []
        /// Rules whose condition could not be evaluated this pass (an ingestion source out of
        /// reach), with why; the other rules were evaluated.
        public var unevaluated: [RuleFailure] = []
    }

    /// A rule whose condition could not be evaluated in a pass, and why.
    public struct RuleFailure: Codable, Sendable {
        public var rule: String
        public var error: String
    }

    /// What a condition found: one alert's key, subject and words.
    struct Finding: Sendable {
        var key: String
        var subject: String?
        var title: String
        var detail: String?
    }

    public init(store: any MetadataStore, config: CutoverConfig) {
        self.store = store
        self.config = config
        self.sender = AlertSender(store: store, config: config)
    }

    public func evaluate(now: Date = Date()) async throws -> Outcome {
        var outcome = Outcome()
        let stamp = ISOTime.string(now)
        var ingestion: Result<IngestionHealth, any Error>?  // read once per pass, by the first rule that needs it
        // Open alerts are read once per pass; each rule adds what it fires.
        var openByRule = Dictionary(grouping: try await store.alerts(state: "open", limit: 10_000), by: \.rule)
        for rule in try await store.alertRules() where rule.enabled {
            let silenced = rule.silencedUntil.flatMap(ISOTime.parse).map { $0 > now } ?? false
            let findings: [Finding]
            do {
                findings = try await self.findings(for: rule, now: now, ingestion: &ingestion)
            } catch {
                // One rule that cannot be evaluated must not keep the others from being evaluated;
                // its open alerts stay as they are (nothing is known to have recovered).
                outcome.unevaluated.append(RuleFailure(rule: rule.name, error: error.redactedDescription))
                continue
            }
            var holding: Set<String> = []
            // One read per rule, not one per finding: a one-shot condition may list hundreds of finished runs.
            let alerted = Self.isOneShot(rule.condition) ? try await store.alertKeys(rule: rule.name) : []
            for finding in findings {
                holding.insert(finding.key)
                if let index = openByRule[rule.name]?.firstIndex(where: { $0.key == finding.key }) {
                    if Self.isOneShot(rule.condition) { continue }  // a finished run is alerted on once
                    openByRule[rule.name]?[index].lastAt = stamp
                    openByRule[rule.name]?[index].occurrences += 1
                    openByRule[rule.name]?[index].detail = finding.detail
                    if let updated = openByRule[rule.name]?[index] { try await store.saveAlert(updated) }
                    outcome.repeated += 1
                    continue
                }
                if alerted.contains(finding.key) { continue }  // alerted on already, and resolved since
                let alert = AlertRecord(
                    rule: rule.name, key: finding.key, severity: rule.severity, title: finding.title, detail: finding.detail,
                    subject: finding.subject, firstAt: stamp)
                try await store.saveAlert(alert)
                openByRule[rule.name, default: []].append(alert)
                outcome.fired.append(alert)
                outcome.deliveries += try await sender.send("fired", alert, rule: rule, to: rule.channels, silenced: silenced)
            }
            for var alert in openByRule[rule.name] ?? [] {
                if Self.isState(rule.condition), !holding.contains(alert.key) {
                    alert.state = "resolved"
                    alert.resolvedBy = "cutover (the condition no longer holds)"
                    alert.resolvedAt = stamp
                    try await store.saveAlert(alert)
                    outcome.resolved.append(alert)
                    outcome.deliveries += try await sender.send("resolved", alert, rule: rule, to: rule.channels, silenced: silenced)
                    continue
                }
                if alert.state == "firing", alert.escalationLevel == 0, let after = rule.escalateAfterSeconds, !rule.escalateTo.isEmpty,
                    let first = ISOTime.parse(alert.firstAt), now.timeIntervalSince(first) >= Double(after)
                {
                    alert.escalationLevel = 1
                    try await store.saveAlert(alert)
                    outcome.escalated.append(alert)
                    outcome.deliveries += try await sender.send("escalated", alert, rule: rule, to: rule.escalateTo, silenced: silenced)
                }
            }
        }
        return outcome
    }

    /// Conditions about one finished thing (a run): alerted once, never resolved by the evaluator.
    static func isOneShot(_ condition: String) -> Bool { ["run_failed", "validation_failed", "run_slower"].contains(condition) }
    /// Conditions about a state (a pass rate): resolved when it no longer holds.
    static func isState(_ condition: String) -> Bool { !isOneShot(condition) }

    func findings(for rule: AlertRuleRecord, now: Date, ingestion: inout Result<IngestionHealth, any Error>?) async throws -> [Finding] {
        if AlertRuleRecord.ingestionConditions.contains(rule.condition) {
            if ingestion == nil {
                do {
                    ingestion = .success(try await IngestionReader.open(config: config, store: store).health(now: now))
                } catch {
                    ingestion = .failure(error)
                }
            }
            return Self.ingestionFindings(rule, try ingestion?.get().pipelines ?? [])
        }
        switch rule.condition {
        case "run_failed":
            return try await recentRuns(since: rule.createdAt).filter { $0.status == .failed && Self.matches(rule.scope, $0.kind) }.map { run in
                Finding(key: "run:\(run.id)", subject: "run:\(run.id)", title: "\(run.kind) run \(run.id) failed", detail: run.error)
            }
        case "validation_failed":
            var found: [Finding] = []
            for run in try await store.validationRuns(limit: 200) where run.failed > 0 && run.startedAt >= rule.createdAt && run.origin == "cutover" {
                let failing = try await store.validationResults(runID: run.id).filter {
                    $0.status == "failed" && Self.matches(rule.scope, $0.table ?? "")
                }
                guard !failing.isEmpty else { continue }
                let checks = failing.prefix(5).map { "\($0.check)\($0.table.map { " on \($0)" } ?? ""): \($0.message ?? "failed")" }
                found.append(
                    Finding(
                        key: "validation:\(run.id)", subject: "validation:\(run.id)",
                        title: "validation \(run.suite) (\(run.id)): \(failing.count) check(s) failed", detail: checks.joined(separator: "\n")))
            }
            return found
        case "pass_rate_below":
            let threshold = rule.threshold ?? 90
            var tables: Set<String> = []
            for run in try await store.validationRuns(limit: 50) {
                for result in try await store.validationResults(runID: run.id) {
                    if let table = result.table, Self.matches(rule.scope, table) { tables.insert(table) }
                }
            }
            var found: [Finding] = []
            for table in tables.sorted() {
                let history = try await store.validationHistory(table: table, limit: 20)
                guard !history.isEmpty else { continue }
                let passed = history.filter { $0.status == "passed" }.count
                let rate = Double(passed) * 100 / Double(history.count)
                guard rate < threshold else { continue }
                found.append(
                    Finding(
                        key: "table:\(table)", subject: "table:\(table)",
                        title: "\(table): pass rate \(String(format: "%.1f%%", rate)) is below \(String(format: "%.1f%%", threshold))",
                        detail: "\(passed) of the last \(history.count) checks passed"))
            }
            return found
        case "run_slower":
            let factor = rule.threshold ?? 2
            let runs = try await store.runs(limit: 500).filter { $0.status == .succeeded }
            var found: [Finding] = []
            for run in runs where run.finishedAt ?? "" >= rule.createdAt && Self.matches(rule.scope, run.kind) {
                guard let seconds = run.seconds else { continue }
                let earlier = runs.filter {
                    $0.kind == run.kind && $0.source == run.source && $0.target == run.target && $0.startedAt < run.startedAt
                }
                .prefix(20).compactMap(\.seconds)
                guard earlier.count >= 3 else { continue }
                let median = earlier.sorted()[earlier.count / 2]
                guard median > 0, seconds > factor * median else { continue }
                found.append(
                    Finding(
                        key: "run:\(run.id)", subject: "run:\(run.id)",
                        title: "\(run.kind) run \(run.id) took \(Format.duration(seconds)), \(String(format: "%.1f", seconds / median))× its median",
                        detail: "median of the \(earlier.count) earlier runs with the same source and target: \(Format.duration(median))"))
            }
            return found
        default:
            // A rule is checked when saved, so this one was written into the store by hand.
            throw CutoverError(
                .usage, "alert rule \(rule.name): unknown condition \(rule.condition)",
                hint: "remove the rule with `cutover alerts remove \(rule.name)`")
        }
    }

    /// Ingestion conditions hold per pipeline, keyed by its table, and resolve when it recovers.
    static func ingestionFindings(_ rule: AlertRuleRecord, _ pipelines: [PipelineHealth]) -> [Finding] {
        pipelines.filter { $0.active && matches(rule.scope, $0.name) }.compactMap { pipeline in
            let key = "ingestion:\(pipeline.name)", subject = "table:\(pipeline.name)"
            switch rule.condition {
            case "ingestion_stale":
                let factor = rule.threshold ?? 1
                guard let lag = pipeline.lagSeconds else {
                    return Finding(
                        key: key, subject: subject, title: "ingestion: \(pipeline.name) has never been loaded",
                        detail: pipeline.source.map { "from \($0)" })
                }
                guard lag > factor * pipeline.expectedEverySeconds else { return nil }
                return Finding(
                    key: key, subject: subject,
                    title:
                        "ingestion: \(pipeline.name) last loaded \(Format.span(lag)) ago, expected every \(Format.span(pipeline.expectedEverySeconds))",
                    detail: "last load \(pipeline.lastLoadedAt ?? "never")" + (pipeline.freshness == .breached ? "; the SLA is breached" : ""))
            case "ingestion_failed":
                guard pipeline.lastFailed else { return nil }
                return Finding(
                    key: key, subject: subject, title: "ingestion: the last load of \(pipeline.name) \(pipeline.lastStatus ?? "failed")",
                    detail: "\(pipeline.failedInWindow) of \(pipeline.loadsInWindow) loads in the window failed")
            case "row_count_anomaly":
                guard let score = pipeline.rowsScore, score > (rule.threshold ?? IngestionReader.defaultAnomalyScore), let rows = pipeline.lastRows,
                    let median = pipeline.medianRows
                else { return nil }
                return Finding(
                    key: key, subject: subject, title: "ingestion: \(pipeline.name) loaded \(rows) rows, usually \(Int64(median.rounded()))",
                    detail: score.isInfinite
                        ? "every earlier load moved exactly \(Int64(median.rounded())) rows"
                        : String(format: "%.1f robust deviations from the median (MAD %.0f)", score, pipeline.madRows ?? 0))
            default:
                return nil
            }
        }
    }

    private func recentRuns(since: String) async throws -> [RunRecord] {
        try await store.runs(limit: 500).filter { ($0.finishedAt ?? "") >= since }
    }

    static func matches(_ scope: String?, _ value: String) -> Bool {
        guard let scope, !scope.isEmpty else { return true }
        return Glob.matches(scope.lowercased(), value.lowercased())
    }
}
