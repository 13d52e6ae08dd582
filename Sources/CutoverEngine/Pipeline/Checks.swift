import CutoverCore
import Foundation

// MARK: Schema

struct TableExistsCheck: ValidationCheck {
    static let name = "table_exists", category = "schema", summary = "the target table exists"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        do {
            let rows = try await c.target.rowCount(c.plan.target)
            return CheckOutcome(passed: true, message: "\(c.plan.target) exists (\(Format.count(rows)) rows)")
        } catch let error as CutoverError where error.code == .tableNotFound {
            return CheckOutcome(passed: false, message: "\(c.plan.target) does not exist")
        }
    }
}

struct ColumnSetCheck: ValidationCheck {
    static let name = "column_set", category = "schema", summary = "every planned column exists at the target, and no other"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let columns = Set(try await c.targetTable()?.columns.map(\.name) ?? [])
        let planned = Set(c.plan.columns.map(\.targetColumn))
        let missing = planned.subtracting(columns).sorted(), extra = columns.subtracting(planned).sorted()
        let passed = missing.isEmpty && extra.isEmpty
        return CheckOutcome(
            passed: passed,
            message: passed
                ? "\(planned.count) columns match"
                : "missing: \(missing.joined(separator: ", ")); unexpected: \(extra.joined(separator: ", "))")
    }
}

struct NullabilityCheck: ValidationCheck {
    static let name = "nullability", category = "schema", summary = "columns NOT NULL at the source are NOT NULL at the target"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let target = try await c.targetTable() else { return CheckOutcome(passed: false, message: "no target table") }
        let loose = c.table.columns.filter { !$0.isNullable && target.column(named: c.column($0.name, "target"))?.isNullable == true }.map(\.name)
        return CheckOutcome(
            passed: loose.isEmpty, message: loose.isEmpty ? "NOT NULL kept" : "nullable at the target: " + loose.joined(separator: ", "))
    }
}

/// Runs `evaluate` on each side the step names and joins the outcomes: passed only if every side passed.
func eachSide(
    _ c: CheckContext, suffix: String = "", _ evaluate: (String) async throws -> (passed: Bool, message: String)
) async throws -> CheckOutcome {
    var passed = true, messages: [String] = []
    for side in c.sides {
        let outcome = try await evaluate(side)
        passed = passed && outcome.passed
        messages.append("\(side): \(outcome.message)")
    }
    return CheckOutcome(passed: passed, message: messages.joined(separator: "; ") + suffix)
}

// MARK: Data quality

struct NullRateCheck: ValidationCheck {
    static let name = "null_rate", category = "quality", summary = "share of NULLs in `column` is at most `max` (0…1)"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("max", "the largest share of NULLs, 0…1")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        return try await eachSide(c, suffix: " (max \(String(format: "%.2f", (c.spec.max ?? 0) * 100))%)") { side in
            let name = c.column(column, side)
            let total = try await c.number(side) { d, t in "SELECT \(d.count("*")) FROM \(t)" }
            let nulls = try await c.number(side) { d, t in "SELECT \(d.count("*")) FROM \(t) WHERE \(d.quote(name)) IS NULL" }
            let rate = total == 0 ? 0 : nulls / total
            return (rate <= (c.spec.max ?? 0), "\(String(format: "%.2f", rate * 100))% NULL")
        }
    }
}

