import CutoverCore
import Foundation

struct PrimaryKeyCheck: ValidationCheck {
    static let name = "primary_key", category = "schema", summary = "the target has the source's primary key columns"
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let expected = (c.table.primaryKey?.columns ?? []).map { c.column($0, "target") }
        let actual = try await c.targetTable()?.primaryKey?.columns ?? []
        return CheckOutcome(
            passed: expected == actual,
            message: expected == actual
                ? "primary key (\(actual.joined(separator: ", ")))"
                : "expected (\(expected.joined(separator: ", "))), found (\(actual.joined(separator: ", ")))")
    }
}

struct PatternCheck: ValidationCheck {
    static let name = "pattern", category = "quality", summary = "every non-NULL `column` value matches the regular expression `pattern`"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("pattern", required: true)]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        guard let pattern = c.spec.pattern, let regex = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else {  // else: the check fails naming the pattern
            throw CutoverError(.config, "pattern on \(c.spec.table) needs a valid `pattern`")
        }
        // Engines disagree on regex dialects (SQLite has none built in): stream the values and match here.
        return try await eachSide(c) { side in
            guard let source = c.table.column(named: column) else { return (false, "no column") }
            var target = source
            target.name = c.column(column, side)
            var bad: Int64 = 0, examples: [String] = []
            for try await batch in c.connector(side).read(ReadRequest(table: c.ref(side), columns: [target])) {
                for value in batch.values where !value.isNull {
                    let text = value.displayText
                    if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                        bad += 1
                        if examples.count < 5 { examples.append(text) }
                    }
                }
            }
            return (bad == 0, "\(bad) value(s) do not match" + (examples.isEmpty ? "" : " (e.g. \(examples.joined(separator: ", ")))"))
        }
    }
}

struct OutliersCheck: ValidationCheck {
    static let name = "outliers", category = "statistics",
        summary = "at most `tolerance_percent` % of `column` lies more than `max` (default 3) standard deviations from the mean"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("max", "standard deviations from the mean (default 3)"),
        .field("tolerance_percent", "the largest share of outliers, in percent"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let z = c.spec.max ?? 3
        return try await eachSide(c) { side in
            let name = c.column(column, side)
            let mean = try await c.number(side) { d, t in "SELECT avg(\(d.asDouble(d.quote(name)))) FROM \(t)" }
            let meanSquare = try await c.number(side) { d, t in
                "SELECT avg(\(d.asDouble(d.quote(name))) * \(d.asDouble(d.quote(name)))) FROM \(t)"
            }
            let deviation = (max(0, meanSquare - mean * mean)).squareRoot()
            let total = try await c.number(side) { d, t in "SELECT \(d.count(d.quote(name))) FROM \(t)" }
            guard deviation > 0, total > 0 else { return (true, "no spread") }
            let found = try await outliers(c, side, name, outside: mean - z * deviation, mean + z * deviation, of: total)
            return (
                found.share <= (c.spec.tolerancePercent ?? 0), "\(Int(found.count)) outlier(s) beyond \(z)σ (\(String(format: "%.2f", found.share))%)"
            )
        }
    }
}

struct DistributionCheck: ValidationCheck {
    static let name = "distribution", category = "statistics",
        summary = "a 10-bucket histogram of numeric `column` matches on both sides (each bucket's share within `tolerance_percent`, default 1)"
    static let parameters: [CheckParameter] = [
        .field("column", required: true), .field("tolerance_percent", "the largest difference of a bucket's share, in points (default 1)"),
    ]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let low = try await c.number("source") { d, t in "SELECT min(\(d.quote(column))) FROM \(t)" }
        let high = try await c.number("source") { d, t in "SELECT max(\(d.quote(column))) FROM \(t)" }
        let width = max((high - low) / 10, Double.leastNonzeroMagnitude)
        func histogram(_ side: String) async throws -> [Double] {
            let name = c.column(column, side)
            let total = max(1, try await c.number(side) { d, t in "SELECT \(d.count(d.quote(name))) FROM \(t)" })
            var shares: [Double] = []
            for bucket in 0..<10 {
                let lower = low + Double(bucket) * width, upper = bucket == 9 ? Double.greatestFiniteMagnitude : lower + width
                let count = try await c.number(side) { d, t in
                    "SELECT \(d.count("*")) FROM \(t) WHERE \(d.quote(name)) >= \(bucket == 0 ? -Double.greatestFiniteMagnitude : lower) AND \(d.quote(name)) < \(upper)"
                }
                shares.append(count / total * 100)
            }
            return shares
        }
        let source = try await histogram("source"), target = try await histogram("target")
        let worst = zip(source, target).map { abs($0 - $1) }.max() ?? 0
        let tolerance = c.spec.tolerancePercent ?? 1
        return CheckOutcome(
            passed: worst <= tolerance, message: "largest bucket difference \(String(format: "%.2f", worst)) percentage points (max \(tolerance))",
            details: [
                "source": source.map { String(format: "%.1f", $0) }.joined(separator: " "),
                "target": target.map { String(format: "%.1f", $0) }.joined(separator: " "),
            ])
    }
}

struct TopNCheck: ValidationCheck {
    static let name = "top_n", category = "business", summary = "the `n` most frequent values of `column` and their counts agree"
    static let parameters: [CheckParameter] = [.field("column", required: true), .field("n", "how many of the most frequent values (default 10)")]
    func run(_ c: CheckContext) async throws -> CheckOutcome {
        let column = try c.requireColumn()
        let n = c.spec.n ?? 10
        // Each value with its count; NULL stays apart from the text 'NULL' (compared as values, shown quoted apart).
        struct Frequent: Equatable, CustomStringConvertible {
            var value: String?
            var count: String
            var description: String { "\(CanonicalForm.shown(value))×\(count)" }
        }
        func top(_ side: String) async throws -> [Frequent] {
            let connector = c.connector(side), d = connector.dialect, q = d.quote(c.column(column, side))
            let type = try c.columnType(column)
            let rows = try await connector.execute(
                d.limit(
                    "SELECT \(q) AS value, \(d.count("*")) AS n FROM \(d.qualified(c.ref(side))) GROUP BY \(q) ORDER BY \(d.count("*")) DESC, CASE WHEN \(q) IS NULL THEN 0 ELSE 1 END, \(d.byteOrder(q, type: type))",
                    rows: n, offset: 0)
            ).rows
            return rows.map { Frequent(value: CanonicalForm.text($0[0], as: type), count: $0[1].displayText) }
        }
        let source = try await top("source"), target = try await top("target")
        func list(_ values: some Swift.Sequence<Frequent>) -> String { values.map(\.description).joined(separator: ", ") }
        return CheckOutcome(
            passed: source == target,
            message: source == target
                ? "top \(n) agree: " + list(source.prefix(3)) + (source.count > 3 ? ", …" : "")
                : "source: \(list(source)) · target: \(list(target))")
    }
}
