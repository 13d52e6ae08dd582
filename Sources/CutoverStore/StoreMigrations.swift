import CutoverCore
import Foundation
import Logging

/// The store's schema, as numbered migrations applied in order at start. Append only: a
/// released migration is never edited.
enum StoreMigrations {
    struct Migration {
        let version: Int
        let name: String
        /// `{{id}}` is replaced by each backend's auto-increment key column type.
        let sql: String
    }

    static let all: [Migration] = [
        Migration(
            version: 1, name: "runs, run tables and logs",
            sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    source TEXT,
                    target TEXT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    artifacts_dir TEXT,
                    summary TEXT,
                    error TEXT
                );
                CREATE INDEX runs_started ON runs (started_at);
                CREATE TABLE run_tables (
                    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    table_name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    source_rows BIGINT,
                    target_rows BIGINT,
                    bytes BIGINT,
                    started_at TEXT,
                    finished_at TEXT,
                    message TEXT,
                    details TEXT,
                    PRIMARY KEY (run_id, table_name)
                );
                CREATE TABLE logs (
                    id {{id}},
                    at TEXT NOT NULL,
                    level TEXT NOT NULL,
                    run_id TEXT,
                    table_name TEXT,
                    event TEXT NOT NULL,
                    message TEXT NOT NULL,
                    fields TEXT
                );
                CREATE INDEX logs_run ON logs (run_id, id);
                """),
        Migration(
            version: 2, name: "chunk ledger, plan identity and watermarks",
            sql: """
                ALTER TABLE runs ADD COLUMN plan_hash TEXT;
                ALTER TABLE runs ADD COLUMN options TEXT;
                CREATE INDEX runs_plan_hash ON runs (plan_hash);
                CREATE TABLE chunks (
                    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    table_name TEXT NOT NULL,
                    chunk_no INTEGER NOT NULL,
                    bounds TEXT NOT NULL,
                    state TEXT NOT NULL,
                    rows BIGINT,
                    bytes BIGINT,
                    checksum TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_until TEXT,
                    error TEXT,
                    updated_at TEXT,
                    PRIMARY KEY (run_id, table_name, chunk_no)
                );
                CREATE INDEX chunks_claim ON chunks (run_id, state);
                CREATE TABLE watermarks (
                    source TEXT NOT NULL,
                    target TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    column_name TEXT NOT NULL,
                    value TEXT,
                    run_id TEXT,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (source, target, table_name)
                );
                """),
        Migration(
            version: 3, name: "rejected rows",
            sql: """
                CREATE TABLE rejects (
                    id {{id}},
                    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    table_name TEXT NOT NULL,
                    chunk_no INTEGER,
                    row_key TEXT,
                    reason TEXT NOT NULL,
                    row_values TEXT,
                    at TEXT NOT NULL
                );
                CREATE INDEX rejects_run ON rejects (run_id, table_name);
                """),
        Migration(
            version: 4, name: "rulebook",
            sql: """
                CREATE TABLE rules (
                    content_hash TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    description TEXT,
                    severity TEXT NOT NULL,
                    sql TEXT NOT NULL,
                    warn_if TEXT,
                    error_if TEXT,
                    side TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX rules_name ON rules (name);
                """),
        Migration(
            version: 5, name: "validation results, caches, projects, users, audit and notifications",
            sql: """
                CREATE TABLE validation_runs (
                    id TEXT PRIMARY KEY,
                    suite TEXT NOT NULL,
                    source TEXT,
                    target TEXT,
                    data_date TEXT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL,
                    passed INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    warned INTEGER NOT NULL DEFAULT 0,
                    origin TEXT NOT NULL
                );
                CREATE INDEX validation_runs_started ON validation_runs (started_at);
                CREATE TABLE validation_results (
                    id {{id}},
                    validation_run_id TEXT NOT NULL,
                    step INTEGER,
                    check_name TEXT NOT NULL,
                    table_name TEXT,
                    status TEXT NOT NULL,
                    severity TEXT,
                    message TEXT,
                    duration_ms BIGINT,
                    source_rows BIGINT,
                    target_rows BIGINT,
                    match_percent DOUBLE PRECISION,
                    affected_columns TEXT,
                    details {{json}},
                    at TEXT NOT NULL
                );
                CREATE INDEX validation_results_run ON validation_results (validation_run_id);
                CREATE INDEX validation_results_table ON validation_results (table_name, at);
                CREATE INDEX validation_results_at ON validation_results (at);
                CREATE INDEX logs_at ON logs (at);
                CREATE TABLE column_metadata (
                    connection TEXT NOT NULL,
                    schema_name TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    payload {{json}} NOT NULL,
                    fetched_at TEXT NOT NULL,
                    PRIMARY KEY (connection, schema_name, table_name)
                );
                CREATE TABLE overview_cache (
                    month TEXT PRIMARY KEY,
                    payload {{json}} NOT NULL,
                    cached_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL
                );
                CREATE TABLE failures_cache (
                    scope TEXT PRIMARY KEY,
                    payload {{json}} NOT NULL,
                    row_count INTEGER NOT NULL,
                    cached_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL
                );
                CREATE TABLE cache_stats (
                    cache_name TEXT PRIMARY KEY,
                    hits BIGINT NOT NULL DEFAULT 0,
                    misses BIGINT NOT NULL DEFAULT 0,
                    rebuilt_at TEXT
                );
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    description TEXT,
                    source TEXT,
                    target TEXT,
                    settings {{json}},
                    created_by TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE pipelines (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    content TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (project_id, name)
                );
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until TEXT,
                    last_login_at TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    expires_at TEXT,
                    revoked_at TEXT
                );
                CREATE TABLE audit_log (
                    id {{id}},
                    at TEXT NOT NULL,
                    username TEXT,
                    action TEXT NOT NULL,
                    resource TEXT,
                    outcome TEXT NOT NULL,
                    details {{json}}
                );
                CREATE INDEX audit_log_at ON audit_log (at);
                CREATE TABLE notifications (
                    id {{id}},
                    at TEXT NOT NULL,
                    username TEXT,
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL,
                    message TEXT,
                    run_id TEXT,
                    read_at TEXT
                );
                CREATE INDEX notifications_user ON notifications (username, read_at);
                CREATE TABLE imports (
                    content_hash TEXT PRIMARY KEY,
                    path TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    items INTEGER NOT NULL,
                    imported_at TEXT NOT NULL
                );
                INSERT INTO cache_stats (cache_name, hits, misses) VALUES ('overview', 0, 0), ('failures', 0, 0), ('column_metadata', 0, 0)
                """),
        Migration(
            version: 6, name: "server settings",
            sql: """
                CREATE TABLE settings (
                    name TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """),
        Migration(
            version: 7, name: "batches",
            sql: """
                CREATE TABLE batches (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    max_parallel INTEGER NOT NULL,
                    created_by TEXT,
                    created_at TEXT NOT NULL,
                    finished_at TEXT
                );
                CREATE TABLE batch_items (
                    batch_id TEXT NOT NULL,
                    item_no INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    spec {{json}} NOT NULL,
                    run_id TEXT,
                    status TEXT NOT NULL,
                    message TEXT,
                    PRIMARY KEY (batch_id, item_no)
                )
                """),
        Migration(
            version: 8, name: "run owners and leases, per-user notification reads, sign-in attempts, rule owners",
            sql: """
                ALTER TABLE runs ADD COLUMN created_by TEXT;
                ALTER TABLE runs ADD COLUMN lease_owner TEXT;
                ALTER TABLE runs ADD COLUMN lease_until TEXT;
                ALTER TABLE rules ADD COLUMN created_by TEXT;
                CREATE TABLE notification_reads (
                    notification_id BIGINT NOT NULL,
                    username TEXT NOT NULL,
                    read_at TEXT NOT NULL,
                    PRIMARY KEY (notification_id, username)
                );
                CREATE TABLE sign_in_attempts (
                    username TEXT PRIMARY KEY,
                    failures INTEGER NOT NULL,
                    locked_until TEXT,
                    updated_at TEXT NOT NULL
                )
                """),
        Migration(
            version: 9, name: "incremental windows per run",
            sql: """
                CREATE TABLE run_windows (
                    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    table_name TEXT NOT NULL,
                    column_name TEXT NOT NULL,
                    low_value TEXT,
                    high_value TEXT,
                    PRIMARY KEY (run_id, table_name)
                )
                """),
        Migration(
            version: 10, name: "imported log lines: identity and origin",
            sql: """
                ALTER TABLE logs ADD COLUMN entry_key TEXT;
                ALTER TABLE logs ADD COLUMN import_id TEXT;
                CREATE UNIQUE INDEX logs_entry_key ON logs (entry_key);
                CREATE INDEX logs_import ON logs (import_id);
                """),
        Migration(
            version: 11, name: "run artifacts in the store",
            sql: """
                CREATE TABLE artifacts (
                    run_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    bytes BIGINT NOT NULL,
                    sha256 TEXT NOT NULL,
                    content TEXT,
                    stored_at TEXT NOT NULL,
                    PRIMARY KEY (run_id, name)
                )
                """),
        Migration(
            version: 12, name: "rules by name, with versions and categories",
            sql: """
                ALTER TABLE rules ADD COLUMN category TEXT;
                ALTER TABLE rules ADD COLUMN version INTEGER;
                ALTER TABLE rules ADD COLUMN updated_at TEXT;
                ALTER TABLE rules ADD COLUMN updated_by TEXT;
                CREATE TABLE rule_versions (
                    name TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    content_hash TEXT NOT NULL,
                    description TEXT,
                    severity TEXT NOT NULL,
                    sql TEXT NOT NULL,
                    warn_if TEXT,
                    error_if TEXT,
                    side TEXT NOT NULL,
                    category TEXT,
                    created_by TEXT,
                    updated_at TEXT,
                    updated_by TEXT,
                    replaced_at TEXT NOT NULL,
                    PRIMARY KEY (name, version)
                )
                """),
        Migration(
            version: 13, name: "validated materials per validation run",
            sql: """
                ALTER TABLE validation_runs ADD COLUMN materials TEXT
                """),
        Migration(
            version: 14, name: "what archives took out of each month",
            sql: """
                CREATE TABLE archived_counts (
                    month TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    rows BIGINT NOT NULL,
                    PRIMARY KEY (month, table_name, status)
                )
                """),
        Migration(
            version: 15, name: "rulebook registry, reported months and failure snapshots from other tools' files",
            sql: """
                CREATE TABLE rulebook_registry (
                    suite_name TEXT NOT NULL,
                    expectation_type TEXT NOT NULL,
                    rule_hash TEXT NOT NULL,
                    definition TEXT NOT NULL,
                    added_on TEXT,
                    last_modified TEXT NOT NULL,
                    check_name TEXT,
                    PRIMARY KEY (suite_name, expectation_type, rule_hash)
                );
                CREATE TABLE reported_months (
                    month TEXT PRIMARY KEY,
                    origin TEXT NOT NULL,
                    current_total BIGINT,
                    previous_total BIGINT,
                    delta BIGINT,
                    materials BIGINT,
                    breakdown TEXT NOT NULL,
                    log_stats TEXT,
                    data_date TEXT,
                    cached_at TEXT NOT NULL,
                    payload TEXT NOT NULL
                );
                CREATE TABLE failure_snapshots (
                    suite_name TEXT NOT NULL,
                    data_date TEXT NOT NULL,
                    row_count BIGINT NOT NULL,
                    columns TEXT NOT NULL,
                    bytes BIGINT NOT NULL,
                    sha256 TEXT NOT NULL,
                    content TEXT NOT NULL,
                    cached_at TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    PRIMARY KEY (suite_name, data_date)
                )
                """),
        Migration(
            version: 16, name: "alert rules, alerts and their deliveries",
            sql: """
                CREATE TABLE alert_rules (
                    name TEXT PRIMARY KEY,
                    condition TEXT NOT NULL,
                    scope TEXT,
                    threshold DOUBLE PRECISION,
                    severity TEXT NOT NULL,
                    channels TEXT NOT NULL,
                    escalate_after_seconds BIGINT,
                    escalate_to TEXT NOT NULL,
                    silenced_until TEXT,
                    enabled INTEGER NOT NULL,
                    created_by TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE alerts (
                    id TEXT PRIMARY KEY,
                    rule_name TEXT NOT NULL,
                    dedup_key TEXT NOT NULL,
                    state TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    title TEXT NOT NULL,
                    detail TEXT,
                    subject TEXT,
                    first_at TEXT NOT NULL,
                    last_at TEXT NOT NULL,
                    occurrences BIGINT NOT NULL,
                    escalation_level INTEGER NOT NULL,
                    acknowledged_by TEXT,
                    acknowledged_at TEXT,
                    resolved_by TEXT,
                    resolved_at TEXT
                );
                CREATE INDEX alerts_rule_key ON alerts (rule_name, dedup_key);
                CREATE INDEX alerts_state ON alerts (state);
                CREATE TABLE alert_deliveries (
                    id {{id}},
                    alert_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    detail TEXT,
                    at TEXT NOT NULL
                );
                CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id)
                """),
        Migration(
            version: 17, name: "disabled users, signed-out sessions",
            sql: """
                ALTER TABLE users ADD COLUMN disabled_at TEXT;
                ALTER TABLE users ADD COLUMN sessions_valid_after TEXT;
                CREATE TABLE revoked_sessions (
                    token_id TEXT PRIMARY KEY,
                    username TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    revoked_at TEXT NOT NULL
                )
                """),
        Migration(
            version: 18, name: "validation runs: the project and pipeline that ran",
            sql: """
                ALTER TABLE validation_runs ADD COLUMN project_id TEXT;
                ALTER TABLE validation_runs ADD COLUMN pipeline_name TEXT;
                ALTER TABLE validation_runs ADD COLUMN pipeline_hash TEXT;
                ALTER TABLE validation_runs ADD COLUMN pipeline_content TEXT;
                CREATE INDEX validation_runs_project ON validation_runs (project_id, started_at)
                """),
        Migration(
            version: 19, name: "batches: the project they were started for",
            sql: """
                ALTER TABLE batches ADD COLUMN project_id TEXT
                """),
        Migration(
            version: 20, name: "users: the identity provider that signs them in",
            sql: """
                ALTER TABLE users ADD COLUMN provider TEXT
                """),
        Migration(
            version: 21, name: "workload per table, join pair and column",
            sql: """
                CREATE TABLE workload_tables (
                    run_id TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    statements BIGINT NOT NULL,
                    executions BIGINT NOT NULL,
                    milliseconds DOUBLE PRECISION NOT NULL,
                    time_share DOUBLE PRECISION NOT NULL
                );
                CREATE INDEX workload_tables_run ON workload_tables (run_id);
                CREATE TABLE workload_joins (
                    run_id TEXT NOT NULL,
                    left_side TEXT NOT NULL,
                    right_side TEXT NOT NULL,
                    statements BIGINT NOT NULL,
                    executions BIGINT NOT NULL
                );
                CREATE INDEX workload_joins_run ON workload_joins (run_id);
                CREATE TABLE workload_columns (
                    run_id TEXT NOT NULL,
                    column_name TEXT NOT NULL,
                    filtered BIGINT NOT NULL,
                    grouped BIGINT NOT NULL,
                    joined BIGINT NOT NULL,
                    aggregated BIGINT NOT NULL
                );
                CREATE INDEX workload_columns_run ON workload_columns (run_id);
                """),
        Migration(
            version: 22, name: "log lines pay for two indexes, not four",
            sql: """
                DROP INDEX logs_import;
                DROP INDEX logs_run;
                CREATE INDEX logs_run ON logs (run_id, id) WHERE run_id IS NOT NULL;
                DROP INDEX logs_at;
                DROP INDEX logs_entry_key;
                CREATE UNIQUE INDEX logs_at_key ON logs (at, entry_key)
                """),
        Migration(
            // The time is the index's first column already; in the key too it cost every imported
            // line 25 bytes in the table and 25 in the index. See LogEntry.currentKey.
            version: 23, name: "an imported log line's key no longer repeats its time",
            sql: """
                UPDATE logs SET entry_key = substr(entry_key, length(entry_key) - 31) WHERE entry_key LIKE '%/%'
                """),
    ]

    static func sql(_ migration: Migration, for engine: ConnectionURL.Engine) -> String {
        let (id, json): (String, String)
        switch engine {
        case .postgres: (id, json) = ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "JSONB")
        case .snowflake: (id, json) = ("INTEGER AUTOINCREMENT PRIMARY KEY", "VARIANT")
        default: (id, json) = ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT")
        }
        var text = migration.sql.replacingOccurrences(of: "{{id}}", with: id).replacingOccurrences(of: "{{json}}", with: json)
        if engine == .snowflake {
            // Snowflake has no indexes, and its foreign keys are not enforced (nor cascaded): the
            // store deletes children itself.
            text = text.replacingOccurrences(of: #"(CREATE (UNIQUE )?|DROP )INDEX [^;]*;?"#, with: "", options: .regularExpression)
                .replacingOccurrences(of: #" REFERENCES \w+ \(\w+\) ON DELETE CASCADE"#, with: "", options: .regularExpression)
        }
        return text
    }

    /// Applies every migration newer than the store's version, each in its own transaction, under
    /// a lock so concurrent processes starting at once apply each exactly once.
    static func apply(to database: any StoreDatabase) throws {
        // Snowflake commits before any DDL, so a migration cannot be one transaction there: the
        // first process to open a new Snowflake store applies them (concurrent first opens are not
        // serialized; the README says so).
        func step(_ body: () throws -> Void) throws {
            if database.engine == .snowflake { try body() } else { try database.exclusively(body) }
        }
        // IF NOT EXISTS is not safe against a concurrent creator on PostgreSQL: take the lock first.
        try step {
            try database.script(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        }
        for migration in all {
            try step {
                let applied = try database.execute("SELECT 1 FROM schema_migrations WHERE version = \(migration.version)")
                guard applied.isEmpty else { return }
                try database.script(sql(migration, for: database.engine))
                _ = try database.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(ISOTime.now()))")
                logger.info(
                    "store migration \(migration.version) applied: \(migration.name)",
                    metadata: ["version": "\(migration.version)", "engine": "\(database.engine.rawValue)"])
            }
        }
    }

    private static let logger = Logger(label: "cutover.store")

    static var latestVersion: Int { all.map(\.version).max() ?? 0 }
}
