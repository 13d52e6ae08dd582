import CutoverCore
import CutoverStore
import Foundation

/// Why a check failed or a figure is what it is: the columns and rows that drove it, and SQL that
/// shows them.
public struct Explanation: Codable, Sendable {
    /// A column (or a part of a figure) and how much it contributed.
    public struct Driver: Codable, Sendable, Hashable {
        public var name: String
        public var count: Int64?
        public var note: String?
    }
    /// A statement that shows the driving rows, and where to run it.
    public struct Query: Codable, Sendable, Hashable {
        public var on: String
        public var sql: String
        public var parameters: [String?]?
    }

    public var subject: String
    public var status: String
    public var message: String?
    public var drivers: [Driver]
    /// Sampled rows: a key and what differs.
    public var rows: [String]
    public var queries: [Query]
    /// What the stored result does not say (e.g. checks that keep no samples).
    public var notes: [String]
}

/// Explanations of stored validation results and of the pass-rate figure.
public enum Explainer {
    /// Each result of `validationRunID` that did not pass (or the ones of `table`/`check`, passed or not).
    public static func explain(validationRunID: String, table: String?, check: String?, store: any MetadataStore) async throws -> [Explanation] {
        guard try await store.validationRun(id: validationRunID) != nil else {
            throw CutoverError(.usage, "no validation run \(validationRunID)", hint: "`cutover runs list` or GET /api/v1/validations lists them")
        }
        let results = try await store.validationResults(runID: validationRunID).filter { result in
            if table == nil, check == nil { return result.status != "passed" }
            let tableMatches = table.map { t in result.table == t || result.table?.split(separator: ".").last.map(String.init) == t } ?? true
            return tableMatches && (check.map { result.check == $0 } ?? true)
        }
        return results.map(explain)
    }

    public static func explain(_ result: ValidationResultRecord) -> Explanation {
        var explanation = Explanation(
            subject: "\(result.check)" + (result.table.map { " on \($0)" } ?? ""), status: result.status, message: result.message, drivers: [],
            rows: [], queries: [], notes: [])
        let data = Data((result.details ?? "{}").utf8)
        if result.check == "row_diff", let comparison = try? JSONDecoder().decode(TableComparison.self, from: data) {
            // `cutover validate` keeps the whole comparison.
            explain(comparison, into: &explanation)
        } else if let details = try? JSONDecoder().decode([String: String].self, from: data) {
            explain(details, of: result, into: &explanation)
        } else {
            explanation.notes.append("the stored result has no details to explain it by")
        }
        if explanation.drivers.isEmpty {
            explanation.drivers = result.affectedColumns.map { Explanation.Driver(name: $0, count: nil, note: "the column the check is about") }
        }
        if explanation.queries.isEmpty, let table = result.table {
            explanation.queries = columnQueries(check: result.check, table: table, columns: result.affectedColumns)
        }
        return explanation
    }

    static func explain(_ comparison: TableComparison, into explanation: inout Explanation) {
        explanation.drivers =
            comparison.changedColumns.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map {
                Explanation.Driver(name: $0.key, count: $0.value, note: "rows whose value differs")
            }
            + [("missing at the target", comparison.missing), ("extra at the target", comparison.extra)].filter { $0.1 > 0 }.map {
                Explanation.Driver(name: $0.0, count: $0.1, note: "rows")
            }
        explanation.rows = comparison.findings
        for row in comparison.changedRows.prefix(5) {
            if let sql = row.sourceSQL { explanation.queries.append(.init(on: "source", sql: sql)) }
            if let sql = row.targetSQL { explanation.queries.append(.init(on: "target", sql: sql)) }
        }
    }

