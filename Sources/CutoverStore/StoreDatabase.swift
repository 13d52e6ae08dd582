import CutoverCore
import CutoverPostgres
import CutoverSnowflake
import CutoverSQLite
import Foundation

/// The few SQL operations the store needs, over SQLite, PostgreSQL or Snowflake. Statements use
/// `?` placeholders; the PostgreSQL backend rewrites them to `$n`. Values come back as text.
/// The store's SQL sticks to what all three share: no ON CONFLICT (insert-if-absent is
/// `INSERT … SELECT … WHERE NOT EXISTS`, replace is delete + insert in one transaction), no
/// cascades (children are deleted first), JSON written through ``json(_:)``.
protocol StoreDatabase: AnyObject {
    var engine: ConnectionURL.Engine { get }
    /// One statement with `?` placeholders and their values; call sites build a ``StoreSQL`` instead.
    func executeBound(_ sql: String, _ parameters: [String?]) throws -> [[String?]]
    func script(_ sql: String) throws
    /// Runs `body` in a transaction that also serializes schema migrations across processes.
    func exclusively<T>(_ body: () throws -> T) throws -> T
}

extension StoreDatabase {
    /// The expression that stores a JSON text parameter in a `{{json}}` column.
    func json(_ placeholder: String = "?") -> String {
        switch engine {
        case .postgres: return "CAST(\(placeholder) AS JSONB)"
        case .snowflake: return "PARSE_JSON(\(placeholder))"
        default: return placeholder
        }
    }

    /// `body` between `begin` and COMMIT, rolled back when it throws; `run` sends one statement.
    func transaction<T>(begin: String, run: (String) throws -> Void, _ body: () throws -> T) throws -> T {
        try run(begin)
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            try? run("ROLLBACK")  // the error that got us here is the one thrown
            throw error
        }
    }
}

final class SQLiteStoreDatabase: StoreDatabase {
    let session: SQLiteSession
    var engine: ConnectionURL.Engine { .sqlite }

    init(path: String) throws {
        session = try SQLiteSession(path: path, create: true)
        // WAL lets readers (the server, `runs list`) work while a migration writes.
        // A 64 MB page cache (default 2 MB): a log import touches four indexes per line.
        try session.executeScript("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536")
    }

    /// Prepared statements by their text: the store sends the same few statements over and over
    /// (ledger updates per chunk, log batches). Bounded; cleared when full.
    private var prepared: [String: SQLiteStatement] = [:]

    func executeBound(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        let statement: SQLiteStatement
        if let cached = prepared[sql] {
            statement = cached
        } else {
            statement = try session.prepare(sql)
            if prepared.count >= 128 { prepared.removeAll() }
            prepared[sql] = statement
        }
        defer { statement.reset() }
        try statement.bind(parameters.map { $0.map(Value.text) ?? .null })
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append(
                (0..<statement.columnCount).map { column in
                    let value = statement.value(at: column)
                    return value.isNull ? nil : value.displayText
                })
        }
        return rows
    }

    /// Cached statements are dropped first: DDL in a script can change what they refer to.
    func script(_ sql: String) throws {
        prepared.removeAll()
        try session.executeScript(sql)
    }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN IMMEDIATE", run: session.executeScript, body)
    }
}

final class PostgresStoreDatabase: StoreDatabase {
    let session: PostgresSession
    var engine: ConnectionURL.Engine { .postgres }

    init(url: ConnectionURL) throws {
        session = try PostgresSession(url: url)
    }

    func executeBound(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        try session.query(Self.numberPlaceholders(sql), parameters).rows
    }

    func script(_ sql: String) throws { try session.execute(sql) }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN; SELECT pg_advisory_xact_lock(7243010001)", run: { _ = try session.execute($0) }, body)
    }

    /// `?` → `$1, $2, …` outside string literals.
    static func numberPlaceholders(_ sql: String) -> String {
        var output = ""
        var n = 0
        var inString = false
        for ch in sql {
            if ch == "'" { inString.toggle() }
            if ch == "?", !inString {
                n += 1
                output += "$\(n)"
            } else {
                output.append(ch)
            }
        }
        return output
    }
}

/// The store in a Snowflake schema (`--store snowflake://…/DB/SCHEMA`). Snowflake enforces no
/// keys and has no indexes or row locks: the store's SQL already avoids relying on them, and
/// chunk claims check that the claiming UPDATE won (see `SQLMetadataStore.claimChunk`).
final class SnowflakeStoreDatabase: StoreDatabase {
    let session: SnowflakeStatementSession
    var engine: ConnectionURL.Engine { .snowflake }

    init(url: ConnectionURL) throws {
        session = try SnowflakeStatementSession(url: url)
    }

    func executeBound(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        try session.query(Self.translate(sql), parameters)
    }

    /// One request per statement: Snowflake runs a single statement per query unless told otherwise.
    func script(_ sql: String) throws {
        for statement in sql.split(separator: ";") {
            let text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { _ = try session.query(Self.translate(text)) }
        }
    }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN", run: { _ = try session.query($0) }, body)
    }

    /// Snowflake reserves `ROWS` and reads `AT` as time travel: the store's `rows` and `at`
    /// columns are quoted there (upper case, as Snowflake stores unquoted names).
    static func translate(_ sql: String) -> String {
        sql.replacingOccurrences(of: #"\brows\b"#, with: #""ROWS""#, options: .regularExpression)
            .replacingOccurrences(of: #"\bat\b"#, with: #""AT""#, options: .regularExpression)
    }
}
