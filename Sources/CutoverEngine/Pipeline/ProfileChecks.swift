import CutoverCore
import Foundation

// MARK: Schema

struct ColumnTypesCheck: ValidationCheck {
    static let name = "column_types", category = "schema",
        summary = "each target column's type can hold every value of its source column (by the type mapping)"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let target = try await c.targetTable() else { return CheckOutcome(passed: false, message: "no target table \(c.plan.target)") }
        var problems: [String] = []
        for decision in c.plan.columns {
            guard let source = c.table.column(named: decision.column) else { continue }
            guard let column = target.column(named: decision.targetColumn) else { problems.append("\(decision.targetColumn): missing"); continue }
            let (holds, why) = column.canonical.holds(source.canonical)
            if !holds { problems.append("\(decision.targetColumn) \(column.nativeType): \(why ?? "incompatible")") }
        }
        return CheckOutcome(
            passed: problems.isEmpty,
            message: problems.isEmpty
                ? "\(c.plan.columns.count) column types hold their source values"
                : problems.joined(separator: "; "))
    }
}

struct UniqueKeysCheck: ValidationCheck {
    static let name = "unique_keys", category = "schema",
        summary = "the source's unique keys exist at the target (as unique keys, unique indexes or the primary key)"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let target = try await c.targetTable() else { return CheckOutcome(passed: false, message: "no target table \(c.plan.target)") }
        var present = Set(target.uniqueKeys.map(\.columns) + target.indexes.filter(\.isUnique).map(\.columns))
        if let pk = target.primaryKey { present.insert(pk.columns) }
        let expected = c.table.uniqueKeys.map { $0.columns.map { c.column($0, "target") } }
        let missing = expected.filter { !present.contains($0) }
        return CheckOutcome(
            passed: missing.isEmpty,
            message: expected.isEmpty
                ? "the source has no unique keys besides its primary key"
                : missing.isEmpty
                    ? "\(expected.count) unique key(s) kept"
                    : "missing: " + missing.map { "(\($0.joined(separator: ", ")))" }.joined(separator: ", "))
    }
}

struct DefaultsCheck: ValidationCheck {
    static let name = "defaults", category = "schema", summary = "columns with a default (not identity) at the source have one at the target"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let target = try await c.targetTable() else { return CheckOutcome(passed: false, message: "no target table \(c.plan.target)") }
        let withDefault = c.table.columns.filter { $0.defaultExpression != nil && $0.identity == nil }
        let missing = withDefault.filter { target.column(named: c.column($0.name, "target"))?.defaultExpression == nil }.map(\.name)
        return CheckOutcome(
            passed: missing.isEmpty,
            message: withDefault.isEmpty
                ? "no column has a default"
                : missing.isEmpty ? "\(withDefault.count) default(s) kept" : "no default at the target: " + missing.joined(separator: ", "))
    }
}

// MARK: Relationships

struct DimensionConformanceCheck: ValidationCheck {
    static let name = "dimension_conformance", category = "relationship",
        summary =
            "fact `column` values all exist in dimension `parent_table`.`parent_column`, and the same number of dimension members is used on both sides"
    static let parameters: [CheckParameter] = [
        .field("column", "the fact column", required: true), .field("parent_table", "the dimension table", required: true),
        .field("parent_column", "the dimension key", required: true),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        guard let parentName = c.spec.parentTable, let parentColumn = c.spec.parentColumn else {
            throw CutoverError(.config, "dimension_conformance on \(c.spec.table) needs `parent_table` and `parent_column`")
        }
        var orphans: [String: Double] = [:], used: [String: Double] = [:]
        let parents = try c.relatedTable(parentName)
        for side in ["source", "target"] {
            let d = c.connector(side).dialect
            let parent = side == "source" ? parents.source : parents.target
            let key = d.quote(c.column(column, side)), member = d.quote(side == "source" ? parentColumn : d.targetName(parentColumn))
            orphans[side] = try await c.number(side) { d, t in
                "SELECT \(d.count("*")) FROM \(t) f WHERE f.\(key) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \(d.qualified(parent)) m WHERE m.\(member) = f.\(key))"
            }
            used[side] = try await c.number(side) { d, t in
                "SELECT count(DISTINCT f.\(key)) FROM \(t) f JOIN \(d.qualified(parent)) m ON m.\(member) = f.\(key)"
            }
        }
        let targetOrphans = orphans["target"] ?? 0, sourceUsed = used["source"] ?? 0, targetUsed = used["target"] ?? 0
        let passed = targetOrphans == 0 && sourceUsed == targetUsed
        return CheckOutcome(
            passed: passed,
            message: "target: \(Int(targetOrphans)) fact row(s) without a dimension member; "
                + "members used: source \(Int(sourceUsed)), target \(Int(targetUsed))")
    }
}

