import CutoverCore
import CutoverPostgres
import CutoverSnowflake
import CutoverSQLite
import Foundation

/// The few SQL operations the store needs, over SQLite, PostgreSQL or Snowflake. Statements use
/// `?` placeholders; the PostgreSQL backend rewrites them to `$n`. Values come back as text.
/// The store's SQL sticks to what all three share: no ON CONFLICT (insert-if-absent is
/// `INSERT … SELECT … WHERE NOT EXISTS`, replace is delete + insert in one transaction; only
/// ``insertNew(into:columns:key:rows:)``, the bulk path, is written per engine), no cascades
/// (children are deleted first), JSON written through ``json(_:)``.
protocol StoreDatabase: AnyObject {
    var engine: ConnectionURL.Engine { get }
    /// One statement with `?` placeholders and their values; call sites build a ``StoreSQL`` instead.
    func executeBound(_ sql: String, _ parameters: [String?]) throws -> [[String?]]
    func script(_ sql: String) throws
    /// Runs `body` in a transaction that also serializes schema migrations across processes.
    func exclusively<T>(_ body: () throws -> T) throws -> T
    /// Inserts `rows` (values in `columns` order) in their order, except a row whose `key` (one
    /// or more of the columns) is in `table` already or on an earlier row; a row with a NULL in
    /// its key matches nothing. Returns how many went in. Call inside ``exclusively(_:)``; where
    /// the engine has unique indexes, one is on exactly `key` and the rows can break no other.
    func insertNew(into table: String, columns: [String], key: [String], rows: [[String?]]) throws -> Int
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

