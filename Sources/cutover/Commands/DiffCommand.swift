import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare one table on two engines row by row and list what differs.",
        discussion: """
            Both sides are read sorted by the key, every value is normalised to one canonical form for its type \
            (the source column's), and rows are compared by hash; missing, extra and changed rows are listed, changed \
            ones with the differing columns, both canonical values and SQL that fetches the row on each side. Samples \
            are capped at 20 per kind (the counts are exact). A table without a key is compared as a multiset.
            Exits 1 when the tables differ.

            Strategies: merge streams both sides (exact, bounded memory, any engines). bisect computes a checksum \
            per key range inside each database, splits differing ranges again and streams only the small ones \
            (or all differing ranges of a level where differences are dense). It needs a single integer key, and \
            every column either of the same type on one engine, or in a form both engines compute alike (numbers, \
            text, booleans, dates, times, timestamps, bytes, UUIDs; floats as their bits and JSON as PostgreSQL's \
            jsonb prints it, except against Snowflake) between PostgreSQL, SQLite, Snowflake and SQL Server 2019 or later (as a source). Each side is read at one moment where it can (PostgreSQL snapshot, Snowflake Time Travel). \
            auto (default) bisects where it can on tables over 20,000 rows and merges otherwise.

            Examples:
              cutover diff --source sqlite:chinook.db --target postgres://app@localhost/chinook --table Track
              cutover diff --source src --target dst --table public.orders=archive.orders_2024 --key id --columns total,status --format json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "Target URL or connection name.") var target: String
    @Option(name: .long, help: "SCHEMA.TABLE at the source, optionally =SCHEMA.TABLE at the target.") var table: String
    @Option(name: .long, help: "Comma-separated key columns (default: the primary key).") var key: String?
    @Option(name: .long, help: "Comma-separated columns to compare (default: all).") var columns: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "COLUMN=RULE: what may differ and still be equal (repeatable; COLUMN * for all).",
            discussion: "RULE: a number (absolute epsilon), s / ms / us or digits=N (timestamp precision), empty-null, case; combine with +."))
    var tolerance: [String] = []
    @Flag(name: .long, help: "Count differences a tolerance hid as changed rows (they are reported either way).") var strict = false
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .long, help: "auto, merge or bisect (see above).") var strategy: TableComparer.Strategy = .auto
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let config = try global.loadConfig()
        let tolerances = try Tolerances.parse(tolerance, strict: strict)
        let parts = table.split(separator: "=", maxSplits: 1).map(String.init)
        func list(_ text: String?) -> [String]? { text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }
        let request = Jobs.DiffRequest(
            table: TableRef(parsing: parts[0]), targetTable: parts.count > 1 ? TableRef(parsing: parts[1]) : nil,
            key: list(key), columns: list(columns), tolerances: tolerances, strategy: strategy)
        // Bound first: a temporary `Jobs` whose call has throwing arguments was released too early (Swift 6.3, see MoverBadRowTests).
        let jobs = try await global.jobs(config, artifactsRoot: out)
        let result = try await jobs.diff(
            source: try config.resolveConnection(source), target: try config.resolveConnection(target), request, config: config)
        switch format {
        case .json:
            Terminal.say(String(decoding: try JSONEncoder.cli.encode(DiffDocument(result)), as: UTF8.self))
        case .text:
            TerminalText.diff(result).forEach(Terminal.say)
        }
        if !result.passed { throw ExitCode.failure }
    }
}

/// The JSON `cutover diff --format json` prints.
struct DiffDocument: Encodable {
    struct Counts: Encodable {
        var missing: Int64; var extra: Int64; var changed: Int64; var tolerated: Int64; var sourceRows: Int64; var targetRows: Int64
    }
    var table: String
    var target: String
    var identical: Bool
    var method: String
    var consistency: String
    var counts: Counts
    var sampleLimit: Int
    var missing: [String]
    var extra: [String]
    var changed: [TableComparison.ChangedRow]
    var tolerated: [TableComparison.ToleratedRow]

    init(_ c: TableComparison) {
        tolerated = c.toleratedRows
        table = c.table
        target = c.target
        identical = c.passed
        method = c.method
        consistency = c.consistency
        counts = Counts(
            missing: c.missing, extra: c.extra, changed: c.changed, tolerated: c.tolerated, sourceRows: c.sourceRows, targetRows: c.targetRows)
        sampleLimit = c.sampleLimit
        missing = c.missingKeys
        extra = c.extraKeys
        changed = c.changedRows
    }
}
