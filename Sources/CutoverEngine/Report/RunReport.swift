import CutoverCore
import CutoverStore
import Foundation

/// A run's results as reports: JSON, Markdown, JUnit XML (for CI systems) and one self-contained
/// HTML page with an SVG chart. Built from the metadata store, so any past run can be reported.
public struct RunReport: Sendable, Codable {
    /// One table's (or step's) line in a report, with its history.
    public struct Entry: Sendable, Codable {
        public var name: String
        public var status: String
        public var sourceRows: Int64?
        public var targetRows: Int64?
        public var message: String
        /// Earlier results of the same table or rule, newest first (this run excluded).
        public var history: [String]
        /// The same table's result in the baseline run, when one was given ("absent" if it had none).
        public var baselineStatus: String?
        public var baselineTargetRows: Int64?

        /// How this entry moved against the baseline: regression, fixed, new, rows changed, or nil.
        public var change: String? {
            guard let was = baselineStatus else { return nil }
            if was == "absent" { return "new" }
            let good = ["passed", "moved", "succeeded", "warning"]
            if good.contains(was), status == "failed" { return "regression" }
            if was == "failed", good.contains(status) { return "fixed" }
            if let before = baselineTargetRows, let now = targetRows, before != now { return "rows \(Format.count(before)) → \(Format.count(now))" }
            return nil
        }
    }

    public var run: RunRecord
    public var generatedAt: String
    public var entries: [Entry]
    /// The run compared with (`--baseline`), and the tables it had that this run has not.
    public var baseline: String?
    public var onlyInBaseline: [String] = []

    public var failed: Int { entries.filter { $0.status == "failed" }.count }
    /// Steps that did not run (a cancelled pipeline): not passed, and not failed either.
    public var skipped: Int { entries.filter { ["cancelled", "skipped", "interrupted"].contains($0.status) }.count }
    /// Only a run that finished with nothing failed and nothing left out passed: a cancelled or
    /// interrupted run is never green in CI.
    public var passed: Bool { failed == 0 && skipped == 0 && !(run.status.isActive || run.status.isResumable) }
    public var regressions: Int { entries.filter { $0.change == "regression" }.count }

    public static func build(runID: String, store: any MetadataStore, baseline: String? = nil, historyDepth: Int = 10) async throws -> RunReport {
        guard let run = try await store.run(id: runID) else {
            if let validation = try await store.validationRun(id: runID) {
                return try await build(validation: validation, store: store)
            }
            throw CutoverError(
                .usage, "no run with id \(runID)",
                hint: "`cutover runs list` shows the ids (imported validation runs: `cutover store overview`, GET /api/v1/validations)")
        }
        var before: [String: RunTableRecord] = [:]
        if let baseline {
            guard try await store.run(id: baseline) != nil else {
                throw CutoverError(.usage, "no baseline run with id \(baseline)", hint: "`cutover runs list` shows the ids")
            }
            for table in try await store.tables(runID: baseline) { before[table.table] = table }
        }
        var entries: [Entry] = []
        for table in try await store.tables(runID: runID) {
            let history = try await store.tableHistory(table: table.table, limit: historyDepth + 1).filter { $0.runID != runID }
            var entry = Entry(
                name: table.table, status: table.status, sourceRows: table.sourceRows, targetRows: table.targetRows,
                message: table.message ?? "", history: history.prefix(historyDepth).map(\.status))
            if baseline != nil {
                entry.baselineStatus = before[table.table]?.status ?? "absent"
                entry.baselineTargetRows = before[table.table]?.targetRows
            }
            entries.append(entry)
        }
        // A run imported from its folder has no per-table records, but its validation results came with it.
        if entries.isEmpty, baseline == nil, try await store.validationRun(id: runID) != nil {
            entries = try await validationEntries(runID: runID, store: store)
        }
        entries.sort { naturallyBefore($0.name, $1.name) }
        var report = RunReport(run: run, generatedAt: ISOTime.now(), entries: entries, baseline: baseline)
        report.onlyInBaseline = before.keys.filter { name in !entries.contains { $0.name == name } }.sorted()
        return report
    }

