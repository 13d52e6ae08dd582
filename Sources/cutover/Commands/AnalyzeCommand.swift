import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Inventory a source: tables, columns, types, keys, indexes, sizes, row counts.",
        discussion: """
            Writes analysis_report.json into the run directory and prints a summary.

            Sources: postgres://user:pass@host:5432/db, sqlite:FILE, snowflake://user@account/DB/SCHEMA,
            sqlserver://user:pass@host:1433/db?schema=dbo (needs FreeTDS's libsybdb) or sqlserver-export:FOLDER
            (the output of `cutover sqlserver extract-script`), or the name of a connection in cutover.yml.

            Example: cutover analyze --source postgres://app@localhost:5432/shop --schema public
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "Directory for run artifacts (a run folder is created inside).") var out: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Reuse the catalog the store cached for this source and scope when younger than this (15m, 6h, 1d).",
            discussion: "Default: always read the source (and refresh the cache)."), transform: Age.parsing("--metadata-max-age"))
    var metadataMaxAge: TimeInterval?
    @Option(name: .long, help: "A workload export (repeatable, as `workload import` reads them): rank the tables by it and name the unused ones.")
    var workload: [String] = []

    func run() async throws {
        let config = try global.loadConfig()
        let url = try config.resolveConnection(source)
        var reader = WorkloadReader()
        for file in workload { try await reader.read(path: file) }
        let outcome = try await global.jobs(config, artifactsRoot: out).analyze(
            source: url, scope: scope.scope,
            metadataMaxAge: metadataMaxAge,
            workload: workload.isEmpty ? nil : reader.summary)
        Terminal.say(outcome.report.summary)
        Terminal.say("\nreport: \(outcome.reportPath)")
    }
}
