import CutoverCore
import CutoverStore
import Foundation

/// Who is asking, as far as the copilot cares: viewers read the store, users may also run library
/// queries on connections, admins may also read the audit log.
public enum CopilotAccess: Int, Sendable, Comparable, Codable {
    case viewer, user, admin
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// One question the copilot can answer: what it is about (words to match), what it fills in
/// (slots), and where the answer comes from.
public struct CopilotIntent: Sendable {
    /// A value a question can fill in.
    public enum Slot: String, Sendable, Codable, CaseIterable { case period, table, status, kind, run, check, limit, level, environment }

    /// Where an intent's answer is read from.
    public enum Source: Sendable {
        /// A fixed read of the store's tables; `bind` turns the slots into its parameters.
        case store(StoreRead, bind: @Sendable (CopilotSlots) -> [String?])
        /// A query of `queries:` in cutover.yml, run on a connection through the SQL runner.
        case library(name: String, sql: String)
        /// The ingestion health report (cutover.yml `ingestion:`), filtered.
        case ingestion(IngestionView)
        /// The newest `analysis_report.json` in the store.
        case analysis(AnalysisView)
        /// The newest `cutover workload import`.
        case workload(WorkloadView)
    }

    /// Which rows of the ingestion health report an intent shows.
    public enum IngestionView: String, Sendable { case all, late, failedLoads, anomalies }
    /// Which part of the newest analysis an intent shows.
    public enum AnalysisView: String, Sendable { case largestTables, withoutPrimaryKey, columns, foreignKeys }
    /// Which reading of the newest workload import an intent shows.
    public enum WorkloadView: String, Sendable { case unusedTables }

    public var id: String
    public var title: String
    public var description: String
    /// How people ask for it; matched with the title and description.
    public var phrases: [String]
    public var accepts: Set<Slot>
    public var requires: Set<Slot> = []
    /// When the question names no period: the last this-many days (nil: all of history).
    public var defaultDays: Int?
    public var access: CopilotAccess = .viewer
    public var source: Source
    /// Turns the rows read into the rows shown (computed columns, an order SQL cannot give portably).
    var finish: (@Sendable (_ rows: [[String?]], _ slots: CopilotSlots) -> (columns: [String], rows: [[String?]]))? = nil

    /// The text ranked against a question.
    var document: String { ([id.replacingOccurrences(of: "_", with: " "), title, description] + phrases).joined(separator: " ") }
}

// MARK: Binding helpers

/// Parameters the store reads share.
enum Bind {
    static let beginning = "0001-01-01T00:00:00.000Z"
    static let end = "9999-12-31T23:59:59.999Z"

    static func from(_ slots: CopilotSlots) -> String? { slots.period.map { ISOTime.string($0.from) } ?? beginning }
    static func to(_ slots: CopilotSlots) -> String? { slots.period.map { ISOTime.string($0.to) } ?? end }
    static func limit(_ slots: CopilotSlots, _ fallback: Int = 20) -> String? { String(slots.limit ?? fallback) }
    /// `(CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)`: a table by its
    /// whole name or its name without the schema; no filter when the question names none.
    static func table(_ slots: CopilotSlots) -> [String?] {
        guard let table = slots.table else { return [nil, nil, nil] }
        let name = table.split(separator: ".").last.map(String.init) ?? table
        return [table, table, "%." + name]
    }
    /// Run statuses for a status word (`succeeded` is what runs end with; results say `passed`).
    static func runStatus(_ slots: CopilotSlots) -> String? {
        switch slots.status {
        case "failed", "succeeded", "running", "cancelled": return slots.status
        default: return nil
        }
    }
    static func resultStatus(_ slots: CopilotSlots) -> String? {
        switch slots.status {
        case "failed": return "failed"
        case "succeeded": return "passed"
        case "warning": return "warning"
        default: return nil
        }
    }
    /// Log levels as two spellings (imported logs say `warning`, Cutover says `warn`).
    static func levels(_ slots: CopilotSlots, default fallback: String?) -> [String?] {
        switch slots.level ?? fallback {
        case "warn": return ["warn", "warning"]
        case "error": return ["error", "error"]
        default: return [nil, nil]
        }
    }
}

extension CopilotIntent {
    /// The intents over the store's own tables, the ingestion report, analyses and workloads.
    public static let builtIn: [CopilotIntent] = runs + validations + operations + catalog