    /// A validation run that has no run record (imported from another tool's files): one entry per
    /// stored result, in step order.
    static func build(validation: ValidationRunRecord, store: any MetadataStore) async throws -> RunReport {
        // A validation run ends passed, warning or failed; as a run it succeeded unless it failed.
        let status: RunStatus = validation.status == "failed" ? .failed : .succeeded
        let run = RunRecord(
            id: validation.id, kind: validation.suite, status: status, source: validation.source, target: validation.target,
            startedAt: validation.startedAt, finishedAt: validation.finishedAt,
            summary: "\(validation.passed) passed, \(validation.failed) failed, \(validation.warned) warned (\(validation.origin))")
        var entries = try await validationEntries(runID: validation.id, store: store)
        entries.sort { naturallyBefore($0.name, $1.name) }
        return RunReport(run: run, generatedAt: ISOTime.now(), entries: entries, baseline: nil)
    }

    /// One entry per stored validation result of a run, in step order.
    static func validationEntries(runID: String, store: any MetadataStore) async throws -> [Entry] {
        try await store.validationResults(runID: runID).enumerated().map { index, result in
            Entry(
                name: "\(result.step ?? index + 1):\(result.check)" + (result.table.map { " " + $0 } ?? ""), status: result.status,
                sourceRows: result.sourceRows, targetRows: result.targetRows, message: result.message ?? "", history: [])
        }
    }

    /// One line comparing with the baseline, or nil without one.
    public var baselineSummary: String? {
        guard let baseline else { return nil }
        let fixed = entries.filter { $0.change == "fixed" }.count, new = entries.filter { $0.change == "new" }.count
        let rows = entries.filter { $0.change?.hasPrefix("rows") == true }.count
        return "against baseline \(baseline): \(regressions) regression(s), \(fixed) fixed, \(new) new, \(rows) with other row counts"
            + (onlyInBaseline.isEmpty ? "" : ", \(onlyInBaseline.count) only in the baseline (\(onlyInBaseline.prefix(5).joined(separator: ", ")))")
    }

    public var markdown: String {
        var text = "# Cutover report — run \(run.id)\n\n- kind: \(run.kind)\n- status: **\(run.status)**\n"
        if let source = run.source { text += "- source: \(source)\n" }
        if let target = run.target { text += "- target: \(target)\n" }
        text += "- started: \(run.startedAt)\n"
        if let line = baselineSummary { text += "- \(line)\n" }
        text +=
            "\n| | name | status | source rows | target rows | message | history (newest first) |" + (baseline == nil ? "" : " vs baseline |")
            + "\n|---|---|---|---:|---:|---|---|" + (baseline == nil ? "" : "---|") + "\n"
        for e in entries {
            text +=
                "| \(Self.mark(e.status)) | \(e.name) | \(e.status) | \(e.sourceRows.map(Format.count) ?? "") | \(e.targetRows.map(Format.count) ?? "") | "
                + e.message.replacingOccurrences(of: "|", with: "\\|") + " | " + e.history.map(Self.mark).joined() + " |"
                + (baseline == nil ? "" : " \(e.change ?? "same") (was \(e.baselineStatus ?? "-")) |") + "\n"
        }
        return text
    }

    public var junit: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"cutover\" tests=\"\(entries.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
        xml +=
            "  <testsuite name=\"\(Self.xml(run.kind)) \(Self.xml(run.id))\" tests=\"\(entries.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" timestamp=\"\(Self.xml(run.startedAt))\">\n"
        for e in entries {
            xml += "    <testcase classname=\"cutover.\(Self.xml(run.kind))\" name=\"\(Self.xml(e.name))\">"
            if e.status == "failed" {
                xml += "<failure message=\"\(Self.xml(e.message))\">\(Self.xml(e.message))</failure>"
            } else if ["cancelled", "skipped", "interrupted"].contains(e.status) {
                xml += "<skipped message=\"\(Self.xml(e.message))\"/>"
            } else if e.status == "warning" {
                xml += "<system-out>warning: \(Self.xml(e.message))</system-out>"
            }
            xml += "</testcase>\n"
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }

    /// One page, no external files or scripts: inline CSS and an SVG bar chart of rows per table.
    public var html: String {
        get throws { try HTMLTemplates.render("run-report", page) }
    }