struct UniquenessCheck: ValidationCheck {
    static let name = "uniqueness", category = "quality",
        summary = "no two rows share `columns` (or `column`); rows with a NULL in them are not compared, as a UNIQUE constraint does"
    static let parameters: [CheckParameter] = [
        .field("column", "the column that must be unique (or give columns)"), .field("columns", "columns unique together"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let columns = c.spec.columns ?? c.spec.column.map { [$0] } ?? []
        guard !columns.isEmpty else { throw CutoverError(.config, "uniqueness on \(c.spec.table) needs `columns`") }
        for column in columns { _ = try c.requireColumn(column, "columns") }
        return try await eachSide(
            c, suffix: " (rows with a NULL in \(columns.joined(separator: ", ")) are not counted, as a UNIQUE constraint treats them)"
        ) { side in
            let duplicates = try await c.number(side) { d, t in
                let names = columns.map { d.quote(c.column($0, side)) }
                let list = names.joined(separator: ", ")
                let present = names.map { "\($0) IS NOT NULL" }.joined(separator: " AND ")
                return
                    "SELECT \(d.count("*")) FROM (SELECT \(list) FROM \(t) WHERE \(present) GROUP BY \(list) HAVING \(d.count("*")) > 1) duplicates"
            }
            return (duplicates == 0, "\(Int(duplicates)) duplicated value(s)")
        }
    }
}

struct AllowedValuesCheck: ValidationCheck {
    static let name = "allowed_values", category = "quality", summary = "`column` holds only `values` (NULL allowed)"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("values", "the allowed values", required: true)]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        guard let values = c.spec.values, !values.isEmpty else { throw CutoverError(.config, "allowed_values on \(c.spec.table) needs `values`") }
        return try await eachSide(c) { side in
            let bad = try await c.number(side) { d, t in
                "SELECT \(d.count("*")) FROM \(t) WHERE \(d.quote(c.column(column, side))) NOT IN (\(values.map { d.literal($0) }.joined(separator: ", ")))"
            }
            return (bad == 0, "\(Int(bad)) row(s) outside the allowed values")
        }
    }
}

struct ValueRangeCheck: ValidationCheck {
    static let name = "value_range", category = "quality", summary = "numbers in `column` lie within `min`…`max`"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("min", "the smallest allowed"), .field("max", "the largest allowed"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        return try await eachSide(c) { side in
            let bad = try await c.number(side) { d, t in
                let q = d.quote(c.column(column, side))
                var conditions: [String] = []
                if let min = c.spec.min { conditions.append("\(q) < \(min)") }
                if let max = c.spec.max { conditions.append("\(q) > \(max)") }
                return "SELECT \(d.count("*")) FROM \(t) WHERE " + (conditions.isEmpty ? "1 = 0" : conditions.joined(separator: " OR "))
            }
            return (bad == 0, "\(Int(bad)) row(s) out of range")
        }
    }
}

struct StringLengthCheck: ValidationCheck {
    static let name = "string_length", category = "quality", summary = "text in `column` is at most `max` characters"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("max", "the most characters", required: true)]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let limit = Int(c.spec.max ?? 0)
        return try await eachSide(c, suffix: " (max \(limit))") { side in
            let longest = try await c.number(side) { d, t in
                "SELECT coalesce(max(\(d.characterLength(d.quote(c.column(column, side))))), 0) FROM \(t)"
            }
            return (Int(longest) <= limit, "longest \(Int(longest))")
        }
    }
}

// MARK: Relationships

struct ForeignKeyOrphansCheck: ValidationCheck {
    static let name = "fk_orphans", category = "relationship", summary = "every `column` value exists in `parent_table`.`parent_column`"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("parent_table", required: true), .field("parent_column", required: true),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        guard let parentName = c.spec.parentTable, let parentColumn = c.spec.parentColumn else {
            throw CutoverError(.config, "fk_orphans on \(c.spec.table) needs `parent_table` and `parent_column`")
        }
        let parents = try c.relatedTable(parentName)
        return try await eachSide(c) { side in
            let parent = side == "source" ? parents.source : parents.target
            let orphans = try await c.number(side) { d, t in
                let child = d.quote(c.column(column, side))
                return "SELECT \(d.count("*")) FROM \(t) child WHERE child.\(child) IS NOT NULL AND NOT EXISTS "
                    + "(SELECT 1 FROM \(d.qualified(parent)) parent WHERE parent.\(d.quote(side == "source" ? parentColumn : d.targetName(parentColumn))) = child.\(child))"
            }
            return (orphans == 0, "\(Int(orphans)) orphan(s)")
        }
    }
}

// MARK: Statistics and comparative