    /// Any engine: the keys already stored are looked up 500 rows at a time and the new rows go
    /// in by multi-row INSERTs (Snowflake has no unique index for ON CONFLICT to use).
    func insertNew(into table: String, columns: [String], key: [String], rows: [[String?]]) throws -> Int {
        let rowKey = try RowKey(table: table, columns: columns, key: key)
        var added = 0
        var seen: Set<[String]> = []
        for start in stride(from: 0, to: rows.count, by: 500) {
            let slice = rows[start..<min(start + 500, rows.count)]
            let matches: [StoreSQL] = slice.compactMap(rowKey.of).map { values in
                "(\(StoreSQL.joined(zip(key, values).map { "\(raw: $0.0) = \($0.1)" }, separator: " AND ")))"
            }
            if !matches.isEmpty {
                let stored = try execute(
                    "SELECT \(raw: key.joined(separator: ", ")) FROM \(raw: table) WHERE \(StoreSQL.joined(matches, separator: " OR "))")
                for row in stored { seen.insert(row.map { $0 ?? "" }) }
            }
            let tuples: [StoreSQL] = slice.filter { row in rowKey.of(row).map { seen.insert($0).inserted } ?? true }.map { row in
                "(\(StoreSQL.joined(row.map { "\($0)" }, separator: ", ")))"
            }
            guard !tuples.isEmpty else { continue }
            try execute("INSERT INTO \(raw: table) (\(raw: columns.joined(separator: ", "))) VALUES \(StoreSQL.joined(tuples, separator: ", "))")
            added += tuples.count
        }
        return added
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

/// Where a bulk insert's key columns are in its rows. Keys compare as Swift strings, so spellings
/// Unicode calls equivalent would count as one: every key the store bulk-inserts (a log line's
/// stored time and content hash) is ASCII.
struct RowKey {
    let positions: [Int]

    init(table: String, columns: [String], key: [String]) throws {
        positions = key.compactMap { columns.firstIndex(of: $0) }
        guard positions.count == key.count, !key.isEmpty else {
            throw CutoverError(.store, "the key \(key) of \(table) is not among the columns written (\(columns))")
        }
    }

    /// The row's key; nil when part of it is NULL (such a row is never a duplicate).
    func of(_ row: [String?]) -> [String]? {
        let values = positions.compactMap { row[$0] }
        return values.count == positions.count ? values : nil
    }
}

final class SQLiteStoreDatabase: StoreDatabase {
    let session: SQLiteSession
    var engine: ConnectionURL.Engine { .sqlite }

    init(path: String) throws {
        session = try SQLiteSession(path: path, create: true)
        // WAL lets readers (the server, `runs list`) work while a migration writes.
        // A 64 MB page cache (default 2 MB): a log import touches the table and two indexes per line.
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

    /// One prepared single-row INSERT stepped per row; the unique index skips known keys.
    func insertNew(into table: String, columns: [String], key: [String], rows: [[String?]]) throws -> Int {
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let statement = try session.prepare(
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) ON CONFLICT DO NOTHING")
        let before = session.totalChanges
        for row in rows {
            defer { statement.reset() }
            for (index, value) in row.enumerated() { try statement.bind(value.map(Value.text) ?? .null, at: index + 1) }
            _ = try statement.step()
        }
        return Int(session.totalChanges - before)
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

    /// The batch's first row of each key is kept (in Swift); its keys are COPYed into a temporary
    /// table to find those already stored; the rest are COPYed straight into `table`, in their
    /// order. COPY writes rows in bulk where INSERT … SELECT writes them one by one. Safe because
    /// writers hold the store's lock (``exclusively(_:)``).
    func insertNew(into table: String, columns: [String], key: [String], rows: [[String?]]) throws -> Int {
        let rowKey = try RowKey(table: table, columns: columns, key: key)
        var keys = Set<[String]>(minimumCapacity: rows.count)
        var fresh = rows.filter { row in rowKey.of(row).map { keys.insert($0).inserted } ?? true }
        if !keys.isEmpty {
            let known = try storedKeys(keys, of: table, key: key)
            if !known.isEmpty { fresh.removeAll { row in rowKey.of(row).map(known.contains) ?? false } }
        }
        guard !fresh.isEmpty else { return 0 }
        return Int(try session.copyIn("COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN", rows: fresh))
    }

    /// Which of `keys` `table` holds. When no stored row's first key column lies between the
    /// smallest and largest of the batch's (PostgreSQL compares, in its collation), none can: a
    /// log export of new days costs one index range check. Otherwise each key is looked up in the
    /// index: LATERAL … LIMIT 1 keeps the planner from hashing the whole table instead, and no
    /// JIT is compiled for a few thousand index probes.
    private func storedKeys(_ keys: Set<[String]>, of table: String, key: [String]) throws -> Set<[String]> {
        let keyList = key.joined(separator: ", ")
        let first = key[0]
        _ = try session.execute("CREATE TEMPORARY TABLE cutover_keys ON COMMIT DROP AS SELECT \(keyList) FROM \(table) WITH NO DATA")
        _ = try session.copyIn("COPY cutover_keys (\(keyList)) FROM STDIN", rows: keys.map { $0.map(Optional.some) })
        let keyed = key.map { "\($0) IS NOT NULL" }.joined(separator: " AND ")  // Cutover's own lines in the range do not count
        let overlaps = try session.execute(
            """
            SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(keyed)
                AND \(first) BETWEEN (SELECT min(\(first)) FROM cutover_keys) AND (SELECT max(\(first)) FROM cutover_keys))
            """)
        var found: Set<[String]> = []
        if overlaps.firstValue == "t" {
            found = try probe(table: table, key: key)
        }
        _ = try session.execute("DROP TABLE cutover_keys")  // another batch may come in this transaction
        return found
    }

    private func probe(table: String, key: [String]) throws -> Set<[String]> {
        let sameKey = key.map { "stored.\($0) = incoming.\($0)" }.joined(separator: " AND ")
        _ = try session.execute("SET LOCAL jit = off")
        let stored = try session.execute(
            """
            SELECT \(key.map { "incoming.\($0)" }.joined(separator: ", ")) FROM cutover_keys incoming
            CROSS JOIN LATERAL (SELECT 1 FROM \(table) stored WHERE \(sameKey) LIMIT 1) found
            """)
        return Set(stored.rows.map { $0.map { $0 ?? "" } })
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
