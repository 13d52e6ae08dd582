import CutoverCore
import CutoverSnowflake
import Foundation
import Metrics

/// The ``MetadataStore`` over SQLite (default, `.cutover/cutover.db`) or PostgreSQL (for teams).
///
/// `@unchecked Sendable`: the one database session is only touched under `lock`, from Dispatch's
/// pool (``BlockingIO``), never concurrently.
public final class SQLMetadataStore: MetadataStore, @unchecked Sendable {
    let database: any StoreDatabase
    private let lock = NSLock()
    /// Hot reads (the overview, recent failures, column metadata) served from memory for a while.
    let memory = TTLCache()
    /// The schema version this build migrates stores to.
    public static var latestSchemaVersion: Int { StoreMigrations.latestVersion }
    /// The store URL with secrets masked.
    public let location: String
    public let identities: Set<DatabaseIdentity>

    /// Opens (creating if needed) the store at `url` and applies pending migrations.
    public static func open(_ url: ConnectionURL) async throws -> SQLMetadataStore {
        try await BlockingIO.run { UncheckedBox(try SQLMetadataStore(url: url)) }.value
    }

    init(url: ConnectionURL) throws {
        do {
            switch url.engine {
            case .sqlite: database = try SQLiteStoreDatabase(path: url.database)
            case .postgres: database = try PostgresStoreDatabase(url: url)
            case .snowflake: database = try SnowflakeStoreDatabase(url: url)
            default:
                throw CutoverError(
                    .usage, "the metadata store cannot live in \(url.engine.rawValue)",
                    hint: "use --store sqlite:.cutover/cutover.db (default), --store postgres://... or --store snowflake://...")
            }
            location = url.description
            try StoreMigrations.apply(to: database)
            identities = try Self.identities(of: database, url: url)
        } catch let error as CutoverError where error.code != .usage {
            throw CutoverError(.store, "cannot open the metadata store \(url): \(error.message)", hint: error.hint, context: error.context)
        }
    }

    /// What the store's database is, so that no connection can name it (see ``MetadataStore/identities``).
    private static func identities(of database: any StoreDatabase, url: ConnectionURL) throws -> Set<DatabaseIdentity> {
        switch database {
        case is SQLiteStoreDatabase: return DatabaseIdentity.sqliteFiles(atPath: url.database)
        case let postgres as PostgresStoreDatabase: return [try postgres.session.identity()]
        default: return [try SnowflakeSettings(url).identity]
        }
    }

    /// Runs `body` on the store's connection, one operation at a time; its time (waiting included)
    /// goes to `cutover_store_operation_seconds`, labelled with the calling method's name.
    func run<T: Sendable>(_ operation: String = #function, _ body: @escaping @Sendable (any StoreDatabase) throws -> T) async throws -> T {
        let box = UncheckedBox(self)
        let started = DispatchTime.now()
        defer {
            Timer(label: "cutover_store_operation_seconds", dimensions: [("operation", String(operation.prefix { $0 != "(" }))])
                .recordInterval(since: started)
        }
        return try await BlockingIO.run {
            let store = box.value
            store.lock.lock()
            defer { store.lock.unlock() }
            return try body(store.database)
        }
    }

    public func startRun(_ run: RunRecord) async throws {
        try await self.run { db in
            _ = try db.execute(
                """
                INSERT INTO runs (id, kind, status, source, target, started_at, artifacts_dir, plan_hash, created_by, lease_owner, lease_until, options,
                                  finished_at, summary, error)
                VALUES (\(run.id), \(run.kind), \(run.status.rawValue), \(run.source.map(Redaction.connectionString)), \(run.target.map(Redaction.connectionString)), \(run.startedAt), \(run.artifactsDir), \(run.planHash), \(run.createdBy), \(run.leaseOwner), \(run.leaseUntil), \(run.request), \(run.finishedAt), \(run.summary), \(run.error.map(Redaction.redact)))
                """)
            try Self.invalidateOverview(db, months: [String(run.startedAt.prefix(7))])
        }
        memory.invalidate(prefix: "overview")
    }

