import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare a source with its target: every row by key, or a pipeline of checks.",
        discussion: """
            Rows are read from both engines sorted by key, normalised to one canonical form per type (so 1.50 = 1.5 \
            and time zones agree) and compared by hash; differing rows are listed with their columns. Tables without \
            a key are compared as multisets. Writes validation_results.json. Exits 1 when any table differs.

            With --pipeline FILE, runs the steps of a pipeline file instead (see the README) and writes \
            pipeline_results.json; exits 1 when an error-severity step fails. --tolerance applies to its row_diff \
            steps, --env fills {{database}}/{{schema}} in its custom_sql steps. `cutover runs cancel ID` \
            stops a pipeline run: running steps finish, the others are reported as not run.

            Example: cutover validate --source sqlite:chinook.db --target postgres://app@localhost/chinook
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "Target URL or connection name.") var target: String
    @Option(name: .long, help: "The target schema the tables were migrated into.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(
        name: .long,
        help: ArgumentHelp(
            "[TABLE.]COLUMN=RULE: what may differ and still be equal (repeatable; * for every column).",
            discussion: "RULE: a number (absolute epsilon), s / ms / us or digits=N (timestamp precision), empty-null, case; combine with +."))
    var tolerance: [String] = []
    @Flag(name: .long, help: "Count differences a tolerance hid as changed rows (they are reported either way).") var strict = false
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run the checks of a pipeline file instead of the row compare.",
            discussion: "Checks: " + CheckRegistry.names.joined(separator: ", ")))
    var pipeline: String?
    @Option(name: .long, help: "Environment from cutover.yml for {{database}}/{{schema}} in a pipeline's custom_sql (default: default_environment).")
    var env: String?
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let config = try global.loadConfig()
        if let pipeline {
            let jobs = try await global.jobs(config, artifactsRoot: out)
            let outcome = try await jobs.runPipeline(
                try Pipeline.load(path: pipeline), source: try config.resolveConnection(source), target: try config.resolveConnection(target),
                config: config, targetSchema: targetSchema, environment: env ?? config.defaultEnvironment,
                tolerances: try Tolerances.parse(tolerance, strict: strict))
            let failed = outcome.results.filter { $0.status == .failed }.count
            let skipped = outcome.results.filter { $0.status == .cancelled }.count
            Terminal.say(
                "\(outcome.results.count - failed - skipped) of \(outcome.results.count) steps without errors"
                    + (skipped > 0 ? ", \(skipped) not run (cancelled)" : "") + " — results: \(outcome.path)")
            if failed > 0 || skipped > 0 { throw ExitCode.failure }
            return
        }
        let (report, path) = try await global.jobs(config, artifactsRoot: out).validate(
            source: try config.resolveConnection(source), target: try config.resolveConnection(target), scope: scope.scope, config: config,
            targetSchema: targetSchema, tolerances: try Tolerances.parse(tolerance, strict: strict))
        TerminalText.validated(report, path: path).forEach(Terminal.say)
        if !report.allPassed { throw ExitCode.failure }
    }
}
