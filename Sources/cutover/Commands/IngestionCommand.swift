import ArgumentParser
import CutoverCore
import CutoverEngine
import Foundation

struct IngestionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingestion",
        abstract: "The health of the pipelines that feed the warehouse, read from their metadata tables.",
        discussion: """
            Reads the table named by ingestion.pipelines in cutover.yml (one row per pipeline, like the demo's \
            metadata_config_table_elt) and, when ingestion.history names one, the load history (one row per load). For each \
            active pipeline: how long ago its table was last loaded against its expected frequency (a frequency column, or \
            ingestion.expected_every; beyond sla_factor × the frequency the SLA is breached), whether its last load failed, \
            and whether its last load's row count is far from the median of the 20 before it (robust deviations: \
            |rows − median| / (1.4826 × MAD)). The alert conditions ingestion_stale, ingestion_failed and row_count_anomaly \
            watch the same figures.
            """,
        subcommands: [Health.self])

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freshness, failures and volume anomalies per pipeline; exit 1 when any pipeline has a problem.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            let health = try await IngestionReader.open(config: config, store: store).health()
            if format == .json {
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(health), as: UTF8.self))
            } else {
                Terminal.say("ingestion health of \(health.source) at \(health.checkedAt)")
                for pipeline in health.pipelines {
                    var line = "  \(pipeline.freshness.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(pipeline.name)"
                    if let lag = pipeline.lagSeconds {
                        line += "  loaded \(Format.span(lag)) ago (every \(Format.span(pipeline.expectedEverySeconds)))"
                    }
                    if let rows = pipeline.lastRows { line += "  \(rows) rows" }
                    if !pipeline.problems.isEmpty { line += "\n            " + pipeline.problems.joined(separator: "; ") }
                    Terminal.say(line)
                }
                let active = health.pipelines.filter(\.active).count
                Terminal.say("\(active) active pipeline(s), \(health.unhealthy.count) with problems")
            }
            if !health.unhealthy.isEmpty { throw ExitCode.failure }
        }
    }
}