// MARK: Statistics

/// The values of numeric `column` at quantiles `qs` (0…1), nearest rank, computed with
/// ORDER BY … and the dialect's row limit at offset k, so every engine answers the same way.
/// Also returns how many non-NULL values there are; nil when there are none.
private func quantiles(_ c: CheckContext, _ side: String, column: String, _ qs: [Double]) async throws -> (values: [Double], count: Double)? {
    let name = c.column(column, side)
    let count = try await c.number(side) { d, t in "SELECT \(d.count(d.quote(name))) FROM \(t)" }
    guard count > 0 else { return nil }
    var values: [Double] = []
    for q in qs {
        let offset = Int((count - 1) * q)
        values.append(
            try await c.number(side) { d, t in
                d.limit("SELECT \(d.quote(name)) FROM \(t) WHERE \(d.quote(name)) IS NOT NULL ORDER BY \(d.quote(name))", rows: 1, offset: offset)
            })
    }
    return (values, count)
}

/// How many values of `name` on `side` lie outside `low`…`high`, and their share of `total` in percent.
func outliers(
    _ c: CheckContext, _ side: String, _ name: String, outside low: Double, _ high: Double, of total: Double
) async throws -> (count: Double, share: Double) {
    let count = try await c.number(side) { d, t in "SELECT \(d.count("*")) FROM \(t) WHERE \(d.quote(name)) < \(low) OR \(d.quote(name)) > \(high)" }
    return (count, count / max(total, 1) * 100)
}

/// Whether two numbers agree within `tolerance_percent` and `tolerance_abs` (never closer than a relative 1e-9).
func agree(_ a: Double, _ b: Double, _ spec: StepSpec) -> Bool {
    let relative = max((spec.tolerancePercent ?? 0) / 100, 1e-9) * max(abs(a), abs(b))
    return abs(a - b) <= max(relative, spec.toleranceAbsolute ?? 0)
}

/// A measured number as a person reads it: at most 15 significant digits, so a float sum such as
/// 34230696.199999996 reads 34230696.2 (compares use the full value).
func numberText(_ d: Double) -> String {
    guard d.isFinite else { return d.isNaN ? "no value" : (d < 0 ? "-∞" : "∞") }
    return CanonicalForm.normalizeDecimal(String(format: "%.15g", d))
}

struct QuantilesCheck: ValidationCheck {
    static let name = "quantiles", category = "statistics",
        summary = "quantiles of numeric `column` (`values`, default 0.25, 0.5, 0.75, 0.9) agree within `tolerance_percent`/`tolerance_abs`"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("values", "the quantiles (default 0.25, 0.5, 0.75, 0.9)"), .field("tolerance_percent"),
        .field("tolerance_abs"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let qs = try (c.spec.values ?? ["0.25", "0.5", "0.75", "0.9"]).map { text in
            guard let q = Double(text), (0...1).contains(q) else {
                throw CutoverError(.config, "quantiles: '\(text)' is not a number between 0 and 1")
            }
            return q
        }
        let source = try await quantiles(c, "source", column: column, qs)?.values,
            target = try await quantiles(c, "target", column: column, qs)?.values
        guard let source, let target else {
            return CheckOutcome(
                passed: source == nil && target == nil,
                message: "no values: source \(source == nil ? "empty" : "has values"), target \(target == nil ? "empty" : "has values")")
        }
        let parts = zip(qs, zip(source, target)).map { q, pair in (q, pair.0, pair.1, agree(pair.0, pair.1, c.spec)) }
        let passed = parts.allSatisfy(\.3)
        return CheckOutcome(
            passed: passed,
            message: parts.map { "p\(numberText($0.0 * 100)) \(numberText($0.1))" + ($0.3 ? "" : " ≠ \(numberText($0.2))") }.joined(separator: ", "),
            details: ["source": source.map(numberText).joined(separator: " "), "target": target.map(numberText).joined(separator: " ")])
    }
}

