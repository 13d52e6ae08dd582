import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole job on built-in sample data: analyze, plan, migrate, validate.",
        discussion: """
            Generates four deterministic sample tables (a TPC-DS call_center, sample_data with awkward values, \
            two years of daily_metrics, and metadata_config_table_elt) in an embedded SQLite file, migrates them \
            into a second SQLite file and proves every row arrived intact. Nothing to install.

            Example: cutover demo --dir /tmp/cutover-demo
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Directory for the demo's databases.") var dir = ".cutover/demo"
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let jobs = try await global.jobs(try global.loadConfig(), artifactsRoot: out)
        let outcome = try await Demo(directory: dir, jobs: jobs).run()
        Terminal.say("")
        for result in outcome.migration.results {
            let check = outcome.migration.validation?.tables.first { $0.table == result.source }
            Terminal.say(
                "  " + result.source.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + Format.leftPad(Format.count(result.rows), 8) + " rows  "
                    + (check.map { $0.passed ? "✓ \($0.message)" : "✗ \($0.message)" } ?? (result.error ?? "")))
        }
        Terminal.say("")
        Terminal.say(
            (outcome.migration.succeeded ? "Demo succeeded" : "Demo FAILED")
                + " in \(Format.duration(outcome.seconds)): \(Summary.line(outcome.migration))")
        Terminal.say("Artifacts: \(outcome.migration.directory)")
        Terminal.say("  analysis_report.json  mapping_decisions.yml  target_objects.sql  improvement_recommendations.md")
        Terminal.say("  validation_results.json  summary.md  run_log.ndjson")
        Terminal.say("Databases: \(outcome.sourcePath) → \(outcome.targetPath)")
        Terminal.say("Next: cutover analyze --source sqlite:\(outcome.sourcePath)   ·   cutover runs list")
        if !outcome.migration.succeeded { throw ExitCode.failure }
    }
}