    /// What report.html shows, ready for its template.
    struct Page {
        struct Bar {
            var x: Int, y: Int, width: Int, height: Int
            var fill: String
            var labelX: Int, labelY: Int
            var label: String
        }
        struct ChartRow {
            var name: String
            var textY: Int
            var bars: [Bar]
        }
        struct Chart {
            var width: Int, height: Int
            var rows: [ChartRow]
        }
        struct Row {
            var status: String, mark: String, name: String, sourceRows: String, targetRows: String, message: String, history: String
            var vsBaseline: String?
        }
        var id: String, kind: String, status: String, startedAt: String, source: String, target: String, generatedAt: String
        var passedCount: Int, total: Int
        var baselineSummary: String?
        var hasBaseline: Bool
        var chart: Chart
        var rows: [Row]
    }

    var page: Page {
        let maxRows = max(1, entries.map { max($0.sourceRows ?? 0, $0.targetRows ?? 0) }.max() ?? 1)
        let barHeight = 22, labelWidth = 220, chartWidth = 520
        let chartRows = entries.enumerated().map { i, e in
            let y = i * barHeight * 2 + 10
            let bars = [e.sourceRows ?? 0, e.targetRows ?? 0].enumerated().map { j, value in
                let width = max(1, Int(Double(value) / Double(maxRows) * Double(chartWidth)))
                return Page.Bar(
                    x: labelWidth, y: y + j * (barHeight - 4), width: width, height: barHeight - 6,
                    fill: j == 0 ? "#7aa6d8" : (e.status == "failed" ? "#d9534f" : "#5cb85c"), labelX: labelWidth + width + 6,
                    labelY: y + j * (barHeight - 4) + 12, label: Format.count(value))
            }
            return Page.ChartRow(name: e.name, textY: y + 15, bars: bars)
        }
        let rows = entries.map { e in
            Page.Row(
                status: e.status, mark: Self.mark(e.status), name: e.name, sourceRows: e.sourceRows.map(Format.count) ?? "",
                targetRows: e.targetRows.map(Format.count) ?? "", message: e.message, history: e.history.map(Self.mark).joined(),
                vsBaseline: baseline == nil ? nil : "\(e.change ?? "same") (was \(e.baselineStatus ?? "-"))")
        }
        return Page(
            id: run.id, kind: run.kind, status: run.status.rawValue, startedAt: run.startedAt, source: run.source ?? "-", target: run.target ?? "-",
            generatedAt: generatedAt, passedCount: entries.count - failed, total: entries.count, baselineSummary: baselineSummary,
            hasBaseline: baseline != nil,
            chart: Page.Chart(width: labelWidth + chartWidth + 90, height: entries.count * barHeight * 2 + 30, rows: chartRows), rows: rows)
    }

    /// Writes report.json, report.md, report.junit.xml, report.html and report.xlsx; returns the paths.
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let files = [
            ("report.json", String(decoding: try encoder.encode(self), as: UTF8.self)),
            ("report.md", markdown), ("report.junit.xml", junit), ("report.html", try html),
        ]
        let paths = try files.map { name, content in
            let path = (directory as NSString).appendingPathComponent(name)
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let workbook = (directory as NSString).appendingPathComponent("report.xlsx")
        try redactedWorkbook.data().write(to: URL(fileURLWithPath: workbook))
        return paths + [workbook]
    }

    /// The workbook. Its cells come from the store, where connections are kept masked.
    public var redactedWorkbook: Spreadsheet { workbook }

    /// `2:x` before `10:x` (steps by number), otherwise as text.
    static func naturallyBefore(_ a: String, _ b: String) -> Bool {
        let na = Int(a.prefix { $0.isNumber }), nb = Int(b.prefix { $0.isNumber })
        if let na, let nb, na != nb { return na < nb }
        return a < b
    }

    static func mark(_ status: String) -> String {
        switch status {
        case "passed", "moved", "succeeded": "✓"
        case "warning": "!"
        case "failed": "✗"
        case "cancelled", "skipped", "interrupted": "–"
        default: "·"
        }
    }

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