    static func explain(_ details: [String: String], of result: ValidationResultRecord, into explanation: inout Explanation) {
        let lines = { (key: String) in details[key].map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? [] }
        if result.check == "row_diff" {
            explanation.drivers = lines("changed_columns").compactMap { line in
                guard let equals = line.lastIndex(of: "=") else { return nil }
                return Explanation.Driver(
                    name: String(line[..<equals]), count: Int64(line[line.index(after: equals)...]), note: "rows whose value differs")
            }
            for (name, key) in [("missing at the target", "missing_rows"), ("extra at the target", "extra_rows")] {
                if let count = details[key].flatMap({ Int64($0) }), count > 0 {
                    explanation.drivers.append(.init(name: name, count: count, note: "rows"))
                }
            }
            explanation.rows =
                lines("changed").map { "changed \($0)" } + lines("missing").map { "missing at the target: \($0)" }
                + lines("extra").map { "extra at the target: \($0)" }
            for (source, target) in zip(lines("source_sql"), lines("target_sql")).prefix(5) {
                if !source.isEmpty { explanation.queries.append(.init(on: "source", sql: source)) }
                if !target.isEmpty { explanation.queries.append(.init(on: "target", sql: target)) }
            }
            if details["changed"] != nil, details["source_sql"] == nil {
                explanation.notes.append("this result was stored before row SQL was kept: the keys above find the rows")
            }
        } else {
            explanation.drivers = details.sorted { $0.key < $1.key }.map { Explanation.Driver(name: $0.key, count: nil, note: $0.value) }
        }
    }

    /// SQL that shows the rows a column check is about (ANSI quoting; Snowflake folds unquoted names to upper case).
    static func columnQueries(check: String, table: String, columns: [String]) -> [Explanation.Query] {
        let quotedTable = table.split(separator: ".").map { "\"\($0)\"" }.joined(separator: ".")
        return columns.compactMap { column in
            let quoted = "\"\(column)\""
            switch check {
            case "null_rate", "nullability", "completeness":
                return .init(on: "target", sql: "SELECT * FROM \(quotedTable) WHERE \(quoted) IS NULL")
            case "uniqueness", "unique_keys":
                return .init(
                    on: "target", sql: "SELECT \(quoted), COUNT(*) FROM \(quotedTable) GROUP BY \(quoted) HAVING COUNT(*) > 1 ORDER BY 2 DESC")
            default: return nil
            }
        } + (check == "row_count" ? [.init(on: "source and target", sql: "SELECT COUNT(*) FROM \(quotedTable)")] : [])
    }

    // MARK: The pass-rate figure

    static let failingByTableAndCheck = StoreRead(
        """
        SELECT table_name, check_name, COUNT(*), CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) FROM validation_results
        WHERE at >= ? AND at < ? AND (CAST(? AS VARCHAR(400)) IS NULL OR table_name = ? OR table_name LIKE ?)
        GROUP BY table_name, check_name ORDER BY 4 DESC, 1, 2 LIMIT 200
        """, columns: ["table", "check", "checks", "failed"])

    /// The pass rate of a period (and table): which tables and checks pulled it down, each with
    /// the share of all failures it accounts for.
    public static func passRate(period: CopilotSlots.Period?, table: String?, store: any MetadataStore) async throws -> Explanation {
        var slots = CopilotSlots()
        slots.period = period
        slots.table = table
        let read = failingByTableAndCheck.binding([Bind.from(slots), Bind.to(slots)] + Bind.table(slots))
        let rows = try await store.read(read)
        let checks = rows.reduce(Int64(0)) { $0 + (Int64($1[2] ?? "") ?? 0) }
        let failed = rows.reduce(Int64(0)) { $0 + (Int64($1[3] ?? "") ?? 0) }
        let rate = checks > 0 ? 100 * Double(checks - failed) / Double(checks) : 100
        let scope =
            (table.map { "\($0), " } ?? "") + (period.map { "\(CopilotQuestion.day($0.from)) to \(CopilotQuestion.day($0.to))" } ?? "all history")
        return Explanation(
            subject: "pass rate (\(scope))", status: String(format: "%.1f %% of %lld checks passed", rate, checks),
            message: "\(failed) failed check(s)",
            drivers: rows.compactMap { row in
                guard let count = Int64(row[3] ?? ""), count > 0 else { return nil }
                return .init(
                    name: "\(row[1] ?? "?") on \(row[0] ?? "no table")", count: count,
                    note: String(format: "%.0f %% of the failures", 100 * Double(count) / Double(max(failed, 1))))
            },
            rows: [], queries: [.init(on: "store", sql: read.sql, parameters: read.parameters)],
            notes: checks == 0 ? ["no checks ran in this period"] : [])
    }
}
