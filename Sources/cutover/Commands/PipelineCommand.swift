import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Validation pipelines: suggest one for a source and target; list the checks a pipeline can use.",
        subcommands: [Suggest.self, Checks.self], defaultSubcommand: Suggest.self)

    struct Checks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The checks a pipeline step can name, by category, with the fields each reads (* required).",
            discussion:
                "Every step also takes table, target_table, side (source, target, both) and severity (error, warn).\n\nExample: cutover pipeline checks --format json"
        )
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let catalogue = CheckRegistry.catalogue
            if format == .json { return Terminal.say(String(decoding: try JSONEncoder.cli.encode(catalogue), as: UTF8.self)) }
            var category = ""
            for check in catalogue {
                if check.category != category {
                    category = check.category
                    Terminal.say("\n\(category)")
                }
                Terminal.say("  \(check.name): \(check.summary)")
                for parameter in check.parameters {
                    Terminal.say(
                        "      \(parameter.name)\(parameter.required ? "*" : "") (\(parameter.kind.rawValue)): \(parameter.description)"
                            + (parameter.choices.map { " — " + $0.joined(separator: ", ") } ?? ""))
                }
            }
        }
    }

    struct Suggest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a validation pipeline for every mapped table, with the checks that fit it.",
            discussion: """
                Reads the source's catalog and decides, for each table, whether it is a fact (not referenced, \
                points at other tables or is dated, has numeric measures), a dimension (referenced by others), a \
                bridge (links tables, no measures) or a plain table; finds surrogate keys (an integer primary key) \
                and business keys (unique keys, or a NOT NULL code/email/number column of a dimension); and finds \
                relationships (foreign keys, and integer columns named after another table's key). Each table gets \
                schema checks, row_count and row_diff (a 1% sampled_diff above 5,000,000 rows), uniqueness of its \
                business key, fk_orphans for each relationship, and for facts dimension_conformance, \
                column_aggregates, quantiles, group_metrics and rolling_drift. Checks on guessed keys and \
                relationships run with severity warn. Review the file, then run it with \
                `cutover validate --pipeline FILE`.

                Example: cutover pipeline suggest --source sqlite:chinook.db --target postgres://app@db/chinook --out checks.yml
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Source URL or connection name.") var source: String
        @Option(name: .long, help: "Target URL or connection name.") var target: String
        @Option(name: .long, help: "Put every table into this target schema.") var targetSchema: String?
        @OptionGroup var scope: ScopeOptions
        @Option(name: .long, help: "Where to write the pipeline.") var out = "pipeline.yml"
        @Flag(name: .long, help: "Overwrite an existing file.") var force = false
        @Option(
            name: .long,
            help: ArgumentHelp(
                "A workload export (repeatable): adds checks where its statements look.",
                discussion: "Join keys → fk_orphans; grouped columns → group_metrics; filtered dates → date_gaps (see `cutover workload import`)."))
        var workload: [String] = []

        func run() async throws {
            let config = try global.loadConfig()
            if FileManager.default.fileExists(atPath: out), !force {
                throw CutoverError(.usage, "\(out) exists", hint: "pass --force to overwrite it, or --out another file")
            }
            var reader = WorkloadReader()
            for file in workload { try await reader.read(path: file) }
            let jobs = try await global.jobs(config, artifactsRoot: nil)
            let outcome = try await jobs.suggestPipeline(
                source: try config.resolveConnection(source), target: try config.resolveConnection(target), scope: scope.scope, config: config,
                targetSchema: targetSchema, workload: workload.isEmpty ? nil : reader.summary)
            try outcome.yaml.write(toFile: out, atomically: true, encoding: .utf8)
            for profile in outcome.profiles {
                Terminal.say("\(profile.table): \(profile.role) — " + profile.reasons.joined(separator: "; "))
            }
            let steps = try Pipeline.parse(outcome.yaml, name: "suggested").steps.count
            Terminal.say(
                "\(steps) steps for \(outcome.profiles.count) tables written to \(out); run them with: cutover validate --source … --target … --pipeline \(out)"
            )
        }
    }
}
