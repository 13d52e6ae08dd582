import CutoverCore

/// One chunk's load on its own session: `BEGIN`, delete the rows being replaced, `COPY` (into a
/// staging table for upserts, then `INSERT … ON CONFLICT`), `COMMIT`. Either every row of the
/// chunk lands or none does, so a crash or a rerun never leaves partial or duplicate rows.
final class LoadTransaction {
    enum Format { case text, binary }

    let session: PostgresSession
    let table: TableRef
    let columns: [Column]
    let options: WriteOptions
    let format: Format
    private let dialect = PostgresDialect()
    private var staging: String?

    init(url: ConnectionURL, table: TableRef, columns: [Column], options: WriteOptions, format: Format) throws {
        session = try PostgresSession(url: url)
        self.table = table
        self.columns = columns
        self.options = options
        self.format = format
    }

    private var columnList: String { columns.map { dialect.quote($0.name) }.joined(separator: ", ") }

    func begin() throws {
        // The load session may lose its last commit in a server crash; the ledger only marks a
        // chunk done after COMMIT returns, so such a chunk is loaded again.
        try session.execute("SET synchronous_commit = off; BEGIN")
        if let replacing = options.replacing {
            try session.execute("DELETE FROM \(dialect.qualified(table))" + (replacing.isEmpty ? "" : " WHERE " + replacing.sql(dialect)))
        }
        var into = dialect.qualified(table)
        if case .upsert = options.mode {
            let name = "cutover_stage_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try session.execute("CREATE TEMP TABLE \(name) (LIKE \(dialect.qualified(table)) INCLUDING DEFAULTS) ON COMMIT DROP")
            staging = name
            into = name
        }
        try session.beginCopyIn("COPY \(into) (\(columnList)) FROM STDIN" + (format == .binary ? " (FORMAT binary)" : ""))
    }

    /// Ends the COPY, applies a staged upsert and commits; returns the rows written.
    func commit() throws -> Int64 {
        var rows = try session.endCopyIn()
        if case .upsert(let key) = options.mode, let staging {
            let keyList = key.map { dialect.quote($0) }.joined(separator: ", ")
            let updates = columns.filter { !key.contains($0.name) }.map { "\(dialect.quote($0.name)) = EXCLUDED.\(dialect.quote($0.name))" }
            let action = updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + updates.joined(separator: ", ")
            rows = try session.execute(
                """
                INSERT INTO \(dialect.qualified(table)) (\(columnList)) OVERRIDING SYSTEM VALUE
                SELECT \(columnList) FROM \(staging) ON CONFLICT (\(keyList)) \(action)
                """
            ).affectedRows
        }
        try session.execute("COMMIT")
        return rows
    }

    func rollback() {
        _ = try? session.endCopyIn(abortMessage: "cutover: load abandoned")  // abandoning after an error: the session is closed next
        _ = try? session.execute("ROLLBACK")  // abandoning after an error: the session is closed next
    }
}
