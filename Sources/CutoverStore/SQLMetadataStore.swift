import CutoverCore
import Foundation

/// The ``MetadataStore`` over SQLite (default, `.cutover/cutover.db`) or PostgreSQL (for teams).
///
/// `@unchecked Sendable`: the one database session is only touched under `lock`, from Dispatch's
/// pool (``BlockingIO``), never concurrently.
public final class SQLMetadataStore: MetadataStore, @unchecked Sendable {
    private let database: any StoreDatabase
    private let lock = NSLock()
    /// The store URL with secrets masked.
    public let location: String

    /// Opens (creating if needed) the store at `url` and applies pending migrations.
    public static func open(_ url: ConnectionURL) async throws -> SQLMetadataStore {
        try await BlockingIO.run { UncheckedBox(try SQLMetadataStore(url: url)) }.value
    }

    init(url: ConnectionURL) throws {
        do {
            switch url.engine {
            case .sqlite: database = try SQLiteStoreDatabase(path: url.database)
            case .postgres: database = try PostgresStoreDatabase(url: url)
            default:
                throw CutoverError(.usage, "the metadata store cannot live in \(url.engine.rawValue) yet",
                                   hint: "use --store sqlite:.cutover/cutover.db (default) or --store postgres://...")
            }
            location = url.description
            try StoreMigrations.apply(to: database)
        } catch let error as CutoverError where error.code != .usage {
            throw CutoverError(.store, "cannot open the metadata store \(url): \(error.message)", hint: error.hint, context: error.context)
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (any StoreDatabase) throws -> T) async throws -> T {
        let box = UncheckedBox(self)
        return try await BlockingIO.run {
            let store = box.value
            store.lock.lock()
            defer { store.lock.unlock() }
            return try body(store.database)
        }
    }

    public func startRun(_ run: RunRecord) async throws {
        try await self.run { db in
            _ = try db.execute("""
                INSERT INTO runs (id, kind, status, source, target, started_at, artifacts_dir) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [run.id, run.kind, run.status, run.source.map(Redaction.redact), run.target.map(Redaction.redact), run.startedAt, run.artifactsDir])
        }
    }

    public func finishRun(id: String, status: String, summary: String?, error: String?) async throws {
        try await run { db in
            _ = try db.execute("UPDATE runs SET status = ?, finished_at = ?, summary = ?, error = ? WHERE id = ?",
                               [status, ISOTime.now(), summary.map(Redaction.redact), error.map(Redaction.redact), id])
        }
    }

    public func recordTable(_ r: RunTableRecord) async throws {
        try await run { db in
            let values: [String?] = [r.runID, r.table, r.status, r.sourceRows.map(String.init), r.targetRows.map(String.init), r.bytes.map(String.init),
                                     r.startedAt, r.finishedAt, r.message.map(Redaction.redact), r.details.map(Redaction.redact)]
            _ = try db.execute("DELETE FROM run_tables WHERE run_id = ? AND table_name = ?", [r.runID, r.table])
            _ = try db.execute("""
                INSERT INTO run_tables (run_id, table_name, status, source_rows, target_rows, bytes, started_at, finished_at, message, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, values)
        }
    }

    public func log(_ entry: LogEntry) async throws {
        let fields = entry.fields.isEmpty ? nil : String(decoding: try JSONEncoder().encode(entry.fields), as: UTF8.self)
        try await run { db in
            _ = try db.execute("INSERT INTO logs (at, level, run_id, table_name, event, message, fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [entry.at, entry.level, entry.runID, entry.table, entry.event, entry.message, fields])
        }
    }

    private static let runColumns = "id, kind, status, source, target, started_at, finished_at, artifacts_dir, summary, error"

    private static func runRecord(_ row: [String?]) -> RunRecord {
        RunRecord(id: row[0] ?? "", kind: row[1] ?? "", status: row[2] ?? "", source: row[3], target: row[4], startedAt: row[5] ?? "",
                  finishedAt: row[6], artifactsDir: row[7], summary: row[8], error: row[9])
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await run { db in
            try db.execute("SELECT \(Self.runColumns) FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", [String(limit)]).map(Self.runRecord)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await run { db in try db.execute("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [id]).first.map(Self.runRecord) }
    }

    public func tables(runID: String) async throws -> [RunTableRecord] {
        try await run { db in
            try db.execute("""
                SELECT run_id, table_name, status, source_rows, target_rows, bytes, started_at, finished_at, message, details
                FROM run_tables WHERE run_id = ? ORDER BY table_name
                """, [runID]).map { row in
                RunTableRecord(runID: row[0] ?? "", table: row[1] ?? "", status: row[2] ?? "", sourceRows: row[3].flatMap { Int64($0) },
                               targetRows: row[4].flatMap { Int64($0) }, bytes: row[5].flatMap { Int64($0) }, startedAt: row[6],
                               finishedAt: row[7], message: row[8], details: row[9])
            }
        }
    }

    public func logs(runID: String) async throws -> [LogEntry] {
        try await run { db in
            try db.execute("SELECT at, level, run_id, table_name, event, message, fields FROM logs WHERE run_id = ? ORDER BY id", [runID]).map { row in
                let fields = row[6].flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                return LogEntry(at: row[0] ?? "", level: row[1] ?? "", runID: row[2], table: row[3], event: row[4] ?? "", message: row[5] ?? "", fields: fields)
            }
        }
    }

    public func schemaVersion() async throws -> Int {
        try await run { db in Int(try db.execute("SELECT max(version) FROM schema_migrations", []).first?.first.flatMap { $0 } ?? "0") ?? 0 }
    }
}
