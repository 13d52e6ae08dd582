import CutoverCore
import CutoverStore
import Foundation

/// Validates a target against counts and aggregates computed at a source whose rows cannot be read
/// (a SQL Server export): per table the exact row count, per exact numeric column the count of
/// values, sum, minimum and maximum — compared as decimals, so 1.50 and 1.5 agree and nothing is
/// rounded. It proves less than a row compare, and says so in every message.
public struct AggregateValidator: Sendable {
    public let source: any CatalogOnlySource
    public let target: any Connector
    public let aggregates: SourceAggregates

    public init(source: any CatalogOnlySource, target: any Connector, aggregates: SourceAggregates) {
        self.source = source
        self.target = target
        self.aggregates = aggregates
    }

    public static let method = "aggregates (source export)"

    public func run(plan: MigrationPlan, catalog: Catalog, recorder: RunRecorder) async throws -> ValidationReport {
        var comparisons: [TableComparison] = []
        var results: [ValidationResultRecord] = []
        let started = ISOTime.now()
        for tablePlan in plan.tables {
            let name = tablePlan.source.description
            var comparison = TableComparison(
                table: name, target: tablePlan.target.description, status: .failed, method: Self.method, sourceRows: 0, targetRows: 0, missing: 0,
                extra: 0, changed: 0, missingKeys: [], extraKeys: [], changedRows: [], sampleLimit: 0, sourceFingerprint: "", targetFingerprint: "",
                seconds: 0, message: "")
            let clock = Date()
            do {
                comparison = try await compare(tablePlan, table: catalog.table(tablePlan.source), into: comparison)
            } catch {
                comparison.message = error.redactedDescription
            }
            comparison.seconds = Date().timeIntervalSince(clock)
            comparisons.append(comparison)
            results.append(try await comparison.record(in: recorder, check: "aggregates"))
        }
        try await recorder.recordValidation(
            suite: "aggregates", source: source.url.description, target: target.url.description, started: started, results)
        return ValidationReport(
            runID: recorder.runID, source: source.url.description, target: target.url.description, generatedAt: ISOTime.now(),
            passed: comparisons.filter(\.passed).count, failed: comparisons.filter { !$0.passed }.count, tables: comparisons)
    }

    func compare(_ tablePlan: TablePlan, table: Table?, into start: TableComparison) async throws -> TableComparison {
        var comparison = start
        guard let exported = aggregates.table(tablePlan.source) else {
            comparison.message =
                "not compared: the source's aggregates file has no \(tablePlan.source) (export the aggregates of every table you validate)"
            return comparison
        }
        let dialect = target.dialect
        var measures = ["COUNT(*)"]
        var compared: [(source: SourceAggregates.ColumnAggregate, target: String, numeric: Bool, at: Int)] = []
        var notes: [String] = []
        for column in exported.columns {
            guard let decision = tablePlan.columns.first(where: { $0.column == column.name }) else {
                notes.append("\(column.name) is not migrated")
                continue
            }
            let quoted = dialect.quote(decision.targetColumn)
            let numeric: Bool
            switch table?.column(named: column.name)?.canonical {
            case .integer?, .decimal?: numeric = true
            default: numeric = false
            }
            measures += numeric ? ["COUNT(\(quoted))", "SUM(\(quoted))", "MIN(\(quoted))", "MAX(\(quoted))"] : ["COUNT(\(quoted))"]
            compared.append((column, decision.targetColumn, numeric, measures.count - (numeric ? 4 : 1)))
        }
        let answer = try await target.execute("SELECT \(measures.joined(separator: ", ")) FROM \(dialect.qualified(tablePlan.target))")
        guard let row = answer.rows.first, row.count == measures.count else {
            throw CutoverError(.query, "the target answered no aggregate row for \(tablePlan.target)")
        }
        let text = { (index: Int) in row[index].isNull ? nil : row[index].displayText }
        comparison.sourceRows = exported.rows
        comparison.targetRows = Int64(text(0) ?? "") ?? -1
        var differences: [String] = []
        if comparison.sourceRows != comparison.targetRows {
            differences.append("rows: source \(exported.rows), target \(text(0) ?? "NULL")")
            comparison.missing = max(0, comparison.sourceRows - comparison.targetRows)
            comparison.extra = max(0, comparison.targetRows - comparison.sourceRows)
        }
        for pair in compared {
            let base = pair.at
            var sides: [(String, String?, String?)] = [("count", String(pair.source.count), text(base))]
            if pair.numeric {
                sides += [
                    ("sum", pair.source.sum, text(base + 1)), ("min", pair.source.min, text(base + 2)), ("max", pair.source.max, text(base + 3)),
                ]
            }
            for (measure, sourceValue, targetValue) in sides where !Self.sameNumber(sourceValue, targetValue) {
                differences.append("\(measure)(\(pair.source.name)): source \(sourceValue ?? "NULL"), target \(targetValue ?? "NULL")")
                comparison.changedColumns[pair.target, default: 0] += 1
            }
        }
        comparison.status = differences.isEmpty ? .passed : .failed
        let numeric = compared.filter(\.numeric).count
        let scope =
            "row count, \(compared.count) column(s)' count of values and \(numeric) numeric column(s)' sum, min and max (rows are not compared one by one)"
        comparison.message =
            (differences.isEmpty ? "\(exported.rows) rows; \(scope) agree" : differences.joined(separator: "; "))
            + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
        return comparison
    }

    /// Equal as decimals (`1.50` = `1.5`, `-0` = `0`); both missing is equal; text that is not a
    /// number is compared as written.
    static func sameNumber(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        guard let x = Decimal(string: a.trimmingCharacters(in: .whitespaces)), let y = Decimal(string: b.trimmingCharacters(in: .whitespaces))
        else { return a == b }
        return x == y
    }
}
