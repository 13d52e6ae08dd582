import CutoverCore
import CutoverStore
import Foundation

/// What a database's workload says matters: which tables its statements read and write, by
/// executions and time, which column pairs they join on, and which columns they filter, group
/// and aggregate by — read from the statistics users already export:
///
/// - SQL Server Query Store (`sys.query_store_query_text` joined with `sys.query_store_runtime_stats`)
///   as CSV or JSON: `query_sql_text`, `count_executions`, `avg_duration` (µs) or `total_duration`,
///   `last_execution_time`;
/// - PostgreSQL `pg_stat_statements` as CSV: `query`, `calls`, `total_exec_time` (or `total_time`, ms);
/// - Snowflake `QUERY_HISTORY` as CSV: `QUERY_TEXT`, `TOTAL_ELAPSED_TIME` (ms), one row per execution.
public struct WorkloadSummary: Codable, Sendable {
    /// How much of the workload uses one table.
    public struct TableWeight: Codable, Sendable {
        public var table: String
        public var statements: Int
        public var executions: Int64
        public var milliseconds: Double
        /// Share of the workload's time spent in statements that use the table, in percent.
        public var timeShare: Double
    }

    /// A column pair statements join on, and how often.
    public struct JoinWeight: Codable, Sendable {
        public var left: String
        public var right: String
        public var statements: Int
        public var executions: Int64
    }

    /// How often statements filter, group, join or aggregate by one column.
    public struct ColumnUse: Codable, Sendable {
        public var column: String
        /// Executions of statements that filter, group, join or aggregate by it.
        public var filtered: Int64 = 0
        public var grouped: Int64 = 0
        public var joined: Int64 = 0
        public var aggregated: Int64 = 0
        var total: Int64 { filtered + grouped + joined + aggregated }
    }

    public var sources: [String]
    public var formats: [String]
    public var statements: Int
    /// Rows with no statement text, or text with no table Cutover recognized.
    public var withoutTables: Int
    public var executions: Int64
    public var milliseconds: Double
    public var tables: [TableWeight]
    public var joins: [JoinWeight]
    public var columns: [ColumnUse]
    public var tempTables: [String]
    /// Statements by their kind (SELECT, INSERT, …).
    public var kinds: [String: Int]
}

extension WorkloadSummary {
    /// The workload's weight of a catalog table: by `schema.table`, else by its name alone
    /// (statements often leave the schema out).
    public func weight(of table: TableRef) -> TableWeight? {
        tables.first { Self.names($0.table, table, exactly: true) } ?? tables.first { Self.names($0.table, table, exactly: false) }
    }

    /// Whether a table name as statements wrote it (lower-cased, schema or not) is `table`:
    /// exactly `schema.table`, or — the weaker reading, tried second — by its last part.
    static func names(_ name: String, _ table: TableRef, exactly: Bool) -> Bool {
        exactly ? name == table.description.lowercased() : name.split(separator: ".").last.map(String.init) == table.name.lowercased()
    }
}

/// Reads workload exports and adds their statements up, streaming: memory grows with the number
/// of distinct tables and columns, not with the file.
public struct WorkloadReader: Sendable {
    struct Tally: Sendable {
        var statements = 0
        var executions: Int64 = 0
        var milliseconds = 0.0
    }

    var sources: [String] = []
    var formats: [String] = []
    var statements = 0
    var withoutTables = 0
    var executions: Int64 = 0
    var milliseconds = 0.0
    var tables: [String: Tally] = [:]
    var joins: [StatementUse.JoinPair: Tally] = [:]
    var columns: [String: WorkloadSummary.ColumnUse] = [:]
    var tempTables: Set<String> = []
    var kinds: [String: Int] = [:]

    public init() {}

    /// One statement with how often it ran and how long it took in all.
    public mutating func add(sql: String, executions count: Int64, milliseconds time: Double) {
        statements += 1
        executions += count
        milliseconds += time
        let use = StatementReader.read(sql)
        kinds[use.kind.isEmpty ? "OTHER" : use.kind, default: 0] += 1
        tempTables.formUnion(use.tempTables)
        if use.tables.isEmpty { withoutTables += 1 }
        for table in use.tables {
            tables[table, default: Tally()].statements += 1
            tables[table, default: Tally()].executions += count
            tables[table, default: Tally()].milliseconds += time
        }
        for pair in use.joins {
            joins[pair, default: Tally()].statements += 1
            joins[pair, default: Tally()].executions += count
            for column in [pair.left, pair.right] { columns[column, default: .init(column: column)].joined += count }
        }
        for column in use.filtered { columns[column, default: .init(column: column)].filtered += count }
        for column in use.grouped { columns[column, default: .init(column: column)].grouped += count }
        for column in use.aggregated { columns[column, default: .init(column: column)].aggregated += count }
    }