    static let runs: [CopilotIntent] = [
        CopilotIntent(
            id: "recent_runs", title: "Recent runs",
            description: "The latest runs of any kind (migrations, validations, diffs, analyses), newest first, with their status and summary.",
            phrases: ["latest runs", "what ran recently", "show the last migrations", "recent activity", "history of runs", "runs this week"],
            accepts: [.period, .status, .kind, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT id, kind, status, started_at, finished_at, summary FROM runs
                    WHERE started_at >= ? AND started_at < ? AND status = COALESCE(?, status) AND kind = COALESCE(?, kind)
                    ORDER BY started_at DESC LIMIT ?
                    """, columns: ["run", "kind", "status", "started_at", "finished_at", "summary"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.runStatus($0), $0.kind, Bind.limit($0)] })),
        CopilotIntent(
            id: "failed_runs", title: "Failed runs and their errors",
            description: "Runs that failed or were interrupted, with the error each ended with: why did a migration fail.",
            phrases: ["which migrations failed", "why did the run fail", "failed runs", "errors of failed runs", "what broke", "interrupted runs"],
            accepts: [.period, .kind, .limit, .status],
            source: .store(
                StoreRead(
                    """
                    SELECT id, kind, status, started_at, error FROM runs
                    WHERE status IN ('failed', 'interrupted') AND started_at >= ? AND started_at < ? AND kind = COALESCE(?, kind)
                    ORDER BY started_at DESC LIMIT ?
                    """, columns: ["run", "kind", "status", "started_at", "error"]),
                bind: { [Bind.from($0), Bind.to($0), $0.kind, Bind.limit($0)] })),
        CopilotIntent(
            id: "slowest_runs", title: "Slowest runs",
            description: "Finished runs by how long they took, longest first (of the newest 1,000 in the period): duration in seconds.",
            phrases: ["slowest migrations", "which runs took longest", "how long did migrations take", "duration of runs", "longest running"],
            accepts: [.period, .kind, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT id, kind, status, started_at, finished_at FROM runs
                    WHERE finished_at IS NOT NULL AND started_at >= ? AND started_at < ? AND kind = COALESCE(?, kind)
                    ORDER BY started_at DESC LIMIT 1000
                    """, columns: ["run", "kind", "status", "started_at", "finished_at"]),
                bind: { [Bind.from($0), Bind.to($0), $0.kind] }),
            finish: { rows, slots in
                let timed = rows.map { row -> (row: [String?], seconds: Double) in
                    let started = row[3].flatMap(ISOTime.parse), finished = row[4].flatMap(ISOTime.parse)
                    let seconds = started.flatMap { start in finished.map { $0.timeIntervalSince(start) } } ?? 0
                    return (Array(row[0...3]), seconds)
                }
                let slowest = timed.sorted { $0.seconds > $1.seconds }.prefix(slots.limit ?? 10)
                return (["run", "kind", "status", "started_at", "seconds"], slowest.map { $0.row + [String(format: "%.1f", $0.seconds)] })
            }),
        CopilotIntent(
            id: "running_now", title: "Runs in progress",
            description: "Runs that are running now: what is in flight, who started it, since when.",
            phrases: ["what is running", "runs in progress", "active migrations", "anything in flight", "is a migration running"],
            accepts: [.kind, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT id, kind, started_at, created_by FROM runs WHERE status = 'running' AND kind = COALESCE(?, kind)
                    ORDER BY started_at LIMIT ?
                    """, columns: ["run", "kind", "started_at", "started_by"]),
                bind: { [$0.kind, Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "rows_moved", title: "Rows moved per table",
            description: "How many rows and bytes migrations moved into each table, and in how many runs: volume migrated.",
            phrases: [
                "how many rows did we migrate", "rows moved per table", "volume migrated", "rows copied", "data moved", "rows loaded by migrations",
            ],
            accepts: [.period, .table, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT t.table_name, COUNT(*), CAST(SUM(t.target_rows) AS BIGINT), CAST(SUM(t.bytes) AS BIGINT) FROM run_tables t JOIN runs r ON r.id = t.run_id
                    WHERE r.kind IN ('migrate', 'demo') AND r.started_at >= ? AND r.started_at < ?
                      AND (CAST(? AS VARCHAR(400)) IS NULL OR t.table_name = ? OR t.table_name LIKE ?)
                    GROUP BY t.table_name ORDER BY 3 DESC LIMIT ?
                    """, columns: ["table", "runs", "rows", "bytes"]),
                bind: { [Bind.from($0), Bind.to($0)] + Bind.table($0) + [Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "table_history", title: "A table's migration history",
            description: "Every run that moved one table: status, rows on each side, message.",
            phrases: ["when was the table migrated", "history of table", "runs for table", "was the table moved", "table migration status"],
            accepts: [.period, .table, .limit], requires: [.table],
            source: .store(
                StoreRead(
                    """
                    SELECT t.run_id, r.kind, t.status, t.source_rows, t.target_rows, r.started_at, t.message
                    FROM run_tables t JOIN runs r ON r.id = t.run_id
                    WHERE (CAST(? AS VARCHAR(400)) IS NULL OR t.table_name = ? OR t.table_name LIKE ?) AND r.started_at >= ? AND r.started_at < ?
                    ORDER BY r.started_at DESC LIMIT ?
                    """, columns: ["run", "kind", "status", "source_rows", "target_rows", "started_at", "message"]),
                bind: { Bind.table($0) + [Bind.from($0), Bind.to($0), Bind.limit($0)] })),
        CopilotIntent(
            id: "run_tables", title: "What happened in one run",
            description: "The tables of one run (by its id) with their status, rows, bytes and message.",
            phrases: ["what happened in run", "tables of run", "details of run", "show run"],
            accepts: [.run, .limit], requires: [.run],
            source: .store(
                StoreRead(
                    """
                    SELECT table_name, status, source_rows, target_rows, bytes, message FROM run_tables WHERE run_id = ?
                    ORDER BY table_name LIMIT ?
                    """, columns: ["table", "status", "source_rows", "target_rows", "bytes", "message"]),
                bind: { [$0.run, Bind.limit($0, 200)] })),
        CopilotIntent(
            id: "retried_chunks", title: "Retried chunks",
            description: "Chunks of the ledger that needed more than one attempt: retries, their state and last error.",
            phrases: ["which chunks were retried", "retries", "chunks with errors", "flaky chunks", "how many attempts"],
            accepts: [.run, .table, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT run_id, table_name, chunk_no, attempts, state, error FROM chunks
                    WHERE attempts > 1 AND (CAST(? AS VARCHAR(100)) IS NULL OR run_id = ?)
                      AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    ORDER BY updated_at DESC LIMIT ?
                    """, columns: ["run", "table", "chunk", "attempts", "state", "error"]),
                bind: { [$0.run, $0.run] + Bind.table($0) + [Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "rejected_rows", title: "Rejected rows",
            description: "Rows a migration rejected (values that did not fit), counted per run and table.",
            phrases: ["rejected rows", "which rows were rejected", "rows that did not fit", "rejects per table", "bad values"],
            accepts: [.period, .table, .run, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT run_id, table_name, COUNT(*), MIN(reason) FROM rejects
                    WHERE at >= ? AND at < ? AND (CAST(? AS VARCHAR(100)) IS NULL OR run_id = ?)
                      AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    GROUP BY run_id, table_name ORDER BY 3 DESC LIMIT ?
                    """, columns: ["run", "table", "rejected", "first_reason"]),
                bind: { [Bind.from($0), Bind.to($0), $0.run, $0.run] + Bind.table($0) + [Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "watermarks", title: "Incremental watermarks",
            description: "Where each incremental table's watermark stands: column, value, when it last advanced.",
            phrases: ["watermark", "incremental position", "where did the incremental load stop", "high water mark"],
            accepts: [.table, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT table_name, column_name, value, updated_at, run_id FROM watermarks
                    WHERE (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    ORDER BY updated_at DESC LIMIT ?
                    """, columns: ["table", "column", "value", "updated_at", "run"]),
                bind: { Bind.table($0) + [Bind.limit($0, 50)] })),
    ]

    static let validations: [CopilotIntent] = [
        CopilotIntent(
            id: "failed_checks", title: "Failed checks",
            description: "Validation checks that failed, newest first, with the table, check and message: what did not match.",
            phrases: [
                "which checks failed", "failed validations", "what did not match", "validation failures", "failing checks on table",
                "mismatches", "did any check fail", "differences between source and target",
            ],
            accepts: [.period, .table, .check, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT validation_run_id, check_name, table_name, severity, message, at FROM validation_results
                    WHERE status = 'failed' AND at >= ? AND at < ? AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                      AND check_name = COALESCE(?, check_name)
                    ORDER BY at DESC LIMIT ?
                    """, columns: ["validation_run", "check", "table", "severity", "message", "at"]),
                bind: { [Bind.from($0), Bind.to($0)] + Bind.table($0) + [$0.check, Bind.limit($0)] })),
        CopilotIntent(
            id: "pass_rate", title: "Pass rate per table",
            description: "Per table: checks run, passed, failed and the pass rate in percent; the tables with most failures first.",
            phrases: [
                "pass rate", "which tables fail most", "success rate of validations", "quality per table", "how healthy is table",
                "percentage of checks passing",
            ],
            accepts: [.period, .table, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT table_name, COUNT(*), CAST(SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END) AS BIGINT),
                           CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT)
                    FROM validation_results
                    WHERE table_name IS NOT NULL AND at >= ? AND at < ? AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    GROUP BY table_name ORDER BY 4 DESC, 1 LIMIT ?
                    """, columns: ["table", "checks", "passed", "failed"]),
                bind: { [Bind.from($0), Bind.to($0)] + Bind.table($0) + [Bind.limit($0, 50)] }),
            finish: { rows, _ in
                (
                    ["table", "checks", "passed", "failed", "pass_rate_percent"],
                    rows.map { row in
                        let checks = Double(row[1] ?? "") ?? 0, passed = Double(row[2] ?? "") ?? 0
                        return row + [checks > 0 ? String(format: "%.1f", 100 * passed / checks) : nil]
                    }
                )
            }),
        CopilotIntent(
            id: "checks_failing_most", title: "Checks that fail most",
            description: "Per check name: how often it ran and failed; the checks failing most often first.",
            phrases: ["which check fails most often", "most common failures", "top failing checks", "which validation type fails"],
            accepts: [.period, .table, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT check_name, COUNT(*), CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) FROM validation_results
                    WHERE at >= ? AND at < ? AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    GROUP BY check_name ORDER BY 3 DESC, 1 LIMIT ?
                    """, columns: ["check", "runs", "failed"]),
                bind: { [Bind.from($0), Bind.to($0)] + Bind.table($0) + [Bind.limit($0)] })),
        CopilotIntent(
            id: "validation_runs", title: "Validation runs",
            description: "Validation and pipeline runs by suite with passed, failed and warned counts, newest first.",
            phrases: ["validation runs", "recent validations", "did the validation pass", "results of suites", "suite results"],
            accepts: [.period, .status, .limit],
            source: .store(
                StoreRead(
                    """
                    SELECT id, suite, status, passed, failed, warned, started_at FROM validation_runs
                    WHERE started_at >= ? AND started_at < ? AND status = COALESCE(?, status)
                    ORDER BY started_at DESC LIMIT ?
                    """, columns: ["validation_run", "suite", "status", "passed", "failed", "warned", "started_at"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.resultStatus($0), Bind.limit($0)] })),
        CopilotIntent(
            id: "table_checks", title: "A table's latest checks",
            description: "The latest validation results of one table: every check, its status, match percent and message.",
            phrases: ["is table validated", "checks of table", "validation status of table", "did table pass", "latest results for table"],
            accepts: [.period, .table, .status, .limit], requires: [.table],
            source: .store(
                StoreRead(
                    """
                    SELECT validation_run_id, check_name, status, match_percent, message, at FROM validation_results
                    WHERE (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?) AND status = COALESCE(?, status)
                      AND at >= ? AND at < ?
                    ORDER BY at DESC LIMIT ?
                    """, columns: ["validation_run", "check", "status", "match_percent", "message", "at"]),
                bind: { Bind.table($0) + [Bind.resultStatus($0), Bind.from($0), Bind.to($0), Bind.limit($0)] })),
        CopilotIntent(
            id: "rules", title: "Business rules (decisions)",
            description: "The rulebook: decisions (SQL that must return zero rows) with severity, side and description.",
            phrases: ["business rules", "which decisions do we have", "rulebook", "list rules", "decisions"],
            accepts: [.limit],
            source: .store(
                StoreRead(
                    "SELECT name, severity, side, description, created_at FROM rules ORDER BY name LIMIT ?",
                    columns: ["rule", "severity", "side", "description", "created_at"]),
                bind: { [Bind.limit($0, 200)] })),
    ]