struct IQROutliersCheck: ValidationCheck {
    static let name = "iqr_outliers", category = "statistics",
        summary = "at most `tolerance_percent` % of `column` lies beyond `max` (default 1.5) interquartile ranges outside the quartiles"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("max", "interquartile ranges beyond the quartiles (default 1.5)"),
        .field("tolerance_percent", "the largest share of outliers, in percent"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let k = c.spec.max ?? 1.5
        return try await eachSide(c) { side in
            guard let quartiles = try await quantiles(c, side, column: column, [0.25, 0.75]) else { return (true, "no values") }
            let q = quartiles.values, total = quartiles.count
            let iqr = q[1] - q[0], low = q[0] - k * iqr, high = q[1] + k * iqr
            let found = try await outliers(c, side, c.column(column, side), outside: low, high, of: total)
            return (
                found.share <= (c.spec.tolerancePercent ?? 0),
                "\(Int(found.count)) outlier(s) outside [\(numberText(low)), \(numberText(high))] (\(String(format: "%.2f", found.share))%)"
            )
        }
    }
}

// MARK: Business

struct GroupMetricsCheck: ValidationCheck {
    static let name = "group_metrics", category = "business",
        summary = "`aggregate` (sum, avg, min, max, count) of `measure` per group of `columns` agrees within `tolerance_percent`/`tolerance_abs`"
    static let parameters: [CheckParameter] = [
        .field("columns", "the grouping columns", required: true), .field("measure"), .field("aggregate"), .field("tolerance_percent"),
        .field("tolerance_abs"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let groups = c.spec.columns ?? c.spec.column.map { [$0] } ?? []
        guard !groups.isEmpty else { throw CutoverError(.config, "group_metrics on \(c.spec.table) needs `columns` to group by") }
        for group in groups { _ = try c.requireColumn(group, "columns") }
        let aggregate = (c.spec.aggregate ?? "sum").lowercased()
        guard ["sum", "avg", "min", "max", "count"].contains(aggregate) else {
            throw CutoverError(.config, "group_metrics: unknown aggregate '\(aggregate)'", hint: "use sum, avg, min, max or count")
        }
        let measure = aggregate == "count" ? nil : try c.requireColumn(c.spec.measure, "measure")
        let types = groups.map { c.table.column(named: $0)?.canonical ?? .text(maxLength: nil) }
        // Counts, and sums and extremes of integers (and of decimals outside SQLite), are compared exactly.
        let exact: Bool
        switch (aggregate, measure.flatMap { c.table.column(named: $0)?.canonical }) {
        case ("count", _), ("sum", .integer?), ("min", .integer?), ("max", .integer?): exact = true
        case ("sum", .decimal?), ("min", .decimal?), ("max", .decimal?):
            exact = c.source.dialect.engine != .sqlite && c.target.dialect.engine != .sqlite
        default: exact = false
        }
        // A group is its values, NULL included, as a list: joined into one string, a NULL and the
        // text 'NULL', or ("a | b", "c") and ("a", "b | c"), would be one group and one would go unread.
        func metrics(_ side: String) async throws -> [[String?]: String?] {
            let connector = c.connector(side), d = connector.dialect
            let list = groups.map { d.quote(c.column($0, side)) }.joined(separator: ", ")
            let value =
                measure.map { column in
                    let quoted = d.quote(c.column(column, side))
                    return "\(aggregate)(\(aggregate == "avg" ? d.asDouble(quoted) : quoted))"
                } ?? d.count("*")
            let rows = try await connector.execute("SELECT \(list), \(value) FROM \(d.qualified(c.ref(side))) GROUP BY \(list)").rows
            var out: [[String?]: String?] = [:]
            for row in rows {
                let key = zip(row.prefix(groups.count), types).map { CanonicalForm.text($0, as: $1) }
                guard out[key] == nil else {
                    throw CutoverError(
                        .query,
                        "group \(shownGroup(key)) comes twice from the \(side): values \(connector.url.engine.rawValue) keeps apart read the same here",
                        hint: "group by columns whose values compare the same on both engines")
                }
                out[key] = row[groups.count].isNull ? nil : row[groups.count].displayText
            }
            return out
        }
        func shownGroup(_ key: [String?]) -> String { key.map(CanonicalForm.shown).joined(separator: " | ") }
        func agreeing(_ a: String?, _ b: String?) -> Bool {
            if exact, let exactly = exactlyAgree(a, b, c.spec) { return exactly }
            // NULL agrees only with NULL, and a value that is not a number only with itself: never read as 0.
            guard let a, let b, let x = Double(a), let y = Double(b) else { return a == b }
            return agree(x, y, c.spec)
        }
        func shown(_ text: String?) -> String {
            guard let text else { return CanonicalForm.shown(nil) }
            return exact ? CanonicalForm.normalizeDecimal(text) : Double(text).map(numberText) ?? CanonicalForm.shown(text)
        }
        let source = try await metrics("source"), target = try await metrics("target")
        var problems: [String] = []
        for key in Set(source.keys).union(target.keys).sorted(by: { shownGroup($0) < shownGroup($1) }) {
            switch (source[key], target[key]) {
            case (let a?, let b?) where !agreeing(a, b): problems.append("\(shownGroup(key)): \(shown(a)) ≠ \(shown(b))")
            case (_?, nil): problems.append("\(shownGroup(key)): missing at the target")
            case (nil, _?): problems.append("\(shownGroup(key)): only at the target")
            default: break
            }
        }
        let label = "\(aggregate)(\(measure ?? "*")) by \(groups.joined(separator: ", "))"
        return CheckOutcome(
            passed: problems.isEmpty,
            message: problems.isEmpty
                ? "\(label) agrees in \(source.count) group(s)"
                : "\(label): \(problems.count) group(s) differ — " + problems.prefix(5).joined(separator: "; "),
            details: ["groups_source": String(source.count), "groups_target": String(target.count)])
    }
}

// MARK: Time series

struct RollingDriftCheck: ValidationCheck {
    static let name = "rolling_drift", category = "time_series",
        summary =
            "the `window`-period rolling mean of `measure` (or of the row count) per `column` period agrees within `tolerance_percent`/`tolerance_abs`"
    static let parameters: [CheckParameter] = [
        .field("column", "the period column", required: true), .field("measure"), .field("window"), .field("tolerance_percent"),
        .field("tolerance_abs"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let measure = try c.spec.measure.map { try c.requireColumn($0, "measure") }
        let window = max(1, c.spec.window ?? 7)
        let type = try c.columnType(column)
        func series(_ side: String) async throws -> [(String, Double)] {
            let connector = c.connector(side), d = connector.dialect
            let period = d.quote(c.column(column, side))
            let value = measure.map { "sum(\(d.quote(c.column($0, side))))" } ?? d.count("*")
            let rows = try await connector.execute(
                "SELECT \(period), \(value) FROM \(d.qualified(c.ref(side))) WHERE \(period) IS NOT NULL GROUP BY \(period)"
            ).rows
            return try rows.map { row in
                let period = CanonicalForm.text(row[0], as: type) ?? ""
                if row[1].isNull { return (period, 0) }  // a period whose values are all NULL sums to NULL
                guard let number = Double(row[1].displayText) else {
                    throw CutoverError(.query, "the \(side)'s \(value) per \(column) answered \(row[1].displayText), not a number")
                }
                return (period, number)
            }.sorted { $0.0 < $1.0 }
        }
        func rolling(_ points: [(String, Double)]) -> [String: Double] {
            var out: [String: Double] = [:], sum = 0.0
            for (index, point) in points.enumerated() {
                sum += point.1
                if index >= window { sum -= points[index - window].1 }
                if index >= window - 1 { out[point.0] = sum / Double(window) }
            }
            return out
        }
        let source = rolling(try await series("source")), target = rolling(try await series("target"))
        var worst: (String, Double, Double)?
        var drifted = 0
        for period in Set(source.keys).union(target.keys).sorted() {
            let a = source[period] ?? .nan, b = target[period] ?? .nan
            if a.isNaN || b.isNaN || !agree(a, b, c.spec) {
                drifted += 1
                if worst == nil { worst = (period, a, b) }
            }
        }
        let label = "\(window)-period rolling mean of \(measure.map { "sum(\($0))" } ?? "rows")"
        guard let worst else { return CheckOutcome(passed: true, message: "\(label) agrees over \(source.count) window(s)") }
        func side(_ value: Double) -> String { value.isNaN ? "no such period" : numberText(value) }
        return CheckOutcome(
            passed: false, message: "\(label) drifts in \(drifted) window(s); first at \(worst.0): source \(side(worst.1)), target \(side(worst.2))")
    }
}

// MARK: Comparative

struct SampledDiffCheck: ValidationCheck {
    static let name = "sampled_diff", category = "comparative",
        summary = "rows in `n` (default 10) key ranges covering `sample_percent` (default 1) % of a single integer key are equal on both sides"
    static let parameters: [CheckParameter] = [.field("n", "how many key ranges (default 10)"), .field("sample_percent")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        guard let key = c.plan.key, key.count == 1, let keyColumn = c.table.column(named: key[0]), case .integer = keyColumn.canonical else {
            throw CutoverError(.config, "sampled_diff on \(c.spec.table) needs a single integer key", hint: "use row_diff for this table")
        }
        let low = Int64(try await c.number("source") { d, t in "SELECT min(\(d.quote(key[0]))) FROM \(t)" })
        let high = Int64(try await c.number("source") { d, t in "SELECT max(\(d.quote(key[0]))) FROM \(t)" })
        let ranges = max(1, c.spec.n ?? 10)
        let span = high - low + 1
        let width = max(1, Int64(Double(span) * (c.spec.samplePercent ?? 1) / 100 / Double(ranges)))
        // Deterministic per table, so a rerun checks the same rows.
        var generator = SeededGenerator(seed: StableHasher.hash([Value.text(c.plan.source.description)][...]))
        var compared: Int64 = 0, missing: Int64 = 0, extra: Int64 = 0, changed: Int64 = 0, examples: [String] = []
        var columns: [String: Int64] = [:]
        for index in 0..<ranges {
            let slot = span / Int64(ranges)
            let start = low + Int64(index) * slot + (slot > width ? Int64.random(in: 0..<(slot - width), using: &generator) : 0)
            let result = try await TableComparer(source: c.source, target: c.target).compare(c.plan, c.table, keyRange: start..<(start + width))
            compared += result.sourceRows
            missing += result.missing
            extra += result.extra
            changed += result.changed
            columns.merge(result.changedColumns, uniquingKeysWith: +)
            examples +=
                result.missingKeys.map { "missing \($0)" } + result.extraKeys.map { "extra \($0)" } + result.changedRows.map { "changed \($0.key)" }
        }
        let passed = missing == 0 && extra == 0 && changed == 0
        var outcome = CheckOutcome(
            passed: passed,
            message: "\(compared) sampled row(s) in \(ranges) range(s): \(missing) missing, \(extra) extra, \(changed) changed"
                + (examples.isEmpty ? "" : " (" + examples.prefix(5).joined(separator: ", ") + ")"))
        outcome.sourceRows = compared
        outcome.targetRows = compared - missing + extra
        outcome.matchPercent = compared == 0 ? 100 : max(0, Double(compared - missing - changed) / Double(compared) * 100)
        outcome.affectedColumns = columns.keys.sorted()
        return outcome
    }
}

/// SplitMix64: a small deterministic generator for reproducible samples.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
