import CutoverCore
import CutoverPostgres
import CutoverSQLite

/// The few SQL operations the store needs, over SQLite or PostgreSQL. Statements use `?`
/// placeholders; the PostgreSQL backend rewrites them to `$n`. Values come back as text.
protocol StoreDatabase: AnyObject {
    var engine: ConnectionURL.Engine { get }
    func execute(_ sql: String, _ parameters: [String?]) throws -> [[String?]]
    func script(_ sql: String) throws
    /// Runs `body` in a transaction that also serializes schema migrations across processes.
    func exclusively<T>(_ body: () throws -> T) throws -> T
}

final class SQLiteStoreDatabase: StoreDatabase {
    let session: SQLiteSession
    var engine: ConnectionURL.Engine { .sqlite }

    init(path: String) throws {
        session = try SQLiteSession(path: path, create: true)
        // WAL lets readers (the server, `runs list`) work while a migration writes.
        try session.executeScript("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
    }

    func execute(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        try session.execute(sql, parameters.map { $0.map(Value.text) ?? .null }).rows.map { row in
            row.map { $0.isNull ? nil : $0.displayText }
        }
    }

    func script(_ sql: String) throws { try session.executeScript(sql) }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try session.executeScript("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try session.executeScript("COMMIT")
            return result
        } catch {
            try? session.executeScript("ROLLBACK")
            throw error
        }
    }
}

final class PostgresStoreDatabase: StoreDatabase {
    let session: PostgresSession
    var engine: ConnectionURL.Engine { .postgres }

    init(url: ConnectionURL) throws {
        session = try PostgresSession(url: url)
    }

    func execute(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        try session.query(Self.numberPlaceholders(sql), parameters).rows
    }

    func script(_ sql: String) throws { try session.execute(sql) }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try session.execute("BEGIN; SELECT pg_advisory_xact_lock(7243010001)")
        do {
            let result = try body()
            try session.execute("COMMIT")
            return result
        } catch {
            _ = try? session.execute("ROLLBACK")
            throw error
        }
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
