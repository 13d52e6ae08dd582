import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's results as JSON, Markdown, JUnit XML, a self-contained HTML page, an Excel workbook and (--pdf) a PDF.",
        discussion: """
            Works for any run in the metadata store (migrate, validate, diff, rules). Each table or rule shows its \
            status, row counts, message and its results in earlier runs. Exits 1 when the run has failures, so a CI \
            job can publish report.junit.xml and fail on the same command.

            With --baseline RUN, each table is also compared with its result in that run (regression, fixed, \
            new, other row count), and the run's failures are summed up against it.

            Example: cutover report 20261123-091502-3fa9 --out reports/
            Example: cutover report --baseline 20261120-080000-aaaa
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (see `cutover runs list`); default: the latest run.") var id: String?
    @Option(name: .long, help: "Compare with this earlier run.") var baseline: String?
    @Option(name: .long, help: "Directory for the report files (default: the run's artifacts directory).") var out: String?
    @Flag(name: .long, help: "Also print report.pdf (needs Chromium).") var pdf = false

    func run() async throws {
        let store = try await global.openStore(try global.loadConfig())
        let latest = id == nil ? try await store.runs(limit: 1).first?.id : nil
        guard let runID = id ?? latest else {
            throw CutoverError(.usage, "the store has no runs yet", hint: "run `cutover demo` first")
        }
        let report = try await RunReport.build(runID: runID, store: store, baseline: baseline)
        let directory = out ?? report.run.artifactsDir ?? "."
        for path in try report.write(to: directory) { Terminal.say("wrote \(path)") }
        if pdf {
            let path = (directory as NSString).appendingPathComponent("report.pdf")
            do {
                try await PDFPrinter.pdf(html: try report.html).write(to: URL(fileURLWithPath: path))
            } catch let error as CutoverError {
                throw error
            } catch {
                throw CutoverError(.io, "cannot write \(path): \(error.localizedDescription)", hint: "pass --out a writable directory")
            }
            Terminal.say("wrote \(path)")
        }
        Terminal.say(
            "\(report.entries.count - report.failed - report.skipped) of \(report.entries.count) passed"
                + (report.skipped > 0 ? ", \(report.skipped) not run" : "") + " (run \(report.run.status))")
        if let line = report.baselineSummary { Terminal.say(line) }
        for entry in report.entries where entry.change == "regression" { Terminal.say("  regression: \(entry.name) — \(entry.message)") }
        if !report.passed { throw ExitCode.failure }
    }
}