/// Compares one number computed on both sides, within `tolerance_percent`/`tolerance_abs` — and never closer than a
/// relative 1e-9: a SUM over floating-point values depends on the order the engine adds them, while
/// every count below a billion stays exact.
/// One number measured on both sides. `exact` (counts, integers, decimals): compared as decimals,
/// so only a tolerance the step names lets a difference pass and NULL is not 0; otherwise (float
/// sums, whose last digits depend on the order an engine adds in) within a relative 10⁻⁹.
private func compareSides(
    _ c: CheckContext, label: String, exact: Bool = true, _ sql: @escaping (any Dialect, String, String) -> String
) async throws -> CheckOutcome {
    let source = try await c.measure("source") { d, t in sql(d, t, "source") }
    let target = try await c.measure("target") { d, t in sql(d, t, "target") }
    let passed: Bool
    let shown: (String?, Double?) -> String
    if exact, let agreement = exactlyAgree(source.text, target.text, c.spec) {
        passed = agreement
        shown = { text, _ in text.map(CanonicalForm.normalizeDecimal) ?? "NULL" }
    } else {
        if let x = source.double, let y = target.double {
            passed = agree(x, y, c.spec)
        } else {
            passed = source.double == nil && target.double == nil  // NULL (nothing to add up) agrees only with NULL, never with 0
        }
        shown = { _, double in double.map(numberText) ?? "NULL" }
    }
    return CheckOutcome(
        passed: passed, message: "\(label): source \(shown(source.text, source.double)), target \(shown(target.text, target.double))",
        details: ["source": source.text ?? "NULL", "target": target.text ?? "NULL"])
}

/// Whether two exact numbers agree (within the step's tolerance, if it names one); nil when either
/// is not a plain decimal (an engine printed a float), so the caller compares them as doubles.
func exactlyAgree(_ a: String?, _ b: String?, _ spec: StepSpec) -> Bool? {
    guard let a, let b else { return a == nil && b == nil }
    func decimal(_ text: String) -> Decimal? {
        text.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil ? Decimal(string: text) : nil
    }
    guard let x = decimal(a), let y = decimal(b) else { return nil }
    let difference = abs(x - y)
    if difference == 0 { return true }
    let relative = Decimal(spec.tolerancePercent ?? 0) / 100 * max(abs(x), abs(y))
    return difference <= max(relative, Decimal(spec.toleranceAbsolute ?? 0))
}

struct RowCountCheck: ValidationCheck {
    static let name = "row_count", category = "comparative", summary = "row counts agree (within `tolerance_percent`)"
    static let parameters: [CheckParameter] = [.field("tolerance_percent"), .field("tolerance_abs")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        var outcome = try await compareSides(c, label: "rows") { d, t, _ in "SELECT \(d.count("*")) FROM \(t)" }
        outcome.sourceRows = outcome.details["source"].flatMap { Double($0) }.map { Int64($0) }
        outcome.targetRows = outcome.details["target"].flatMap { Double($0) }.map { Int64($0) }
        outcome.affectedColumns = []
        return outcome
    }
}

struct DistinctCountCheck: ValidationCheck {
    static let name = "distinct_count", category = "statistics", summary = "distinct values of `column` agree"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("tolerance_percent"), .field("tolerance_abs")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        return try await compareSides(c, label: "distinct \(column)") { d, t, side in
            "SELECT \(d.count("DISTINCT " + d.quote(c.column(column, side)))) FROM \(t)"
        }
    }
}