    /// The run's status, failure and rows moved count in its month's overview: that month is dropped.
    public func finishRun(id: String, status: RunStatus, summary: String?, error: String?) async throws {
        try await run { db in
            _ = try db.execute(
                "UPDATE runs SET status = \(status.rawValue), finished_at = \(ISOTime.now()), summary = \(summary), error = \(error), lease_owner = NULL, lease_until = NULL WHERE id = \(id)"
            )
            let month = try db.execute("SELECT started_at FROM runs WHERE id = \(id)").first?.first.flatMap { $0 }.map { String($0.prefix(7)) }
            try Self.invalidateOverview(db, months: Set([month ?? String(ISOTime.now().prefix(7))]))
        }
        memory.invalidate(prefix: "overview")
    }

    public func claimRun(id: String, owner: String, leaseSeconds: Int, replacing deadOwner: String?) async throws -> Bool {
        let now = ISOTime.now()
        let until = ISOTime.string(Date().addingTimeInterval(TimeInterval(leaseSeconds)))
        return try await run { db in
            try db.exclusively {
                // The condition is repeated in the UPDATE and the winner read back, so that without
                // row locks (Snowflake) two claimers cannot both believe they won.
                _ = try db.execute(
                    """
                    UPDATE runs SET lease_owner = \(owner), lease_until = \(until), status = 'running', finished_at = NULL
                    WHERE id = \(id) AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until < \(now) OR lease_owner = \(owner) OR lease_owner = \(deadOwner ?? owner))
                    """)
                return try db.execute("SELECT lease_owner FROM runs WHERE id = \(id)").first?.first == owner
            }
        }
    }

    public func renewRunLease(id: String, owner: String, leaseSeconds: Int) async throws -> Bool {
        let until = ISOTime.string(Date().addingTimeInterval(TimeInterval(leaseSeconds)))
        return try await run { db in
            _ = try db.execute("UPDATE runs SET lease_until = \(until) WHERE id = \(id) AND lease_owner = \(owner)")
            return try db.execute("SELECT lease_owner FROM runs WHERE id = \(id)").first?.first == owner
        }
    }

    public func interruptRuns(ownedBy owner: String?) async throws -> [String] {
        let now = ISOTime.now()
        let ids = try await run { db in
            try db.exclusively {
                let pattern = owner.map {
                    $0.replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%")
                        .replacingOccurrences(of: "_", with: "!_") + "%"
                }
                let condition: StoreSQL = pattern.map { "lease_owner LIKE \($0) ESCAPE '!'" } ?? "(lease_until IS NULL OR lease_until < \(now))"
                let ids = try db.execute("SELECT id FROM runs WHERE status IN ('running', 'cancelling') AND \(condition)")
                    .compactMap { $0.first ?? nil }
                for id in ids {
                    _ = try db.execute(
                        """
                        UPDATE runs SET status = 'interrupted', lease_owner = NULL, lease_until = NULL,
                        error = COALESCE(error, 'interrupted: the process running it stopped before it finished')
                        WHERE id = \(id) AND status IN ('running', 'cancelling')
                        """)
                }
                if !ids.isEmpty { _ = try db.execute("DELETE FROM overview_cache") }
                return ids
            }
        }
        if !ids.isEmpty { memory.invalidate(prefix: "overview") }
        return ids
    }

    /// Writes a table's record; counts and times the new record leaves out keep what an earlier
    /// step wrote (validation does not know the move's bytes or start), status, message and
    /// details are the new record's.
    public func recordTable(_ r: RunTableRecord) async throws {
        try await run { db in
            try db.exclusively {
                if try db.execute("SELECT 1 FROM run_tables WHERE run_id = \(r.runID) AND table_name = \(r.table)").isEmpty {
                    _ = try db.execute(
                        """
                        INSERT INTO run_tables (run_id, table_name, status, source_rows, target_rows, bytes, started_at, finished_at, message, details)
                        VALUES (\(r.runID), \(r.table), \(r.status), \(r.sourceRows), \(r.targetRows), \(r.bytes), \(r.startedAt), \(r.finishedAt), \(r.message), \(r.details))
                        """)
                } else {
                    _ = try db.execute(
                        """
                        UPDATE run_tables SET status = \(r.status), source_rows = COALESCE(\(r.sourceRows), source_rows),
                            target_rows = COALESCE(\(r.targetRows), target_rows), bytes = COALESCE(\(r.bytes), bytes),
                            started_at = COALESCE(\(r.startedAt), started_at), finished_at = COALESCE(\(r.finishedAt), finished_at),
                            message = \(r.message), details = \(r.details)
                        WHERE run_id = \(r.runID) AND table_name = \(r.table)
                        """)
                }
            }
        }
    }

