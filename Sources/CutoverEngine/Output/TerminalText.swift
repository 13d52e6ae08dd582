import CutoverCore
import CutoverStore
import Foundation

/// What the CLI prints for a result, as lines of text: pure functions of the result, so the wording
/// is tested without running anything (snapshot tests in CutoverEngineTests) and a command only
/// decides where the lines go.
public enum TerminalText {
    /// `cutover diff` in text form.
    public static func diff(_ result: TableComparison) -> [String] {
        [
            "\(result.table) → \(result.target): \(result.passed ? "identical" : "DIFFERENT") — \(result.message) [\(result.method)]",
            "read: \(result.consistency)",
        ] + result.findings(detailed: true)
    }

    /// The end of `cutover migrate`: the summary, each failed table with what stays behind, the
    /// first findings of each failed validation, and where the artifacts are.
    public static func migrated(_ outcome: Jobs.MigrateOutcome) -> [String] {
        var lines = [(outcome.succeeded ? "succeeded: " : "FAILED: ") + Summary.line(outcome)]
        for result in outcome.results where !result.succeeded {
            lines.append("  \(result.source): \(result.status.rawValue): \(result.error ?? "")")
            if let aftermath = result.aftermath { lines.append("    \(aftermath)") }
        }
        for table in outcome.validation?.tables ?? [] where !table.passed {
            for line in table.findings.prefix(6) { lines.append("  \(table.table) \(line)") }
        }
        if outcome.results.contains(where: { $0.rejected > 0 }) {
            lines.append("  rejected rows and reasons: cutover runs show \(outcome.runID)")
        }
        lines.append("run \(outcome.runID) · artifacts: \(outcome.directory)")
        return lines
    }

    /// `cutover validate` (the row compare): counts, where the results are, every finding.
    public static func validated(_ report: ValidationReport, path: String) -> [String] {
        ["\(report.passed) passed, \(report.failed) failed — results: \(path)"]
            + report.tables.filter { !$0.passed }.flatMap { table in table.findings.map { "  \(table.table) \($0)" } }
    }

    /// `cutover runs list`: one line per run, newest first.
    public static func runs(_ runs: [RunRecord]) -> [String] {
        runs.map { run in
            trimmed("\(run.id)  \(pad(run.kind, 8)) \(pad(run.status.rawValue, 12)) \(run.summary ?? run.error ?? "")")
        }
    }

    /// `cutover runs show`: the run, its tables, its chunks by state, rejected rows (at most 50) and its log.
    public static func run(
        _ run: RunRecord, tables: [RunTableRecord], chunks: [ChunkRecord], rejects: [RejectRecord], log: [LogEntry]
    )
        -> [String]
    {
        var lines = ["run \(run.id): \(run.kind), \(run.status.rawValue)", "  started \(run.startedAt), finished \(run.finishedAt ?? "-")"]
        if let source = run.source { lines.append("  source \(source)") }
        if let target = run.target { lines.append("  target \(target)") }
        if let dir = run.artifactsDir { lines.append("  artifacts \(dir)") }
        if let error = run.error { lines.append("  error \(error)") }
        for table in tables { lines.append(trimmed("  \(table.table): \(table.status) \(table.message ?? "")")) }
        if !chunks.isEmpty {
            let byState = Dictionary(grouping: chunks, by: \.state.rawValue).mapValues(\.count)
            lines.append("  chunks: " + byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        if !rejects.isEmpty {
            lines.append("  rejected rows: \(rejects.count)")
            for reject in rejects.prefix(50) { lines.append("    \(reject.table) \(reject.key ?? "(no key)"): \(reject.reason)") }
            if rejects.count > 50 { lines.append("    … \(rejects.count - 50) more in the store's rejects table") }
        }
        for entry in log { lines.append("  \(entry.at) \(entry.level) \(entry.event) \(entry.message)") }
        return lines
    }

    private static func trimmed(_ line: String) -> String { String(line.reversed().drop { $0 == " " }.reversed()) }

    private static func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
}
