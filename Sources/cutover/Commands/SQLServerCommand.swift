import ArgumentParser
import CutoverCore
import CutoverSQLServer
import Foundation

struct SQLServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqlserver",
        abstract: "SQL Server as a source without a network path to it: a script a DBA runs, whose output analyze, plan and validate read.",
        subcommands: [ExtractScript.self])

    struct ExtractScript: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "extract-script",
            abstract: "Print the T-SQL that exports a SQL Server database's catalog, row counts and sizes as one JSON document.",
            discussion: """
                The script only reads (catalog views and sys.dm_db_partition_stats; SQL Server 2016 or later). A DBA runs it:
                  cutover sqlserver extract-script --schema dbo > cutover-extract.sql
                  sqlcmd -S SERVER -d DATABASE -E -y 0 -h -1 -i cutover-extract.sql -o cutover-export.json
                and hands over cutover-export.json, which is read as a source:
                  cutover analyze --source sqlserver-export:cutover-export.json
                  cutover plan --source sqlserver-export:cutover-export.json --target-dialect snowflake
                To validate a target without reading SQL Server's rows, a second script computes exact row counts and, per \
                integer, decimal or money column, the count of values, sum, min and max (one scan per table); on SQL Server \
                2019 or later (as the export says) also the portable checksum of every row in up to 1,024 key buckets per \
                table with a single integer key, so validate names the keys of rows that differ (a second scan):
                  cutover sqlserver extract-script --aggregates-for cutover-export.json > cutover-aggregates.sql
                  sqlcmd … -i cutover-aggregates.sql -o cutover-aggregates.json   (next to cutover-export.json, in FOLDER)
                  cutover validate --source sqlserver-export:FOLDER --target snowflake://…
                Every SQL Server type is mapped with a rationale (tinyint, money, datetime's 1/300 s, datetime2(7), \
                datetimeoffset, nvarchar's UTF-16 lengths, uniqueidentifier, xml, sql_variant, hierarchyid, spatial types, \
                rowversion, computed and sparse columns, case- and accent-insensitive collations). Moving rows and comparing \
                them need a live connection (--source sqlserver://user:password@host:1433/database?schema=dbo, through \
                FreeTDS), which runs this same catalog query itself.
                """)
        @Option(name: .long, help: "Schema to include (repeatable). Default: every user schema.") var schema: [String] = []
        @Option(name: .long, help: "Comma-separated tables to include (name or schema.name). Default: all.") var tables: String?
        @Option(name: .long, help: "Write the script to this file instead of standard output.") var out: String?
        @Option(
            name: .long,
            help: ArgumentHelp(
                "The second script, from an export (FILE or sqlserver-export:FILE): exact row counts, numeric column aggregates and (SQL Server 2019+) row checksums by key bucket, for validate.",
                valueName: "export"))
        var aggregatesFor: String?

        func run() async throws {
            let names = tables.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
            let script: String
            if let aggregatesFor {
                let url = try ConnectionURL(
                    parsing: aggregatesFor.hasPrefix("sqlserver-export:") ? aggregatesFor : "sqlserver-export:" + aggregatesFor)
                let catalog = try await SQLServerExportConnector(url: url).catalog(Scope(schemas: schema, tables: names))
                script = SQLServerExtractScript.aggregates(of: catalog)
            } else {
                script = SQLServerExtractScript.text(schemas: schema, tables: names)
            }
            guard let out else { return Terminal.say(script) }
            do {
                try script.write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw CutoverError(.io, "cannot write \(out): \(error.localizedDescription)")
            }
            Terminal.say("wrote \(out): run it with sqlcmd -S SERVER -d DATABASE -E -y 0 -h -1 -i \(out) -o cutover-export.json")
        }
    }
}
