import CutoverCore
import CutoverStore
import Foundation

/// What `validation_results.json` holds.
public struct ValidationReport: Sendable, Codable {
    public var runID: String
    public var source: String
    public var target: String
    public var generatedAt: String
    public var passed: Int
    public var failed: Int
    public var tables: [TableComparison]

    public var allPassed: Bool { failed == 0 }
}

/// Validates every planned table: row counts and a row-by-row hash compare.
public struct Validator: Sendable {
    public let source: any Connector
    public let target: any Connector
    public var tolerances: Tolerances
    /// A compare that lost its connection is compared again, like a chunk is loaded again.
    public var retry: RetryPolicy

    public init(source: any Connector, target: any Connector, tolerances: Tolerances = Tolerances(), retry: RetryPolicy = RetryPolicy()) {
        self.source = source
        self.target = target
        self.tolerances = tolerances
        self.retry = retry
    }

    public func run(plan: MigrationPlan, catalog: Catalog, recorder: RunRecorder) async throws -> ValidationReport {
        var comparisons: [TableComparison] = []
        var results: [ValidationResultRecord] = []
        let started = ISOTime.now()
        for tablePlan in plan.tables {
            guard let table = catalog.table(tablePlan.source) else { continue }
            let name = tablePlan.source.description
            let comparison: TableComparison
            do {
                let comparer = TableComparer(source: source, target: target, tolerances: tolerances.forTable(table.ref))
                comparison = try await retry.run {
                    try Failpoint.check("validate.compare")
                    return try await comparer.compare(tablePlan, table)
                } retrying: { attempt, error, delay in
                    await recorder.event(
                        "step.retry", table: name, level: "warn",
                        "\(name): the compare failed on attempt \(attempt) (\(error.redactedDescription)); retrying in \(String(format: "%.1f", delay)) s"
                    )
                }
            } catch {
                var failed = TableComparison(
                    table: name, target: tablePlan.target.description, status: .failed, method: "row hash merge",
                    sourceRows: 0, targetRows: 0, missing: 0, extra: 0, changed: 0, missingKeys: [], extraKeys: [],
                    changedRows: [], sampleLimit: TableComparer.sampleLimit, sourceFingerprint: "", targetFingerprint: "",
                    seconds: 0, message: error.redactedDescription)
                if let cutoverError = error as? CutoverError, cutoverError.code == .tableNotFound {
                    failed.message = "target table \(tablePlan.target) does not exist: \(cutoverError.message)"
                }
                comparison = failed
            }
            comparisons.append(comparison)
            results.append(try await comparison.record(in: recorder))
        }
        try await recorder.recordValidation(
            suite: "row compare", source: source.url.description, target: target.url.description, started: started,
            results)
        return ValidationReport(
            runID: recorder.runID, source: source.url.description, target: target.url.description,
            generatedAt: ISOTime.now(), passed: comparisons.filter(\.passed).count,
            failed: comparisons.filter { !$0.passed }.count, tables: comparisons)
    }
}

extension TableComparison {
    /// Announces the table's outcome, records it as the run's table, and returns it as a stored
    /// validation result (named `check`).
    func record(in recorder: RunRecorder, check: String = "row_diff") async throws -> ValidationResultRecord {
        await recorder.event(
            passed ? "step.completed" : "step.failed", table: table, level: passed ? "info" : "error",
            "\(table): \(passed ? "passed" : "FAILED") — \(message)",
            fields: ["source_rows": String(sourceRows), "target_rows": String(targetRows)])
        var result = resultRecord(runID: recorder.runID)
        result.check = check
        try await recorder.recordTable(
            RunTableRecord(
                runID: recorder.runID, table: table, status: status.rawValue, sourceRows: sourceRows, targetRows: targetRows, message: message,
                details: result.details))
        return result
    }

    /// The comparison as a stored validation result: match percent over the source rows, the
    /// columns that differed, the whole comparison as details.
    func resultRecord(runID: String) -> ValidationResultRecord {
        let differing = missing + changed
        let match = sourceRows == 0 ? (targetRows == 0 ? 100 : 0) : max(0, Double(sourceRows - differing) / Double(sourceRows) * 100)
        let columns = changedColumns.keys.sorted()
        let details = (try? JSONEncoder.sorted.encode(self)).map { String(decoding: $0, as: UTF8.self) }  // strings and integers only: cannot fail
        return ValidationResultRecord(
            validationRunID: runID, check: "row_diff", table: table, status: passed ? "passed" : "failed", severity: "error",
            message: message, durationMS: Int64(seconds * 1000), sourceRows: sourceRows, targetRows: targetRows,
            matchPercent: match, affectedColumns: columns, details: details)
    }
}
