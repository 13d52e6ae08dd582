import CutoverCore

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
        Migration(version: 1, name: "runs, run tables and logs", sql: """
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
        Migration(version: 2, name: "chunk ledger, plan identity and watermarks", sql: """
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
        Migration(version: 3, name: "rejected rows", sql: """
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
        Migration(version: 4, name: "rulebook", sql: """
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
    ]

    static func sql(_ migration: Migration, for engine: ConnectionURL.Engine) -> String {
        let id = engine == .postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
        return migration.sql.replacingOccurrences(of: "{{id}}", with: id)
    }

    /// Applies every migration newer than the store's version, each in its own transaction, under
    /// a lock so concurrent processes starting at once apply each exactly once.
    static func apply(to database: any StoreDatabase) throws {
        // IF NOT EXISTS is not safe against a concurrent creator on PostgreSQL: take the lock first.
        try database.exclusively {
            try database.script("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        }
        for migration in all {
            try database.exclusively {
                let applied = try database.execute("SELECT 1 FROM schema_migrations WHERE version = ?", [String(migration.version)])
                guard applied.isEmpty else { return }
                try database.script(sql(migration, for: database.engine))
                _ = try database.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                         [String(migration.version), migration.name, ISOTime.now()])
            }
        }
    }

    static var latestVersion: Int { all.map(\.version).max() ?? 0 }
}