    static let operations: [CopilotIntent] = [
        CopilotIntent(
            id: "error_logs", title: "Errors and warnings in the logs",
            description: "Log lines at error (or warning) level, newest first, with the run, table, event and message.",
            phrases: ["errors in the logs", "what errors happened", "log warnings", "show error messages", "recent errors"],
            accepts: [.period, .table, .run, .level, .limit], defaultDays: 7,
            source: .store(
                StoreRead(
                    """
                    SELECT at, level, run_id, table_name, event, message FROM logs
                    WHERE (LOWER(level) = ? OR LOWER(level) = ?) AND at >= ? AND at < ? AND (CAST(? AS VARCHAR(100)) IS NULL OR run_id = ?)
                      AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
                    ORDER BY at DESC LIMIT ?
                    """, columns: ["at", "level", "run", "table", "event", "message"]),
                bind: { Bind.levels($0, default: "error") + [Bind.from($0), Bind.to($0), $0.run, $0.run] + Bind.table($0) + [Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "log_events", title: "Log events by count",
            description: "Which events the logs record most, by level: log statistics.",
            phrases: ["most frequent log events", "log statistics", "what is logged most", "events in the log"],
            accepts: [.period, .limit], defaultDays: 30,
            source: .store(
                StoreRead(
                    """
                    SELECT event, level, COUNT(*) FROM logs WHERE at >= ? AND at < ? GROUP BY event, level ORDER BY 3 DESC, 1 LIMIT ?
                    """, columns: ["event", "level", "lines"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.limit($0)] })),
        CopilotIntent(
            id: "open_alerts", title: "Open alerts",
            description: "Alerts firing or acknowledged and not resolved: rule, severity, title, occurrences.",
            phrases: ["open alerts", "what is alerting", "active alerts", "are there alerts firing", "unresolved alerts"],
            accepts: [.limit],
            source: .store(
                StoreRead(
                    """
                    SELECT id, rule_name, severity, state, title, occurrences, first_at, last_at FROM alerts
                    WHERE state IN ('firing', 'acknowledged') ORDER BY last_at DESC LIMIT ?
                    """, columns: ["alert", "rule", "severity", "state", "title", "occurrences", "first_at", "last_at"]),
                bind: { [Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "alert_history", title: "Alerts by rule",
            description: "How many alerts each rule raised in a period, and how many are still open.",
            phrases: ["alerts last month", "which rules alerted", "alert history", "how often did we get alerted"],
            accepts: [.period, .limit], defaultDays: 30,
            source: .store(
                StoreRead(
                    """
                    SELECT rule_name, COUNT(*), CAST(SUM(CASE WHEN state IN ('firing', 'acknowledged') THEN 1 ELSE 0 END) AS BIGINT), MAX(last_at) FROM alerts
                    WHERE first_at >= ? AND first_at < ? GROUP BY rule_name ORDER BY 2 DESC LIMIT ?
                    """, columns: ["rule", "alerts", "open", "last_at"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.limit($0)] })),
        CopilotIntent(
            id: "audit_activity", title: "Who did what (audit)",
            description: "Audit log: actions per user and outcome in a period (admins only).",
            phrases: ["who did what", "audit log", "user activity", "who changed", "who signed in", "who started migrations"],
            accepts: [.period, .limit], defaultDays: 7, access: .admin,
            source: .store(
                StoreRead(
                    """
                    SELECT username, action, outcome, COUNT(*), MAX(at) FROM audit_log WHERE at >= ? AND at < ?
                    GROUP BY username, action, outcome ORDER BY 4 DESC LIMIT ?
                    """, columns: ["user", "action", "outcome", "times", "last_at"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "refused_requests", title: "Refused requests",
            description: "Requests the server refused (denied, forbidden, unauthorized) by user and action: security events (admins only).",
            phrases: ["refused requests", "access denied", "forbidden attempts", "security events", "who was refused"],
            accepts: [.period, .limit], defaultDays: 7, access: .admin,
            source: .store(
                StoreRead(
                    """
                    SELECT username, resource, outcome, COUNT(*), MAX(at) FROM audit_log WHERE action = 'request.refused' AND at >= ? AND at < ?
                    GROUP BY username, resource, outcome ORDER BY 4 DESC LIMIT ?
                    """, columns: ["user", "request", "status", "times", "last_at"]),
                bind: { [Bind.from($0), Bind.to($0), Bind.limit($0, 50)] })),
        CopilotIntent(
            id: "ingestion_health", title: "Ingestion pipelines' health",
            description: "Every ingestion pipeline: freshness, lag, last load status and rows (cutover.yml ingestion:).",
            phrases: [
                "ingestion health", "pipeline status", "how are the pipelines", "are loads on time", "ingestion freshness",
                "active pipelines",
            ],
            accepts: [.status, .environment], source: .ingestion(.all)),
        CopilotIntent(
            id: "late_pipelines", title: "Late ingestion pipelines",
            description: "Pipelines whose last load is late or past its SLA, or that never loaded: stale data, freshness breach.",
            phrases: ["which pipelines are late", "stale tables", "sla breach", "what is behind", "overdue loads", "not loaded today"],
            accepts: [.environment], source: .ingestion(.late)),
        CopilotIntent(
            id: "failed_loads", title: "Failed ingestion loads",
            description: "Pipelines whose last load failed, with failures in the history window.",
            phrases: ["which loads failed", "failed ingestion", "pipeline failures", "broken pipelines", "failed loads"],
            accepts: [.environment], source: .ingestion(.failedLoads)),
        CopilotIntent(
            id: "volume_anomalies", title: "Row-count anomalies in loads",
            description: "Pipelines whose last load's row count is far from usual (robust score of rows against median): volume anomaly.",
            phrases: ["row count anomaly", "unusual volume", "load with too few rows", "volume drop", "abnormal row counts"],
            accepts: [.environment], source: .ingestion(.anomalies)),
    ]

    static let catalog: [CopilotIntent] = [
        CopilotIntent(
            id: "largest_tables", title: "Largest tables",
            description: "Tables of the latest analyzed source by row count and size in bytes: how big is the table.",
            phrases: ["largest tables", "biggest tables", "how many rows does table have", "table sizes", "row count of table"],
            accepts: [.table, .limit], source: .analysis(.largestTables)),
        CopilotIntent(
            id: "tables_without_primary_key", title: "Tables without a primary key",
            description: "Tables of the latest analyzed source that have no primary key (chunking and row diff need one).",
            phrases: ["tables without primary key", "missing primary keys", "which tables have no key", "no pk"],
            accepts: [.limit], source: .analysis(.withoutPrimaryKey)),
        CopilotIntent(
            id: "table_columns", title: "Columns of a table",
            description: "Columns of one table in the latest analysis: type, nullable, default, identity.",
            phrases: ["columns of table", "what columns does table have", "schema of table", "describe table", "column types"],
            accepts: [.table], requires: [.table], source: .analysis(.columns)),
        CopilotIntent(
            id: "foreign_keys", title: "Foreign keys",
            description: "Foreign keys of the latest analysis: which table references which, on which columns: relationships.",
            phrases: ["foreign keys", "relationships between tables", "what references table", "dependencies of table"],
            accepts: [.table, .limit], source: .analysis(.foreignKeys)),
        CopilotIntent(
            id: "workload_top_tables", title: "Most used tables (workload)",
            description: "Tables the latest imported workload touches most, by share of query time and executions: hot tables, usage.",
            phrases: ["most used tables", "hot tables", "which tables are queried most", "workload", "busiest tables", "query usage"],
            accepts: [.limit],
            source: .store(
                StoreRead(
                    """
                    SELECT table_name, statements, executions, milliseconds, time_share FROM workload_tables
                    WHERE run_id = (SELECT MAX(run_id) FROM workload_tables) ORDER BY time_share DESC, table_name LIMIT ?
                    """, columns: ["table", "statements", "executions", "milliseconds", "time_share_percent"]),
                bind: { [Bind.limit($0)] })),
        CopilotIntent(
            id: "workload_joins", title: "Most frequent joins (workload)",
            description: "Column pairs the latest imported workload joins on most often.",
            phrases: ["most common joins", "which tables are joined", "join pairs", "joins in the workload"],
            accepts: [.limit, .table],
            source: .store(
                StoreRead(
                    """
                    SELECT left_side, right_side, statements, executions FROM workload_joins
                    WHERE run_id = (SELECT MAX(run_id) FROM workload_joins)
                      AND (CAST(? AS VARCHAR(400)) IS NULL OR left_side LIKE ? OR right_side LIKE ?)
                    ORDER BY executions DESC, left_side LIMIT ?
                    """, columns: ["left", "right", "statements", "executions"]),
                bind: { slots in
                    let name = slots.table.map { ($0.split(separator: ".").last.map(String.init) ?? $0).lowercased() }
                    return [name, name.map { "%\($0).%" }, name.map { "%\($0).%" }, Bind.limit(slots)]
                })),
        CopilotIntent(
            id: "workload_columns", title: "Columns the workload filters, groups and joins by",
            description:
                "Columns the latest imported workload filters, groups, joins or aggregates by, by executions: where indexes and checks matter.",
            phrases: ["which columns are filtered most", "most used columns", "group by columns", "columns in where clauses"],
            accepts: [.limit],
            source: .store(
                StoreRead(
                    """
                    SELECT column_name, filtered, grouped, joined, aggregated FROM workload_columns
                    WHERE run_id = (SELECT MAX(run_id) FROM workload_columns)
                    ORDER BY filtered + grouped + joined + aggregated DESC, column_name LIMIT ?
                    """, columns: ["column", "filtered", "grouped", "joined", "aggregated"]),
                bind: { [Bind.limit($0)] })),
        CopilotIntent(
            id: "unused_tables", title: "Tables no query uses",
            description: "Analyzed tables the imported workload never touches: candidates not to migrate, unused.",
            phrases: ["unused tables", "tables nobody queries", "what can we skip migrating", "dead tables"],
            accepts: [.limit], source: .workload(.unusedTables)),
    ]

    /// One intent per query of the library; its name and description are what it is matched on.
    public static func library(_ queries: [String: LibraryQuery]) -> [CopilotIntent] {
        queries.sorted { $0.key < $1.key }.map { name, query in
            CopilotIntent(
                id: "query:" + name, title: name.replacingOccurrences(of: "_", with: " "),
                description: query.description ?? "", phrases: [], accepts: [.environment], access: .user,
                source: .library(name: name, sql: query.sql))
        }
    }
}
