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
        var scope =
            "row count, \(compared.count) column(s)' count of values and \(compared.filter(\.numeric).count) numeric column(s)' sum, min and max"
        if let checksum = exported.checksum {
            switch try await compareChecksums(checksum, tablePlan, table: table) {
            case .success(let (buckets, differing)):
                differences += differing
                scope += " and the checksums of every row in \(buckets) key bucket(s) of \(Format.count(checksum.width)) key(s)"
            case .failure(let refusal):
                notes.append("row checksums not compared: \(refusal.reason)")
                scope += " (rows are not compared one by one)"
            }
        } else {
            scope += " (rows are not compared one by one)"
        }
        comparison.status = differences.isEmpty ? .passed : .failed
        comparison.message =
            (differences.isEmpty ? "\(exported.rows) rows; \(scope) agree" : differences.joined(separator: "; "))
            + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
        return comparison
    }

    /// Differing bucket ranges named at most, in a message.
    static let rangesNamed = 10
    /// Buckets an export may divide a table into (its script writes at most 1,024).
    static let bucketsAtMost = 4096

    /// The exported row checksums against the same key buckets computed in the target: how many
    /// buckets were compared and a difference per range of keys whose rows differ (and for target
    /// rows outside the source's keys), or why the checksums cannot be compared.
    func compareChecksums(
        _ exported: SourceAggregates.KeyBucketChecksums, _ tablePlan: TablePlan, table: Table?
    ) async throws -> Result<
        (Int, [String]), ChecksumForm.Refusal
    > {
        func refuse(_ reason: String) -> Result<(Int, [String]), ChecksumForm.Refusal> { .failure(.init(reason: reason)) }
        guard let forms = exported.checksumForms, forms.count == exported.columns.count else {
            return refuse("the export's checksum forms (\(exported.forms)) do not read")
        }
        guard tablePlan.columns.map(\.column) == exported.columns else {
            return refuse(
                "they cover the columns \(exported.columns.joined(separator: ", ")); the plan compares \(tablePlan.columns.map(\.column).joined(separator: ", "))"
            )
        }
        guard let table else { return refuse("the export has no catalog entry for \(tablePlan.source)") }
        guard let targetTable = try await target.describe(tablePlan.target) else {
            return refuse("the target table \(tablePlan.target) was not found to read its column types")
        }
        let resolved = try TableComparer.resolvingTargetColumns(tablePlan, in: targetTable)
        var columns: [ChecksumColumn] = []
        for (mapping, form) in zip(resolved.columns, forms) {
            switch TableComparer.checksumForm(mapping, source: table, target: targetTable) {
            case .success(let (common, _, targetColumn)) where common == form:
                columns.append((mapping.targetColumn, form, targetColumn.nativeType))
            case .success(let (_, _, targetColumn)):
                return refuse(
                    "column \(mapping.column): the export spelled its values as \(form.valuesName), which the target's \(targetColumn.nativeType) does not match"
                )
            case .failure(let refusal): return .failure(refusal)
            }
        }
        guard let low = exported.low, let high = exported.high else { return .success((0, [])) }  // no rows: the row count says the rest
        guard let targetKey = resolved.columns.first(where: { $0.column == exported.key })?.targetColumn else {
            return refuse("the key \(exported.key) is not compared")
        }
        // The target's buckets are held in memory: as many as the export says, which is read from a file.
        guard high < Int64.max, low <= high, exported.width > 0, (Double(high) - Double(low)) / Double(exported.width) < Double(Self.bucketsAtMost)
        else {
            return refuse("the export's key range \(low)–\(high) in buckets of \(exported.width) is not one the script writes")
        }
        let dialect = target.dialect, range = low..<(high + 1)
        guard let sql = dialect.portableChecksumSQL(tablePlan.target, columns: columns, key: targetKey, range: range, width: exported.width) else {
            return refuse("\(target.url.engine.rawValue) cannot compute them inside the database")
        }
        let target = target
        let computed = try await TableComparer.buckets([(range, 0)]) { _ in try await target.execute(sql) }
        let source = Dictionary(exported.buckets.map { ($0.bucket, $0) }, uniquingKeysWith: { first, _ in first })
        let buckets = Set(source.keys).union(computed.keys).sorted()
        var differing: [String] = []
        for bucket in buckets {
            let mine = source[bucket], theirs = computed[bucket]
            if let mine, let theirs, mine.rows == theirs.rows, let sum = PortableChecksum.reduce(mine.sum), sum == theirs.sum { continue }
            differing.append(
                "\(Self.keys(of: bucket, low: low, high: high, width: exported.width)) (source \(mine?.rows ?? 0) rows, target \(theirs?.rows ?? 0))")
        }
        var differences: [String] = []
        if !differing.isEmpty {
            differences.append(
                "rows differ in \(differing.count) of \(buckets.count) key bucket(s) of \(exported.key): "
                    + differing.prefix(Self.rangesNamed).joined(separator: ", ") + (differing.count > Self.rangesNamed ? ", …" : ""))
        }
        let k = dialect.quote(targetKey)
        let outside = try await target.execute("SELECT COUNT(*) FROM \(dialect.qualified(tablePlan.target)) WHERE \(k) < \(low) OR \(k) > \(high)")
        if let count = outside.rows.first?.first?.wholeNumber, count > 0 {
            differences.append("\(count) target row(s) have keys outside the source's \(low)–\(high)")
        }
        return .success((source.count, differences))
    }

    /// `keys 100–199`: the keys of a bucket; the bucket's number where its keys would pass Int64
    /// (an export is read from a file, so its numbers are not trusted).
    static func keys(of bucket: Int64, low: Int64, high: Int64, width: Int64) -> String {
        let (offset, overflowed) = bucket.multipliedReportingOverflow(by: width)
        let (first, past) = low.addingReportingOverflow(offset)
        guard !overflowed, !past, bucket >= 0, first <= high else { return "bucket \(bucket)" }
        let (end, beyond) = first.addingReportingOverflow(width - 1)
        return "keys \(first)–\(beyond ? high : min(high, end))"
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
