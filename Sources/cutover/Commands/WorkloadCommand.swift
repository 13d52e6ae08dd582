import ArgumentParser
import CutoverCore
import CutoverEngine
import Foundation

struct WorkloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "What the source's workload uses: tables by time and executions, join pairs, filtered and grouped columns.",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read workload exports and rank what they use (kept in the store as the run's workload.json).",
            discussion: """
                Reads SQL Server Query Store exports (CSV or JSON with query_sql_text, count_executions, avg_duration in µs or \\
                total_duration), PostgreSQL pg_stat_statements as CSV (query, calls, total_exec_time or total_time in ms) and \\
                Snowflake QUERY_HISTORY as CSV (QUERY_TEXT, TOTAL_ELAPSED_TIME in ms, one row per execution). Each statement \\
                is read by a recovering SQL reader (T-SQL brackets and #temp tables, CTEs, subqueries, aliases, implicit \\
                joins): its tables, the column pairs it joins on, the columns it filters, groups and aggregates by.

                Example: cutover workload import querystore.json pg_stat_statements.csv --top 10
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Workload export files.") var files: [String] = []
        @Option(name: .long, help: "Read a PostgreSQL database's pg_stat_statements live (a URL or connection name; repeatable).") var from:
            [String] = []
        @Option(name: .long, help: "How many tables, joins and columns to list.") var top = 20
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            guard !files.isEmpty || !from.isEmpty else {
                throw CutoverError(.usage, "name a workload file or a database", hint: "cutover workload import FILE… or --from postgres://…")
            }
            let config = try global.loadConfig()
            let jobs = try await global.jobs(config, artifactsRoot: nil, progress: format == .text)
            let (summary, runID) = try await jobs.importWorkload(paths: files, live: try from.map { try config.resolveConnection($0) })
            if format == .json { return Terminal.say(String(decoding: try JSONEncoder.cli.encode(summary), as: UTF8.self)) }
            Terminal.say(
                "\(summary.statements) statement(s) from \(summary.formats.joined(separator: ", ")): \(Format.count(summary.executions)) execution(s), "
                    + "\(Format.span(summary.milliseconds / 1000)) in all; \(summary.withoutTables) without a table — run \(runID)")
            Terminal.say("\nTables by time:")
            for table in summary.tables.prefix(top) {
                Terminal.say(
                    "  \(table.table)  \(String(format: "%.1f", table.timeShare))% of the time, \(Format.count(table.executions)) execution(s), \(table.statements) statement(s)"
                )
            }
            if !summary.joins.isEmpty {
                Terminal.say("\nJoin pairs:")
                for join in summary.joins.prefix(top) {
                    Terminal.say("  \(join.left) = \(join.right)  \(Format.count(join.executions)) execution(s)")
                }
            }
            if !summary.columns.isEmpty {
                Terminal.say("\nColumns:")
                for column in summary.columns.prefix(top) {
                    let uses = [
                        ("filtered", column.filtered), ("grouped", column.grouped), ("joined", column.joined), ("aggregated", column.aggregated),
                    ]
                    .filter { $0.1 > 0 }.map { "\($0.0) \(Format.count($0.1))" }
                    Terminal.say("  \(column.column)  " + uses.joined(separator: ", "))
                }
            }
            if !summary.tempTables.isEmpty { Terminal.say("\nTemp tables (not migrated): " + summary.tempTables.joined(separator: ", ")) }
        }
    }
}
