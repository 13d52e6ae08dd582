import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct CopilotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copilot",
        abstract: "Answer questions from the query library and the store with explained, read-only SQL; explain failed checks.",
        subcommands: [Ask.self, Explain.self, Intents.self, Evaluate.self])

    struct Ask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a question: the query chosen and why, the values filled in, the SQL and its result.",
            discussion: """
                The question is matched (BM25 over names, descriptions and phrasings) against the query library (queries: in \\
                cutover.yml, run read-only on the environment's connection) and built-in questions over the store: runs, rows \\
                moved, failed checks, pass rates, logs, alerts, audit, ingestion health, the latest analysis and workload. \\
                Periods (today, last week, last 7 days, in October, since 2026-11-01), tables, run ids, check names, statuses \\
                and "top N" fill the query's parameters. When no query fits well enough, it says so and lists the closest three.
                It never writes: questions asking to delete, drop, update … are refused.

                Examples:
                  cutover copilot ask "which checks failed last week on orders?"
                  cutover copilot ask "slowest 5 migrations this month" --format json
                  cutover copilot ask "active pipelines" --environment prod
                Exit codes: 0 answered, 1 not answered ("I don't know", or not run), 3 the query failed.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The question, in quotes.") var question: String
        @Option(name: .long, help: "Environment for library queries ({{database}}, {{schema}}, its connection).") var environment: String?
        @Option(name: .long, help: "Connection (name or URL) for library queries when the environment names none.") var connection: String?
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            let copilot = Copilot(config: config, store: store, access: .admin) { sql, connection in
                let url = try config.resolveConnection(connection)
                try await Connectors.refuseStore(url, store: store)
                let connector = try await Connectors.connect(url, role: .source)
                return try await connector.run(RunnerQuery(sql: sql, readOnly: true, maxRows: Copilot.rowLimit, refusePrivilegedRole: false))
            }
            let answer = try await copilot.ask(question, environment: environment, connection: connection)
            if format == .json {
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(answer), as: UTF8.self))
            } else {
                Terminal.say(CopilotRendering.text(answer))
            }
            if !answer.answered || answer.notRun != nil { throw ExitCode(1) }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain failed checks of a validation run, or the pass rate: which columns and rows drove it, and SQL to see them.",
            discussion: """
                cutover copilot explain VALIDATION_RUN [--table T] [--check C]   every result that did not pass (or those named)
                cutover copilot explain --pass-rate [--period "last month"] [--table T]   which tables and checks pulled it down
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A validation run id (runs list, GET /api/v1/validations).") var validationRun: String?
        @Option(name: .long, help: "Only this table's results.") var table: String?
        @Option(name: .long, help: "Only this check's results.") var check: String?
        @Flag(name: .long, help: "Explain the pass rate instead of a run.") var passRate = false
        @Option(name: .long, help: "With --pass-rate: a period in words (today, last week, last 30 days, in October, since 2026-11-01).")
        var period: String?
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let explanations: [Explanation]
            switch (validationRun, passRate) {
            case (let id?, false):
                explanations = try await Explainer.explain(validationRunID: id, table: table, check: check, store: store)
            case (nil, true):
                let slots = period.map { CopilotQuestion($0, vocabulary: CopilotVocabulary(), now: Date()).slots }
                if let period, slots?.period == nil {
                    throw CutoverError(
                        .usage, "--period \(period) is not a period", hint: "e.g. today, last week, last 30 days, in October, since 2026-11-01")
                }
                explanations = [try await Explainer.passRate(period: slots?.period, table: table, store: store)]
            default:
                throw CutoverError(.usage, "name a validation run or --pass-rate (not both)", hint: "cutover copilot explain VALIDATION_RUN")
            }
            if format == .json { return Terminal.say(String(decoding: try JSONEncoder.cli.encode(explanations), as: UTF8.self)) }
            if explanations.isEmpty { return Terminal.say("Every result of \(validationRun ?? "") passed: nothing to explain.") }
            Terminal.say(explanations.map(CopilotRendering.text).joined(separator: "\n\n"))
        }
    }

    struct Intents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the questions the copilot can answer (built-in and the query library).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try global.loadConfig()
            for intent in CopilotIntent.builtIn + CopilotIntent.library(config.queries) {
                let slots = intent.accepts.map(\.rawValue).sorted().joined(separator: ", ")
                Terminal.say(
                    "\(intent.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(intent.title)  [\(slots)]\(intent.access > .viewer ? " (\(intent.access))" : "")"
                )
            }
        }
    }

    struct Evaluate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score the copilot on a file of questions with expected intents and values (top-1 and top-3 accuracy).",
            discussion: "Example: cutover copilot eval bench/copilot-questions.yml   (exit 1 when top-1 is below --target)")
        @Argument(help: "The questions file (YAML: now, vocabulary, queries, questions).") var file: String
        @Option(name: .long, help: "Top-1 accuracy to reach, 0…1.") var target = 0.85
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CutoverError(.usage, "cannot read \(file): \(error.localizedDescription)")
            }
            let report = try CopilotEvaluation(yaml: text).run()
            if format == .json {
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(report), as: UTF8.self))
            } else {
                for miss in report.misses {
                    Terminal.say(
                        "miss: \"\(miss.question)\" expected \(miss.expected), chose \(miss.chosen) (top 3: \(miss.topThree.joined(separator: ", ")))"
                            + (miss.wrongParameters.isEmpty ? "" : "; " + miss.wrongParameters.joined(separator: "; ")))
                }
                Terminal.say(
                    String(
                        format: "%d questions: top-1 %.1f %% (%d), top-3 %.1f %% (%d); target top-1 %.0f %%", report.questions,
                        report.top1Accuracy * 100, report.top1, report.top3Accuracy * 100, report.top3, target * 100))
            }
            if report.top1Accuracy < target { throw ExitCode(1) }
        }
    }
}