    /// Reads a CSV or JSON export, recognizing its format by its column names.
    public mutating func read(path: String) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CutoverError(.io, "cannot read the workload file \(path)", hint: "check the path")
        }
        defer { try? handle.close() }  // read-only: closing cannot lose data
        sources.append(path)
        let head = try handle.read(upToCount: 4096) ?? Data()
        let first = String(decoding: head, as: UTF8.self).drop { $0.isWhitespace }.first
        if first == "[" || first == "{" {
            try handle.seek(toOffset: 0)
            try readJSON(Data(try handle.readToEnd() ?? Data()), path: path)
        } else {
            try await readCSV(path: path)
        }
    }

    /// How a format's columns map to statement, executions and time.
    struct Layout {
        var format: String
        var text: String
        var executions: String?
        /// Total milliseconds, or an average to multiply by executions, in `unit` milliseconds.
        var total: String?
        var average: String?
        var unit: Double

        static func detect(_ names: [String]) -> Layout? {
            let has = Set(names.map { $0.lowercased() })
            if has.contains("query_sql_text") {
                return Layout(
                    format: "SQL Server Query Store", text: "query_sql_text", executions: "count_executions",
                    total: has.contains("total_duration") ? "total_duration" : nil, average: has.contains("avg_duration") ? "avg_duration" : nil,
                    unit: 0.001)
            }
            if has.contains("query"), has.contains("calls") {
                return Layout(
                    format: "PostgreSQL pg_stat_statements", text: "query", executions: "calls",
                    total: has.contains("total_exec_time") ? "total_exec_time" : has.contains("total_time") ? "total_time" : nil, average: nil,
                    unit: 1)
            }
            if has.contains("query_text") {
                return Layout(
                    format: "Snowflake QUERY_HISTORY", text: "query_text", executions: nil,
                    total: has.contains("total_elapsed_time") ? "total_elapsed_time" : nil, average: nil, unit: 1)
            }
            return nil
        }

        func statement(_ value: (String) -> String?) -> (sql: String, executions: Int64, milliseconds: Double)? {
            guard let sql = value(text), !sql.isEmpty else { return nil }
            let count = executions.flatMap(value).flatMap { Int64($0) ?? Double($0).map { Int64($0) } } ?? 1
            let time: Double
            if let total, let number = value(total).flatMap(Double.init) {
                time = number * unit
            } else if let average, let number = value(average).flatMap(Double.init) {
                time = number * Double(count) * unit
            } else {
                time = 0
            }
            return (sql, count, time)
        }
    }

    static func unknown(_ path: String, _ names: [String]) -> CutoverError {
        CutoverError(
            .usage, "\(path) is not a workload export Cutover knows (columns: \(names.prefix(12).joined(separator: ", ")))",
            hint:
                "export Query Store (query_sql_text, count_executions, avg_duration), pg_stat_statements (query, calls, total_exec_time) or QUERY_HISTORY (QUERY_TEXT, TOTAL_ELAPSED_TIME)"
        )
    }

    mutating func readCSV(path: String) async throws {
        var parser = CSVRecordParser()
        var layout: Layout?
        var index: [String: Int] = [:]
        try await LineReader.forEachLine(path) { line, _ in
            guard let record = parser.feed(line) else { return }  // a quoted field goes on on the next line
            guard let layout else {
                guard let found = Layout.detect(record) else { throw Self.unknown(path, record) }
                layout = found
                index = Dictionary(record.enumerated().map { ($0.element.lowercased(), $0.offset) }) { first, _ in first }
                formats.append(found.format)
                return
            }
            if record.count == 1, record[0].isEmpty { return }
            if let statement = layout.statement({ index[$0].flatMap { $0 < record.count ? record[$0] : nil } }) {
                add(sql: statement.sql, executions: statement.executions, milliseconds: statement.milliseconds)
            } else {
                withoutTables += 1
            }
        }
        if layout == nil { throw CutoverError(.usage, "\(path) is empty", hint: "export the workload with a header row") }
    }

    mutating func readJSON(_ data: Data, path: String) throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CutoverError(.usage, "\(path) is not valid JSON: \(error.localizedDescription)", hint: "export the rows as a JSON array of objects")
        }
        let rows = (parsed as? [[String: Any]]) ?? ((parsed as? [String: Any]).flatMap { $0["rows"] ?? $0["data"] } as? [[String: Any]]) ?? []
        guard let firstRow = rows.first else { throw CutoverError(.usage, "\(path) has no rows", hint: "export the rows as a JSON array of objects") }
        guard let layout = Layout.detect(Array(firstRow.keys)) else { throw Self.unknown(path, firstRow.keys.sorted()) }
        formats.append(layout.format)
        for row in rows {
            let lowered = Dictionary(row.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
            let statement = layout.statement { key in
                switch lowered[key] {
                case let text as String: text
                case let number as NSNumber: number.stringValue
                default: nil
                }
            }
            if let statement {
                add(sql: statement.sql, executions: statement.executions, milliseconds: statement.milliseconds)
            } else {
                withoutTables += 1
            }
        }
    }

    /// A database's own statistics, read live: PostgreSQL's `pg_stat_statements` (the extension
    /// must be installed in that database and loaded by the server).
    public mutating func read(live connector: any Connector) async throws {
        guard connector.url.engine == .postgres else {
            throw CutoverError(
                .usage, "live workload reading is for PostgreSQL (pg_stat_statements); \(connector.url.engine.rawValue) is not yet",
                hint: "export the workload to a file and import that")
        }
        let answer: RunnerAnswer
        do {
            answer = try await connector.run(
                RunnerQuery(
                    // The view holds every database of the server: only the one the URL names is its workload.
                    sql:
                        "SELECT query, calls, total_exec_time FROM pg_stat_statements "
                        + "WHERE query IS NOT NULL AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    maxRows: 100_000, timeout: 300, refusePrivilegedRole: false, reportRole: false))
        } catch let error as CutoverError {
            throw CutoverError(
                .query, "cannot read pg_stat_statements on \(connector.url): \(error.message)",
                hint: "CREATE EXTENSION pg_stat_statements in that database, with shared_preload_libraries = 'pg_stat_statements' on the server")
        }
        sources.append(connector.url.description)
        formats.append("PostgreSQL pg_stat_statements (live)")
        for row in answer.rows where row.count == 3 {
            let sql = row[0].displayText
            let calls = Int64(row[1].displayText) ?? 1
            add(sql: sql, executions: calls, milliseconds: Double(row[2].displayText) ?? 0)
        }
    }

    public var summary: WorkloadSummary {
        let total = max(milliseconds, .leastNonzeroMagnitude)
        return WorkloadSummary(
            sources: sources, formats: formats, statements: statements, withoutTables: withoutTables, executions: executions,
            milliseconds: milliseconds,
            tables: tables.map {
                .init(
                    table: $0.key, statements: $0.value.statements, executions: $0.value.executions, milliseconds: $0.value.milliseconds,
                    timeShare: milliseconds > 0 ? $0.value.milliseconds * 100 / total : 0)
            }
            .sorted { ($0.milliseconds, $0.executions, $1.table) > ($1.milliseconds, $1.executions, $0.table) },
            joins: joins.map { .init(left: $0.key.left, right: $0.key.right, statements: $0.value.statements, executions: $0.value.executions) }
                .sorted { ($0.executions, $1.left, $1.right) > ($1.executions, $0.left, $0.right) },
            columns: columns.values.sorted { ($0.total, $1.column) > ($1.total, $0.column) },
            tempTables: tempTables.sorted(), kinds: kinds)
    }
}

extension WorkloadSummary {
    /// The summary of the newest successful `cutover workload import`, from its run's artifact.
    public static func latest(in store: any MetadataStore) async throws -> (summary: WorkloadSummary, runID: String)? {
        try await store.latestArtifact("workload.json", as: WorkloadSummary.self) { $0.kind == "workload" && $0.status == .succeeded }
            .map { ($0.value, $0.runID) }
    }
}

extension Jobs {
    /// Reads workload exports into a summary, kept as the run's `workload.json` in the store.
    public func importWorkload(paths: [String], live: [ConnectionURL] = []) async throws -> (summary: WorkloadSummary, runID: String) {
        let recorder = try await newRecorder(kind: "workload", source: live.first, target: nil, echo: say)
        do {
            var reader = WorkloadReader()
            for path in paths { try await reader.read(path: path) }
            for url in live { try await reader.read(live: try await connect(url, role: .source)) }
            let summary = reader.summary
            _ = try recorder.writeJSONArtifact("workload.json", summary)
            try await store.saveWorkload(
                runID: recorder.runID,
                WorkloadRows(
                    tables: summary.tables.map { ($0.table, $0.statements, $0.executions, $0.milliseconds, $0.timeShare) },
                    joins: summary.joins.map { ($0.left, $0.right, $0.statements, $0.executions) },
                    columns: summary.columns.map { ($0.column, $0.filtered, $0.grouped, $0.joined, $0.aggregated) }))
            try await recorder.finish(
                status: .succeeded, summary: "\(summary.statements) statements, \(summary.tables.count) tables, \(summary.joins.count) join pairs")
            return (summary, recorder.runID)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }
}

/// Checks where the workload looks: the keys its statements join on, the columns they group by,
/// the dates they filter on — for `pipeline suggest --workload`.
public enum WorkloadSuggestions {
    /// One step the workload motivates, with the reason shown above it.
    public struct Suggestion: Sendable {
        public var step: StepSpec
        public var reason: String
    }

    /// Steps for `catalog`'s tables the workload uses, beyond `existing` ones.
    public static func steps(_ summary: WorkloadSummary, catalog: Catalog, existing: [StepSpec], limit: Int = 20) -> [Suggestion] {
        func table(_ name: String) -> Table? {
            catalog.tables.first { WorkloadSummary.names(name, $0.ref, exactly: true) }
                ?? catalog.tables.first { WorkloadSummary.names(name, $0.ref, exactly: false) }
        }
        /// `schema.table.column` → the table and the column as the catalog spells it.
        func column(_ qualified: String) -> (Table, Column)? {
            guard let dot = qualified.lastIndex(of: ".") else { return nil }
            guard let owner = table(String(qualified[..<dot])) else { return nil }
            let name = String(qualified[qualified.index(after: dot)...])
            guard let found = owner.columns.first(where: { $0.name.lowercased() == name }) else { return nil }
            return (owner, found)
        }
        var seen = Set(
            existing.map { "\($0.check)|\($0.table.lowercased())|\(($0.column ?? $0.columns?.joined(separator: ",") ?? "").lowercased())" })
        var out: [Suggestion] = []
        func add(_ step: StepSpec, _ reason: String) {
            let key = "\(step.check)|\(step.table.lowercased())|\((step.column ?? step.columns?.joined(separator: ",") ?? "").lowercased())"
            guard seen.insert(key).inserted else { return }
            out.append(Suggestion(step: step, reason: reason))
        }
        for join in summary.joins.prefix(limit) {
            guard let left = column(join.left), let right = column(join.right), left.0.ref != right.0.ref else { continue }
            // The side whose column is its table's whole primary key is the parent.
            for (child, parent) in [(left, right), (right, left)] where parent.0.primaryKey?.columns == [parent.1.name] {
                var step = StepSpec(check: "fk_orphans", table: child.0.ref.description)
                step.column = child.1.name
                step.parentTable = parent.0.ref.description
                step.parentColumn = parent.1.name
                step.severity = child.0.foreignKeys.contains { $0.columns == [child.1.name] } ? nil : "warn"
                add(step, "\(Format.count(join.executions)) execution(s) join \(child.0.ref).\(child.1.name) to \(parent.0.ref).\(parent.1.name)")
            }
        }
        for use in summary.columns.prefix(limit * 2) {
            guard let (owner, found) = column(use.column) else { continue }
            if use.grouped > 0 {
                var step = StepSpec(check: "group_metrics", table: owner.ref.description)
                step.columns = [found.name]
                let measure = summary.columns.first { $0.aggregated > 0 && column($0.column)?.0.ref == owner.ref }.flatMap { column($0.column)?.1 }
                step.measure = measure?.name
                step.aggregate = measure == nil ? "count" : "sum"
                add(step, "\(Format.count(use.grouped)) execution(s) group by \(owner.ref).\(found.name)")
            }
            if use.filtered > 0, found.canonical == .date || { if case .timestamp = found.canonical { true } else { false } }() {
                var step = StepSpec(check: "date_gaps", table: owner.ref.description)
                step.column = found.name
                step.severity = "warn"
                add(step, "\(Format.count(use.filtered)) execution(s) filter on the date \(owner.ref).\(found.name)")
            }
        }
        return out
    }

    /// The suggestions as lines to append to a suggested pipeline: a comment with the reason, then
    /// the step on one line.
    public static func yaml(_ suggestions: [Suggestion]) throws -> String {
        guard !suggestions.isEmpty else { return "" }
        var out = "  # Where the workload looks (cutover workload import):\n"
        for suggestion in suggestions { out += "  # \(suggestion.reason)\n  - \(try suggestion.step.flowYAML())\n" }
        return out
    }
}
