import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

/// `cutover watermark show|reset`: the high watermarks incremental migrations load from.
struct WatermarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watermark",
        abstract: "Show or reset the watermarks of incremental migrations (--watermark).",
        discussion: """
            Each table loaded with `cutover migrate --watermark COL` (or a `table_settings` watermark in \
            cutover.yml) keeps, per source and target, the highest \
            COL value of the rows its last finished run loaded; the next run loads from that value (inclusive) up \
            to the source's maximum when it starts. Reset a watermark to make the next run load the whole table.
            """,
        subcommands: [Show.self, Reset.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List stored watermarks.",
            discussion: "Examples:\n  cutover watermark show\n  cutover watermark show --source pg_prod --target snowflake_dw")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only this source (URL or connection name).") var source: String?
        @Option(name: .long, help: "Only this target (URL or connection name).") var target: String?
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            let marks = try await store.watermarks(
                source: try source.map { try config.resolveConnection($0).description },
                target: try target.map { try config.resolveConnection($0).description })
            switch format {
            case .json:
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(marks), as: UTF8.self))
            case .text:
                guard !marks.isEmpty else { return Terminal.say("no watermarks stored (no incremental run has finished a table yet)") }
                for (pair, rows) in Dictionary(grouping: marks, by: { "\($0.source) → \($0.target)" }).sorted(by: { $0.key < $1.key }) {
                    Terminal.say(pair)
                    for mark in rows {
                        Terminal.say(
                            "  \(mark.table).\(mark.column) = \(mark.value ?? "NULL (no value yet)")  (run \(mark.runID ?? "-"), \(mark.updatedAt))")
                    }
                }
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget watermarks so the next incremental run loads every row.",
            discussion: "Example: cutover watermark reset --source pg_prod --target snowflake_dw --table public.orders")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Source URL or connection name.") var source: String
        @Option(name: .long, help: "Target URL or connection name.") var target: String
        @Option(name: .long, help: "Only this table (schema.table as the source names it).") var table: String?
        @Flag(name: .long, help: "Reset every table of the source and target.") var all = false

        func validate() throws {
            if table == nil, !all { throw ValidationError("name a --table, or pass --all to reset every table of this source and target") }
            if table != nil, all { throw ValidationError("--table and --all exclude each other") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            let (sourceURL, targetURL) = (try config.resolveConnection(source), try config.resolveConnection(target))
            let removed = try await store.deleteWatermarks(source: sourceURL.description, target: targetURL.description, table: table)
            guard removed > 0 else {
                let known = try await store.watermarks(source: sourceURL.description, target: targetURL.description).map(\.table)
                throw CutoverError(
                    .usage, "no watermark stored for \(table ?? "any table") from \(sourceURL) to \(targetURL)",
                    hint: known.isEmpty ? "`cutover watermark show` lists the stored ones" : "stored: " + known.joined(separator: ", "))
            }
            Terminal.say("reset \(removed) watermark(s): the next incremental run loads \(table ?? "every table") from the start")
        }
    }
}
