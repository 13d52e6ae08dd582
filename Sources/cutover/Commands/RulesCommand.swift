import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Business rules (\"decisions\"): SQL that must return zero rows, on the source and/or target.",
        subcommands: [Run.self, List.self, History.self, Registry.self], defaultSubcommand: Run.self)

    struct Registry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The imported rulebook registry (expectations per suite), or one suite as a pipeline.",
            discussion: """
                `cutover store import` brings in a rulebook_registry.json; each entry is kept whole with the Cutover \
                check that does its job (null_rate, uniqueness, allowed_values, value_range, string_length, pattern, \
                row_count), or none. With --pipeline, the suite's entries become a pipeline file on --table; entries no \
                check does are named in a comment at its top.

                Example: cutover rules registry --suite product_suite
                Example: cutover rules registry --suite product_suite --pipeline --table public.products > products.yml
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only this suite.") var suite: String?
        @Flag(name: .long, help: "Print the suite as a pipeline file (needs --suite and --table).") var pipeline = false
        @Option(name: .long, help: "The table the pipeline's steps check.") var table: String?

        func validate() throws {
            if pipeline, suite == nil || table == nil { throw ValidationError("--pipeline needs --suite and --table") }
        }

        func run() async throws {
            let entries = try await global.openStore(try global.loadConfig()).registryRules(suite: suite)
            guard !entries.isEmpty else {
                throw CutoverError(
                    .usage, suite.map { "the registry has no suite \($0)" } ?? "the registry is empty",
                    hint: "import a rulebook_registry.json with `cutover store import`")
            }
            if pipeline, let suite, let table {
                Terminal.write(try RulebookRegistry.pipeline(suite: suite, table: table, entries), to: .standardOutput)
                return
            }
            for entry in entries {
                Terminal.say(
                    "\(entry.suite)  \(entry.expectationType)  \(entry.check.map { "→ " + $0 } ?? "(no Cutover check)")  "
                        + "added \(entry.addedOn ?? "-")  \(entry.ruleHash.prefix(12)): \(entry.definition)")
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every version of one rule, newest first.", discussion: "Example: cutover rules history no_negative_totals")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Rule name.") var name: String

        func run() async throws {
            let versions = try await global.openStore(try global.loadConfig()).ruleVersions(name: name)
            guard !versions.isEmpty else { throw CutoverError(.usage, "no rule named \(name)", hint: "`cutover rules list` shows the rulebook") }
            for rule in versions {
                Terminal.say(
                    "v\(rule.version) \(rule.contentHash.prefix(12)) \(rule.updatedAt ?? "-") \(rule.updatedBy ?? rule.createdBy ?? "command line") "
                        + "[\(rule.severity), \(rule.side)\(rule.category.map { ", " + $0 } ?? "")]: \(rule.sql.replacingOccurrences(of: "\n", with: " "))"
                )
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a rule file and show the offending rows of each rule.",
            discussion: """
                A rule file lists rules: name, sql (may use {{database}}, {{schema}}, {{environment}} from the \
                environments in cutover.yml), severity (error | warn), warn_if / error_if thresholds on the number of \
                offending rows (default "!= 0"), side (source | target | both; default target) and an optional category. \
                Rules are stored in the metadata store's rulebook by name: a changed rule becomes its next version \
                (`cutover rules history NAME`). Exits 1 when an error-severity rule fails.

                Example rule file:
                  rules:
                    - name: unique_customer_email
                      sql: SELECT email, count(*) AS n FROM {{schema}}.customers GROUP BY email HAVING count(*) > 1
                    - name: no_negative_totals
                      severity: warn
                      side: both
                      sql: SELECT id, total FROM {{schema}}.invoices WHERE total < 0

                Example: cutover rules run --file rules.yml --target warehouse --env PROD
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "The rule file (YAML).") var file: String
        @Option(name: .long, help: "Source URL or connection name.") var source: String?
        @Option(name: .long, help: "Target URL or connection name.") var target: String?
        @Option(name: .long, help: "Environment from cutover.yml for {{database}}/{{schema}} (default: default_environment).") var env: String?
        @Option(name: .long, help: "Directory for run artifacts.") var out: String?

        func validate() throws {
            guard source != nil || target != nil else { throw ValidationError("pass --source and/or --target") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let rules = try Rulebook.load(path: file)
            let jobs = try await global.jobs(config, artifactsRoot: out)
            let outcome = try await jobs.runRules(
                rules, source: try source.map { try config.resolveConnection($0) }, target: try target.map { try config.resolveConnection($0) },
                config: config, environment: env)
            for result in outcome.results {
                let mark =
                    switch result.status {
                    case .passed: "✓";
                    case .warning: "!";
                    default: "✗"
                    }
                Terminal.say("\(mark) \(result.rule) [\(result.side), \(result.severity)]: \(result.status) — \(result.message)")
                for row in result.sample {
                    Terminal.say("    " + row.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                }
            }
            let failed = outcome.results.filter { $0.status == .failed }.count
            Terminal.say(
                "\(outcome.results.count - failed)/\(outcome.results.count) checks without errors; \(outcome.newRules) rule(s) added or changed in the rulebook · run \(outcome.runID)"
            )
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The rules stored in the rulebook.", discussion: "Example: cutover rules list")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            for rule in try await global.openStore(try global.loadConfig()).rules() {
                Terminal.say(
                    "\(rule.name) v\(rule.version) [\(rule.severity), \(rule.side)\(rule.category.map { ", " + $0 } ?? "")] \(rule.contentHash.prefix(12)): "
                        + rule.sql.replacingOccurrences(of: "\n", with: " "))
            }
        }
    }
}