    public func log(_ entry: LogEntry) async throws {
        try await run { db in
            _ = try db.execute(
                "INSERT INTO logs (at, level, run_id, table_name, event, message, fields) VALUES (\(entry.at), \(entry.level), \(entry.runID), \(entry.table), \(entry.event), \(entry.message), \(entry.fieldsColumn))"
            )
        }
    }

    static let runColumns =
        "id, kind, status, source, target, started_at, finished_at, artifacts_dir, summary, error, plan_hash, created_by, "
        + "lease_owner, lease_until, options"

    /// A run as stored, except that a `running` or `cancelling` run whose coordinator's lease ran
    /// out is `interrupted`: nobody is running it any more, whatever the row says. Read by column
    /// name; a row missing what every run has is an error, not a run with blanks.
    static func runRecord(_ values: [String?]) throws -> RunRecord {
        let row = NamedRow(table: "runs", columns: runColumns, values: values)
        let stored = try row.required("status")
        guard var status = RunStatus(rawValue: stored) else {
            throw CutoverError(
                .store, "runs.status holds \(stored), not a run status (\(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")))",
                hint: "the store was changed by hand; restore it from a backup", context: ["run": row.optional("id") ?? ""])
        }
        let leaseUntil = row.optional("lease_until")
        if status.isActive, (leaseUntil ?? "") < ISOTime.now() { status = .interrupted }
        return RunRecord(
            id: try row.required("id"), kind: try row.required("kind"), status: status, source: row.optional("source"),
            target: row.optional("target"), startedAt: try row.required("started_at"), finishedAt: row.optional("finished_at"),
            artifactsDir: row.optional("artifacts_dir"), summary: row.optional("summary"), error: row.optional("error"),
            planHash: row.optional("plan_hash"), createdBy: row.optional("created_by"), leaseOwner: row.optional("lease_owner"),
            leaseUntil: leaseUntil, request: row.optional("options"))
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.runColumns) FROM runs ORDER BY started_at DESC, id DESC LIMIT \(limit)").map {
                try Self.runRecord($0)
            }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await run { db in try db.execute("SELECT \(raw: Self.runColumns) FROM runs WHERE id = \(id)").first.map { try Self.runRecord($0) } }
    }

    static let runTableColumns = "run_id, table_name, status, source_rows, target_rows, bytes, started_at, finished_at, message, details"

    static func runTableRecord(_ values: [String?]) throws -> RunTableRecord {
        let row = NamedRow(table: "run_tables", columns: runTableColumns, values: values)
        return RunTableRecord(
            runID: try row.required("run_id"), table: try row.required("table_name"), status: try row.required("status"),
            sourceRows: try row.int("source_rows"), targetRows: try row.int("target_rows"), bytes: try row.int("bytes"),
            startedAt: row.optional("started_at"), finishedAt: row.optional("finished_at"), message: row.optional("message"),
            details: row.optional("details"))
    }

    public func tables(runID: String) async throws -> [RunTableRecord] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.runTableColumns) FROM run_tables WHERE run_id = \(runID) ORDER BY table_name").map {
                try Self.runTableRecord($0)
            }
        }
    }

    public func tableHistory(table: String, limit: Int) async throws -> [RunTableRecord] {
        try await run { db in
            // The run's start stands in for the table's, and the restore details are left out.
            try db.execute(
                """
                SELECT t.run_id, t.table_name, t.status, t.source_rows, t.target_rows, t.bytes, r.started_at, t.finished_at, t.message, NULL
                FROM run_tables t JOIN runs r ON r.id = t.run_id WHERE t.table_name = \(table) ORDER BY r.started_at DESC LIMIT \(limit)
                """
            ).map { try Self.runTableRecord($0) }
        }
    }

    static let logColumns = "id, at, level, run_id, table_name, event, message, fields"

    /// A log line as stored, with its id (the position the event feed resumes from).
    static func logEntry(_ values: [String?]) throws -> (id: Int64, entry: LogEntry) {
        let row = NamedRow(table: "logs", columns: logColumns, values: values)
        return (
            id: try row.requiredInt("id"),
            entry: LogEntry(
                at: try row.required("at"), level: try row.required("level"), runID: row.optional("run_id"), table: row.optional("table_name"),
                event: try row.required("event"), message: try row.required("message"), fields: LogEntry.fields(stored: row.optional("fields")))
        )
    }

    public func logs(runID: String) async throws -> [LogEntry] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.logColumns) FROM logs WHERE run_id = \(runID) ORDER BY id").map { try Self.logEntry($0).entry }
        }
    }

    public func schemaVersion() async throws -> Int {
        try await run { db in Int(try db.count("SELECT max(version) FROM schema_migrations")) }
    }

    // MARK: Chunk ledger

    private static let chunkColumns = "run_id, table_name, chunk_no, bounds, state, rows, bytes, checksum, attempts, lease_owner, lease_until, error"

    /// A chunk as the ledger holds it. A state the ledger does not know is an error: read as
    /// `pending`, a chunk could be loaded again over rows it already committed.
    private static func chunkRecord(_ values: [String?]) throws -> ChunkRecord {
        let row = NamedRow(table: "chunks", columns: chunkColumns, values: values)
        let stateText = try row.required("state")
        guard let state = ChunkRecord.State(rawValue: stateText) else {
            throw CutoverError(
                .store, "chunks.state holds \(stateText), not a chunk state (\(ChunkRecord.State.allCases.map(\.rawValue).joined(separator: ", ")))",
                hint: "the store was changed by hand; restore it from a backup, or set the chunk to pending to load it again",
                context: ["run": row.optional("run_id") ?? "", "table": row.optional("table_name") ?? ""])
        }
        return ChunkRecord(
            runID: try row.required("run_id"), table: try row.required("table_name"), number: Int(try row.requiredInt("chunk_no")),
            bounds: try row.required("bounds"), state: state, rows: try row.int("rows"), bytes: try row.int("bytes"),
            checksum: row.optional("checksum"), attempts: Int(try row.requiredInt("attempts")), leaseOwner: row.optional("lease_owner"),
            leaseUntil: row.optional("lease_until"), error: row.optional("error"))
    }

    public func addChunks(_ chunks: [ChunkRecord]) async throws {
        try await run { db in
            try db.exclusively {
                for c in chunks {
                    _ = try db.execute(
                        """
                        INSERT INTO chunks (run_id, table_name, chunk_no, bounds, state, attempts, updated_at) SELECT \(c.runID), \(c.table), \(c.number), \(c.bounds), \(c.state.rawValue), 0, \(ISOTime.now())
                        WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE run_id = \(c.runID) AND table_name = \(c.table) AND chunk_no = \(c.number))
                        """)
                }
            }
        }
    }

    public func chunks(runID: String) async throws -> [ChunkRecord] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.chunkColumns) FROM chunks WHERE run_id = \(runID) ORDER BY table_name, chunk_no").map(Self.chunkRecord)
        }
    }

    public func claimChunk(runID: String, owner: String, leaseSeconds: Int) async throws -> ChunkRecord? {
        let now = ISOTime.now()
        let until = ISOTime.string(Date().addingTimeInterval(TimeInterval(leaseSeconds)))
        return try await run { db in
            let claimable: StoreSQL = "run_id = \(runID) AND (state = 'pending' OR (state = 'running' AND lease_until < \(now)))"
            if db.engine == .postgres {
                // SKIP LOCKED: concurrent workers each take a different chunk without waiting.
                return try db.execute(
                    """
                    UPDATE chunks SET state = 'running', lease_owner = \(owner), lease_until = \(until), attempts = attempts + 1, updated_at = \(now)
                    WHERE (run_id, table_name, chunk_no) = (
                        SELECT run_id, table_name, chunk_no FROM chunks WHERE \(claimable)
                        ORDER BY table_name, chunk_no LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING \(raw: Self.chunkColumns)
                    """
                ).first.map(Self.chunkRecord)
            }
            // Without row locks (Snowflake), two claimers may pick the same candidate: the UPDATE
            // repeats the claim condition and the re-read names this claim's lease, so only the winner
            // gets the chunk and the loser tries the next one.
            let lease = owner + "#" + UUID().uuidString
            for _ in 0..<20 {
                let claimed: ChunkRecord?? = try db.exclusively {
                    guard
                        let row = try db.execute(
                            "SELECT table_name, chunk_no FROM chunks WHERE \(claimable) ORDER BY table_name, chunk_no LIMIT 1"
                        ).first
                    else { return .some(nil) }
                    _ = try db.execute(
                        """
                        UPDATE chunks SET state = 'running', lease_owner = \(lease), lease_until = \(until), attempts = attempts + 1, updated_at = \(now)
                        WHERE table_name = \(row[0]) AND chunk_no = \(row[1]) AND \(claimable)
                        """)
                    guard
                        var chunk = try db.execute(
                            "SELECT \(raw: Self.chunkColumns) FROM chunks WHERE run_id = \(runID) AND table_name = \(row[0]) AND chunk_no = \(row[1]) AND lease_owner = \(lease)"
                        ).first.map(Self.chunkRecord)
                    else { return nil }
                    _ = try db.execute(
                        "UPDATE chunks SET lease_owner = \(owner) WHERE run_id = \(runID) AND table_name = \(row[0]) AND chunk_no = \(row[1])")
                    chunk.leaseOwner = owner
                    return .some(chunk)
                }
                if let claimed { return claimed }
            }
            return nil
        }
    }

    public func finishChunk(_ c: ChunkRecord) async throws {
        try await run { db in
            _ = try db.execute(
                """
                UPDATE chunks SET state = \(c.state.rawValue), rows = \(c.rows), bytes = \(c.bytes), checksum = \(c.checksum), error = \(c.error), lease_owner = NULL, lease_until = NULL, updated_at = \(ISOTime.now()),
                    attempts = CASE WHEN attempts > \(c.attempts) THEN attempts ELSE \(c.attempts) END
                WHERE run_id = \(c.runID) AND table_name = \(c.table) AND chunk_no = \(c.number)
                """)
        }
    }

    public func resetChunks(runID: String, table: String) async throws {
        try await run { db in
            _ = try db.execute(
                """
                UPDATE chunks SET state = 'pending', rows = NULL, bytes = NULL, checksum = NULL, lease_owner = NULL, lease_until = NULL, error = NULL
                WHERE run_id = \(runID) AND table_name = \(table)
                """)
        }
    }

    public func releaseChunks(runID: String) async throws {
        try await run { db in
            _ = try db.execute(
                "UPDATE chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE run_id = \(runID) AND state IN ('running', 'failed')"
            )
        }
    }

    public func resumableRun(planHash: String) async throws -> RunRecord? {
        try await run { db in
            try db.execute(
                """
                SELECT \(raw: Self.runColumns) FROM runs WHERE plan_hash = \(planHash) AND status NOT IN ('succeeded', 'superseded')
                ORDER BY started_at DESC LIMIT 1
                """
            ).first.map(Self.runRecord)
        }
    }

    public func requestCancel(runID: String) async throws -> Bool {
        try await run { db in
            // One transaction: a run that finishes meanwhile is never turned back into an unfinished one.
            try db.exclusively {
                guard try db.execute("SELECT status FROM runs WHERE id = \(runID)").first?.first == "running" else { return false }
                _ = try db.execute("UPDATE runs SET status = 'cancelling' WHERE id = \(runID) AND status = 'running'")
                return true
            }
        }
    }

    public func setRunStatus(id: String, status: RunStatus) async throws {
        try await run { db in _ = try db.execute("UPDATE runs SET status = \(status.rawValue), finished_at = NULL WHERE id = \(id)") }
    }

    public func watermark(source: String, target: String, table: String) async throws -> (column: String, value: String?)? {
        try await run { db in
            let rows = try db.execute(
                "SELECT column_name, value FROM watermarks WHERE source = \(source) AND target = \(target) AND table_name = \(table)")
            return try NamedRow.rows("watermarks", "column_name, value", rows).first.map { (try $0.required("column_name"), $0.optional("value")) }
        }
    }

    public func setWatermark(source: String, target: String, table: String, column: String, value: String?, runID: String) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM watermarks WHERE source = \(source) AND target = \(target) AND table_name = \(table)")
                _ = try db.execute(
                    """
                    INSERT INTO watermarks (source, target, table_name, column_name, value, run_id, updated_at) VALUES (\(source), \(target), \(table), \(column), \(value), \(runID), \(ISOTime.now()))
                    """)
            }
        }
    }

    public func watermarks(source: String?, target: String?) async throws -> [WatermarkRecord] {
        try await run { db in
            var sql: StoreSQL = "SELECT source, target, table_name, column_name, value, run_id, updated_at FROM watermarks WHERE 1 = 1"
            if let source { sql = sql + " AND source = \(source)" }
            if let target { sql = sql + " AND target = \(target)" }
            return try db.execute(sql + " ORDER BY source, target, table_name").map { row in
                WatermarkRecord(
                    source: try Self.required(row, 0, "watermarks.source"), target: try Self.required(row, 1, "watermarks.target"),
                    table: try Self.required(row, 2, "watermarks.table_name"), column: try Self.required(row, 3, "watermarks.column_name"),
                    value: row[4], runID: row[5], updatedAt: try Self.required(row, 6, "watermarks.updated_at"))
            }
        }
    }

    public func deleteWatermarks(source: String, target: String, table: String?) async throws -> Int {
        try await run { db in
            try db.exclusively {
                let filter: StoreSQL = "source = \(source) AND target = \(target)" + (table.map { " AND table_name = \($0)" } ?? "")
                let count = Int(try db.count("SELECT COUNT(*) FROM watermarks WHERE \(filter)"))
                _ = try db.execute("DELETE FROM watermarks WHERE \(filter)")
                return count
            }
        }
    }

    public func runWindow(runID: String, table: String) async throws -> RunWindow? {
        try await run { db in
            try db.execute("SELECT column_name, low_value, high_value FROM run_windows WHERE run_id = \(runID) AND table_name = \(table)").first.map {
                row in
                RunWindow(column: try Self.required(row, 0, "run_windows.column_name"), low: row[1], high: row[2])
            }
        }
    }

    public func setRunWindow(runID: String, table: String, window: RunWindow) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM run_windows WHERE run_id = \(runID) AND table_name = \(table)")
                _ = try db.execute(
                    "INSERT INTO run_windows (run_id, table_name, column_name, low_value, high_value) VALUES (\(runID), \(table), \(window.column), \(window.low), \(window.high))"
                )
            }
        }
    }

    /// A NOT NULL column's value; a NULL there means the store was changed by hand.
    static func required(_ row: [String?], _ index: Int, _ name: String) throws -> String {
        guard index < row.count, let value = row[index] else {
            throw CutoverError(
                .store, "the store's \(name) is NULL or missing where it cannot be", hint: "the store was changed by hand: fix or delete that row")
        }
        return value
    }

    // MARK: Rejected rows

    public func addRejects(_ rejects: [RejectRecord]) async throws {
        try await run { db in
            try db.exclusively {
                for r in rejects {
                    _ = try db.execute(
                        """
                        INSERT INTO rejects (run_id, table_name, chunk_no, row_key, reason, row_values, at) VALUES (\(r.runID), \(r.table), \(r.chunk), \(r.key), \(r.reason), \(r.values), \(ISOTime.now()))
                        """)
                }
            }
        }
    }

    public func clearRejects(runID: String, table: String, chunk: Int) async throws {
        try await run { db in
            _ = try db.execute("DELETE FROM rejects WHERE run_id = \(runID) AND table_name = \(table) AND chunk_no = \(chunk)")
        }
    }

    public func rejects(runID: String) async throws -> [RejectRecord] {
        try await run { db in
            let columns = "run_id, table_name, chunk_no, row_key, reason, row_values"
            return try NamedRow.rows("rejects", columns, try db.execute("SELECT \(raw: columns) FROM rejects WHERE run_id = \(runID) ORDER BY id"))
                .map {
                    row in
                    RejectRecord(
                        runID: try row.required("run_id"), table: try row.required("table_name"), chunk: try row.int("chunk_no").map { Int($0) },
                        key: row.optional("row_key"), reason: try row.required("reason"), values: row.optional("row_values"))
                }
        }
    }

    // MARK: Rulebook

    @discardableResult
    public func saveRules(_ rules: [StoredRule]) async throws -> Int {
        try await run { db in
            try db.exclusively {
                var saved = 0
                for r in rules {
                    // Earlier stores may hold several rows of one name (before rules had versions): all go to the history.
                    let current = try db.execute("SELECT \(raw: Self.ruleColumns) FROM rules WHERE name = \(r.name) ORDER BY created_at").map(
                        Self.storedRule)
                    if current.count == 1, current[0].contentHash == r.contentHash { continue }
                    // Versions count on from the history: the current row (normally one) is the next number.
                    var version =
                        try db.execute("SELECT MAX(version) FROM rule_versions WHERE name = \(r.name)").first?.first.flatMap { $0 }.flatMap {
                            Int($0)
                        } ?? 0
                    let now = ISOTime.now()
                    for old in current {
                        version += 1
                        _ = try db.execute(
                            """
                            INSERT INTO rule_versions (name, version, content_hash, description, severity, sql, warn_if, error_if, side, category,
                                                       created_by, updated_at, updated_by, replaced_at)
                            VALUES (\(old.name), CAST(\(version) AS INTEGER), \(old.contentHash), \(old.description), \(old.severity.rawValue), \(old.sql), \(old.warnIf), \(old.errorIf), \(old.side.rawValue), \(old.category), \(old.createdBy), \(old.updatedAt), \(old.updatedBy), \(now))
                            """)
                        _ = try db.execute("DELETE FROM rules WHERE content_hash = \(old.contentHash)")
                    }
                    // A rule changed back to an earlier content is a new version too; the row it
                    // had is gone from `rules` above, so the content hash is free.
                    _ = try db.execute("DELETE FROM rules WHERE content_hash = \(r.contentHash)")
                    _ = try db.execute(
                        """
                        INSERT INTO rules (content_hash, name, description, severity, sql, warn_if, error_if, side, created_at, created_by,
                                           category, version, updated_at, updated_by)
                        VALUES (\(r.contentHash), \(r.name), \(r.description), \(r.severity.rawValue), \(r.sql), \(r.warnIf), \(r.errorIf), \(r.side.rawValue), \(now), \(current.first?.createdBy ?? r.createdBy), \(r.category), CAST(\(version + 1) AS INTEGER), \(now), \(r.updatedBy ?? r.createdBy))
                        """)
                    saved += 1
                }
                return saved
            }
        }
    }

    static let ruleColumns =
        "content_hash, name, description, severity, sql, warn_if, error_if, side, created_by, category, version, updated_at, updated_by"

    /// A rule as stored; a row without its severity or side, or with one Cutover does not know, is an
    /// error, not an `error` rule run against the target.
    static func storedRule(_ values: [String?]) throws -> StoredRule {
        let row = NamedRow(table: "rules", columns: ruleColumns, values: values)
        return StoredRule(
            contentHash: try row.required("content_hash"), name: try row.required("name"), description: row.optional("description"),
            severity: try row.value("severity", as: RuleSeverity.self), sql: try row.required("sql"), warnIf: row.optional("warn_if"),
            errorIf: row.optional("error_if"), side: try row.value("side", as: RuleSide.self), category: row.optional("category"),
            createdBy: row.optional("created_by"),
            // Rules saved before versions existed (store schema 12) have none: they are their first.
            version: Int(try row.int("version") ?? 1), updatedAt: row.optional("updated_at"), updatedBy: row.optional("updated_by"))
    }

    public func rules() async throws -> [StoredRule] {
        try await run { db in try db.execute("SELECT \(raw: Self.ruleColumns) FROM rules ORDER BY name, created_at").map(Self.storedRule) }
    }

    public func ruleVersions(name: String) async throws -> [StoredRule] {
        try await run { db in
            let current = try db.execute("SELECT \(raw: Self.ruleColumns) FROM rules WHERE name = \(name)").map(Self.storedRule)
            let older = try db.execute(
                """
                SELECT \(raw: Self.ruleColumns) FROM rule_versions WHERE name = \(name) ORDER BY version DESC
                """
            ).map(Self.storedRule)
            return current + older
        }
    }

    public func rule(contentHash: String) async throws -> StoredRule? {
        try await run { db in
            try db.execute("SELECT \(raw: Self.ruleColumns) FROM rules WHERE content_hash = \(contentHash)").first.map(Self.storedRule)
        }
    }
}