struct ColumnAggregatesCheck: ValidationCheck {
    static let name = "column_aggregates", category = "comparative", summary = "sum, min and max of numeric `columns` agree"
    static let parameters: [CheckParameter] = [
        .field("columns", "numeric columns (default: every numeric column)"), .field("tolerance_percent"), .field("tolerance_abs"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let columns =
            c.spec.columns ?? c.spec.column.map { [$0] }
            ?? c.table.columns.filter {
                switch $0.canonical {
                case .integer, .decimal, .float: true;
                default: false
                }
            }.map(\.name)
        var failures: [String] = [], details: [String: String] = [:]
        for column in columns {
            // Integers add up exactly everywhere; decimals too, except in SQLite, which adds them as doubles.
            let exact: Bool
            switch c.table.column(named: column)?.canonical {
            case .integer?: exact = true
            case .decimal?: exact = c.source.dialect.engine != .sqlite && c.target.dialect.engine != .sqlite
            default: exact = false
            }
            for aggregate in ["sum", "min", "max"] {
                let outcome = try await compareSides(c, label: "\(aggregate)(\(column))", exact: exact) { d, t, side in
                    "SELECT \(aggregate)(\(d.quote(c.column(column, side)))) FROM \(t)"
                }
                details["\(aggregate)(\(column))"] = outcome.message
                if !outcome.passed { failures.append(outcome.message) }
            }
        }
        return CheckOutcome(
            passed: failures.isEmpty,
            message: failures.isEmpty
                ? "\(columns.count) column(s) agree on sum, min and max"
                : failures.joined(separator: "; "), details: details)
    }
}

struct RowDiffCheck: ValidationCheck {
    static let name = "row_diff", category = "comparative", summary = "every row is equal by key (canonical hash merge)"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let result = try await TableComparer(source: c.source, target: c.target, tolerances: c.tolerances.forTable(c.table.ref)).compare(
            c.plan, c.table)
        let record = result.resultRecord(runID: "")
        // The sampled rows themselves (key and each differing value on both sides), one per line;
        // counts for all of them.
        var details = ["missing_rows": String(result.missing), "extra_rows": String(result.extra), "changed_rows": String(result.changed)]
        if !result.missingKeys.isEmpty { details["missing"] = result.missingKeys.joined(separator: "\n") }
        if !result.extraKeys.isEmpty { details["extra"] = result.extraKeys.joined(separator: "\n") }
        if !result.changedRows.isEmpty {
            details["changed"] = result.changedRows.map { "\($0.key): \($0.differences)" }.joined(separator: "\n")
            // The statement that fetches each sampled row as stored, line for line with `changed`.
            details["source_sql"] = result.changedRows.map { $0.sourceSQL ?? "" }.joined(separator: "\n")
            details["target_sql"] = result.changedRows.map { $0.targetSQL ?? "" }.joined(separator: "\n")
        }
        if !result.changedColumns.isEmpty {
            details["changed_columns"] = result.changedColumns.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key)=\($0.value)" }
                .joined(separator: "\n")
        }
        var outcome = CheckOutcome(passed: result.passed, message: result.message, details: details)
        outcome.sourceRows = result.sourceRows
        outcome.targetRows = result.targetRows
        outcome.matchPercent = record.matchPercent
        outcome.affectedColumns = record.affectedColumns
        return outcome
    }
}

// MARK: Business rules

struct CustomSQLCheck: ValidationCheck {
    static let name = "custom_sql", category = "business", summary = "a query returning one number agrees on both sides (within `tolerance_percent`)"
    static let parameters: [CheckParameter] = [.field("sql", required: true), .field("tolerance_percent"), .field("tolerance_abs")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let sql = c.spec.sql else { throw CutoverError(.config, "custom_sql on \(c.spec.table) needs `sql`") }
        // {{table}} is each side's table; {{database}}, {{schema}}, {{environment}} come from the run's environment.
        let marker = "\u{1}cutover-table\u{1}"
        let rendered = try Rulebook.render(sql.replacingOccurrences(of: "{{table}}", with: marker), environment: c.environmentName, c.environment)
        return try await compareSides(c, label: "value") { _, t, _ in rendered.replacingOccurrences(of: marker, with: t) }
    }
}

// MARK: Time series

struct DateGapsCheck: ValidationCheck {
    static let name = "date_gaps", category = "time_series", summary = "no missing day between the first and last date in `column`"
    static let parameters: [CheckParameter] = [.field("column", "the date column", required: true)]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        return try await eachSide(c) { side in
            let connector = c.connector(side), d = connector.dialect
            let q = d.quote(c.column(column, side))
            let rows = try await connector.execute("SELECT DISTINCT \(q) FROM \(d.qualified(c.ref(side))) WHERE \(q) IS NOT NULL ORDER BY \(q)").rows
            var gaps: [String] = []
            var previous: Int?
            for row in rows {
                let parts = row[0].displayText.prefix(10).split(separator: "-").compactMap { Int($0) }
                guard parts.count == 3 else { continue }
                let day = Timestamp.daysFromCivil(parts[0], parts[1], parts[2])
                if let previous, day - previous > 1 { gaps.append("\(day - previous - 1) day(s) before \(row[0].displayText.prefix(10))") }
                previous = day
            }
            return (gaps.isEmpty, gaps.isEmpty ? "no gaps in \(rows.count) days" : "\(gaps.count) gap(s): " + gaps.prefix(5).joined(separator: ", "))
        }
    }
}

struct DuplicatePeriodsCheck: ValidationCheck {
    static let name = "duplicate_periods", category = "time_series", summary = "each period (`column` plus `columns`) appears once"
    static let parameters: [CheckParameter] = [
        .field("column", "the period column", required: true), .field("columns", "columns that with the period identify a row"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        var uniqueness = c
        uniqueness.spec.columns = [column] + (c.spec.columns ?? [])
        return try await UniquenessCheck().run(uniqueness)
    }
}
