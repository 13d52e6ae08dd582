import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole job on built-in sample data: analyze, plan, migrate, validate.",
        discussion: """
            Generates four deterministic sample tables (a TPC-DS call_center, sample_data with awkward values, \
            two years of daily_metrics, and metadata_config_table_elt) in an embedded SQLite file, migrates them \
            into a second SQLite file and proves every row arrived intact. Nothing to install.

            Example: cutover demo --dir /tmp/cutover-demo
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Directory for the demo's databases.") var dir = ".cutover/demo"
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let jobs = try await global.jobs(try global.loadConfig(), artifactsRoot: out)
        let outcome = try await Demo(directory: dir, jobs: jobs).run()
        Terminal.say("")
        for result in outcome.migration.results {
            let check = outcome.migration.validation?.tables.first { $0.table == result.source }
            Terminal.say("  " + result.source.padding(toLength: 28, withPad: " ", startingAt: 0)
                         + Format.leftPad(Format.count(result.rows), 8) + " rows  "
                         + (check.map { $0.passed ? "✓ \($0.message)" : "✗ \($0.message)" } ?? (result.error ?? "")))
        }
        Terminal.say("")
        Terminal.say((outcome.migration.succeeded ? "Demo succeeded" : "Demo FAILED") + " in \(Format.duration(outcome.seconds)): \(Summary.line(outcome.migration))")
        Terminal.say("Artifacts: \(outcome.migration.directory)")
        Terminal.say("  analysis_report.json  mapping_decisions.yml  target_objects.sql  improvement_recommendations.md")
        Terminal.say("  validation_results.json  summary.md  run_log.ndjson")
        Terminal.say("Databases: \(outcome.sourcePath) → \(outcome.targetPath)")
        Terminal.say("Next: cutover analyze --source sqlite:\(outcome.sourcePath)   ·   cutover runs list")
        if !outcome.migration.succeeded { throw ExitCode.failure }
    }
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented cutover.yml to start from.",
        discussion: "Example: cutover init && $EDITOR cutover.yml")

    @Option(name: .shortAndLong, help: "Where to write the file.") var output = "cutover.yml"
    @Flag(name: .long, help: "Overwrite an existing file.") var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: output), !force {
            throw CutoverError(.usage, "\(output) already exists; nothing was written", hint: "pass --force to overwrite it, or -o other.yml")
        }
        do {
            try ConfigTemplate.text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw CutoverError(.io, "cannot write \(output): \(error.localizedDescription)")
        }
        Terminal.say("wrote \(output): set your connections, then run `cutover analyze --source source`")
    }
}

struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Inventory a source: tables, columns, types, keys, indexes, sizes, row counts.",
        discussion: """
            Writes analysis_report.json into the run directory and prints a summary.

            Example: cutover analyze --source postgres://app@localhost:5432/shop --schema public
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "Directory for run artifacts (a run folder is created inside).") var out: String?
    @Option(name: .long, help: ArgumentHelp("Reuse the catalog the store cached for this source and scope when younger than this (15m, 6h, 1d).",
                                            discussion: "Default: always read the source (and refresh the cache)."))
    var metadataMaxAge: String?

    func run() async throws {
        let config = try global.loadConfig()
        let url = try config.resolveConnection(source)
        let outcome = try await global.jobs(config, artifactsRoot: out).analyze(source: url, scope: scope.scope,
                                                                               metadataMaxAge: try metadataMaxAge.map { try Age.seconds($0, option: "--metadata-max-age") })
        Terminal.say(outcome.report.summary)
        Terminal.say("\nreport: \(outcome.reportPath)")
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Map every column to a target engine and write the target DDL.",
        discussion: """
            Writes mapping_decisions.yml (each column: source type → target type, rationale, lossy, needs review), \
            target_objects.sql and improvement_recommendations.md. Change a decision with `overrides` in cutover.yml. \
            Exits 1 when a column has a type with no mapping and no override.

            Example: cutover plan --source sqlite:chinook.db --target-dialect snowflake
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "snowflake, postgres or sqlite.") var targetDialect: String
    @Option(name: .long, help: "Put every table into this target schema.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let config = try global.loadConfig()
        let url = try config.resolveConnection(source)
        let engine = try Connectors.engine(named: targetDialect)
        let outcome = try await global.jobs(config, artifactsRoot: out).plan(source: url, targetEngine: engine, scope: scope.scope, config: config,
                                                                             targetSchema: targetSchema)
        let plan = outcome.plan
        let columns = plan.tables.flatMap(\.columns)
        Terminal.say("planned \(plan.tables.count) tables, \(columns.count) columns for \(engine.rawValue): "
                     + "\(columns.filter(\.lossy).count) lossy, \(plan.reviewCount) to review")
        for table in plan.tables {
            for column in table.columns where column.needsReview {
                Terminal.say("  review \(table.source).\(column.column): \(column.sourceType) → \(column.targetType) — \(column.rationale)")
            }
        }
        for file in outcome.files { Terminal.say("wrote \(file)") }
        if let (table, column) = plan.unmappable.first {
            throw CutoverError(.typeNotMappable, "\(plan.unmappable.count) column(s) have no type mapping, e.g. \(table).\(column.column) (\(column.sourceType))",
                               hint: "add overrides in cutover.yml, e.g. overrides: { columns: { \"\(table).\(column.column)\": <type> } }, then plan again")
        }
    }
}

extension MoveOptions.Mode: ExpressibleByArgument {}
extension MoveOptions.OnError: ExpressibleByArgument {}
extension TableComparer.Strategy: ExpressibleByArgument {}

/// `64MB`, `1GB`, `500kB` or plain bytes.
struct ByteSize: ExpressibleByArgument {
    let bytes: Int64

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int64)] = [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Int64(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number > 0 else { return nil }
            bytes = number * factor
            return
        }
        guard let number = Int64(text), number > 0 else { return nil }
        bytes = number
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy tables from a source to a target, creating them from the plan, then validate.",
        discussion: """
            Tables are split into chunks (ranges of an integer key; one chunk for other tables). Each chunk \
            loads in one transaction that first clears its key range, through the target's bulk path (binary COPY \
            pass-through for PostgreSQL → PostgreSQL), so a crash, a retry or a rerun never leaves partial or \
            duplicate rows. Chunks are tracked in a ledger in the metadata store: rerun the same command after a \
            crash (or pass --resume) and only unfinished chunks are loaded. Transient errors are retried with \
            backoff; a table that fails for good is reported and the others go on. After loading, every table is \
            compared row by row (skip with --no-validate).

            Modes: copy (default; refuses a target table that already has rows unless --replace or --truncate), \
            append, upsert (insert or update by primary key). --watermark COL loads incrementally, upserting: each run \
            takes COL's maximum at the source when it starts and loads the rows from the stored watermark \
            (inclusive) up to that maximum, plus rows whose COL is NULL (a watermark cannot order them); the \
            watermark advances to that maximum once the table is in, so rows changed during a run are loaded by \
            the next. The first run, and runs with --truncate or --replace, load every row. An unfinished incremental \
            run is superseded by the next one (pass --resume to resume it instead). `cutover watermark show|reset` \
            lists and forgets stored watermarks.

            Examples:
              cutover migrate --source sqlite:chinook.db --target postgres://app@localhost/chinook
              cutover migrate --source pg_prod --target pg_copy --parallel 4 --chunk-rows 100000
              cutover migrate --source src --target dst --watermark updated_at
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "Target URL or connection name.") var target: String
    @Option(name: .long, help: "Put every table into this target schema.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "copy, append or upsert.") var mode: MoveOptions.Mode = .copy
    @Flag(name: .long, help: "Drop and re-create target tables first (a fresh load).") var replace = false
    @Flag(name: .long, help: "Empty target tables first, keeping their definition.") var truncate = false
    @Option(name: .long, help: "Load incrementally by this watermark column (upserts; needs a primary key).") var watermark: String?
    @Flag(name: .long, help: "Resume the last unfinished run of this plan (an error if there is none).") var resume = false
    @Option(name: .long, help: "Chunks loaded at once (1-16). Default: the number of cores.") var parallel = ProcessInfo.processInfo.activeProcessorCount
    @Option(name: .long, help: "Target rows per chunk.") var chunkRows: Int64 = 250_000
    @Option(name: .long, help: ArgumentHelp("Target size per chunk instead, e.g. 64MB or 1GB.",
                                            discussion: "Converted to rows with each table's average row size (table size / rows, from analyze)."))
    var chunkBytes: ByteSize?
    @Option(name: .long, help: "Rows per batch read from the source.") var batchSize = 10_000
    @Option(name: .long, help: "Attempts per chunk for transient errors (lost connection, deadlock, too many connections).") var maxAttempts = 4
    @Option(name: .long, help: "fail (stop the table, naming table, key and column) or reject (load the rest; refused rows go to the store's rejects table).")
    var onError: MoveOptions.OnError = .fail
    @Flag(name: .long, help: "After loading, delete target rows whose key no longer exists at the source.") var deleteMissing = false
    @Flag(name: .long, help: "Drop an existing target table's secondary indexes for the load and rebuild them after (also after a failure).")
    var rebuildIndexes = false
    @Flag(name: .customLong("validate"), inversion: .prefixedNo, help: "Compare every row after loading.") var validateAfterLoad = true
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?
    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard chunkRows > 0 else { throw ValidationError("--chunk-rows must be positive") }
        guard (1...16).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 16") }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
        guard !(replace && truncate) else { throw ValidationError("--replace and --truncate exclude each other") }
        guard !(replace && resume) else { throw ValidationError("--replace starts over, --resume continues: pick one") }
    }

    func run() async throws {
        let config = try global.loadConfig()
        let sourceURL = try config.resolveConnection(source)
        let targetURL = try config.resolveConnection(target)
        let options = MoveOptions(mode: watermark != nil ? .upsert : mode, replace: replace, truncate: truncate, batchSize: batchSize,
                                  rowsPerChunk: chunkRows, parallel: parallel, watermark: watermark, resume: resume,
                                  retry: RetryPolicy(maxAttempts: maxAttempts), onError: onError, deleteMissing: deleteMissing,
                                  bytesPerChunk: chunkBytes?.bytes, rebuildIndexes: rebuildIndexes)
        let jobs = try await global.jobs(config, artifactsRoot: out)
        let outcome = try await metrics.around {
            try await jobs.migrate(source: sourceURL, target: targetURL, scope: scope.scope, config: config, options: options,
                                   validate: validateAfterLoad, targetSchema: targetSchema)
        }
        Terminal.say((outcome.succeeded ? "succeeded: " : "FAILED: ") + Summary.line(outcome))
        for result in outcome.results where !result.succeeded {
            Terminal.say("  \(result.source): \(result.status): \(result.error ?? "")")
            if let aftermath = result.aftermath { Terminal.say("    \(aftermath)") }
        }
        for table in outcome.validation?.tables ?? [] where !table.passed {
            for line in table.findings.prefix(6) { Terminal.say("  \(table.table) \(line)") }
        }
        if outcome.results.contains(where: { $0.rejected > 0 }) {
            Terminal.say("  rejected rows and reasons: cutover runs show \(outcome.runID)")
        }
        Terminal.say("run \(outcome.runID) · artifacts: \(outcome.directory)")
        if !outcome.succeeded { throw ExitCode.failure }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Help a running migration: lease its chunks from the shared store and load them.",
        discussion: """
            Start `cutover migrate` with a shared store (--store postgres://...), then start workers on this or other \
            machines with the same source, target and options plus the run id. Chunks are leased with \
            FOR UPDATE SKIP LOCKED, so no chunk is loaded twice; a worker that dies loses its lease and another \
            takes the chunk over. The migrate command finishes the tables and validates.

            Example: cutover worker --store postgres://cutover@db/cutover --run 20261123-091502-3fa9 \
              --source postgres://app@src/shop --target postgres://app@dst/shop
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The run to help (see `cutover runs list`).") var run: String
    @Option(name: .long, help: "Source URL or connection name (the run's).") var source: String
    @Option(name: .long, help: "Target URL or connection name (the run's).") var target: String
    @Option(name: .long, help: "The run's target schema, if it set one.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "The run's mode: copy, append or upsert.") var mode: MoveOptions.Mode = .copy
    @Option(name: .long, help: "The run's watermark column, if any.") var watermark: String?
    @Option(name: .long, help: "Chunks this worker loads at once (1-16).") var parallel = ProcessInfo.processInfo.activeProcessorCount
    @Option(name: .long, help: "Rows per batch read from the source.") var batchSize = 10_000
    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        guard (1...16).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 16") }
    }

    func run() async throws {
        let config = try global.loadConfig(unattended: true)
        let options = MoveOptions(mode: watermark != nil ? .upsert : mode, batchSize: batchSize, parallel: parallel, watermark: watermark)
        let jobs = try await global.jobs(config, artifactsRoot: nil)
        let sourceURL = try config.resolveConnection(source), targetURL = try config.resolveConnection(target)
        let loaded = try await metrics.around {
            try await jobs.work(runID: run, source: sourceURL, target: targetURL, scope: scope.scope, config: config, options: options,
                                targetSchema: targetSchema)
        }
        Terminal.say("worker done: loaded \(loaded) chunk(s) of run \(run)")
    }
}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare a source with its target: every row by key, or a pipeline of checks.",
        discussion: """
            Rows are read from both engines sorted by key, normalised to one canonical form per type (so 1.50 = 1.5 \
            and time zones agree) and compared by hash; differing rows are listed with their columns. Tables without \
            a key are compared as multisets. Writes validation_results.json. Exits 1 when any table differs.

            With --pipeline FILE, runs the steps of a pipeline file instead (see the README) and writes \
            pipeline_results.json; exits 1 when an error-severity step fails. `cutover runs cancel ID` \
            stops a pipeline run: running steps finish, the others are reported as not run.

            Example: cutover validate --source sqlite:chinook.db --target postgres://app@localhost/chinook
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "Target URL or connection name.") var target: String
    @Option(name: .long, help: "The target schema the tables were migrated into.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: ArgumentHelp(
        "[TABLE.]COLUMN=RULE: what may differ and still be equal (repeatable; * for every column).",
        discussion: "RULE: a number (absolute epsilon), s / ms / us or digits=N (timestamp precision), empty-null, case; combine with +."))
    var tolerance: [String] = []
    @Flag(name: .long, help: "Count differences a tolerance hid as changed rows (they are reported either way).") var strict = false
    @Option(name: .long, help: ArgumentHelp("Run the checks of a pipeline file instead of the row compare.",
                                            discussion: "Checks: " + CheckRegistry.names.joined(separator: ", ")))
    var pipeline: String?
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?

    func run() async throws {
        let config = try global.loadConfig()
        if let pipeline {
            let outcome = try await global.jobs(config, artifactsRoot: out).runPipeline(
                try Pipeline.load(path: pipeline), source: try config.resolveConnection(source), target: try config.resolveConnection(target),
                config: config, targetSchema: targetSchema)
            let failed = outcome.results.filter { $0.status == "failed" }.count
            let skipped = outcome.results.filter { $0.status == "cancelled" }.count
            Terminal.say("\(outcome.results.count - failed - skipped) of \(outcome.results.count) steps without errors"
                         + (skipped > 0 ? ", \(skipped) not run (cancelled)" : "") + " — results: \(outcome.path)")
            if failed > 0 || skipped > 0 { throw ExitCode.failure }
            return
        }
        let (report, path) = try await global.jobs(config, artifactsRoot: out).validate(
            source: try config.resolveConnection(source), target: try config.resolveConnection(target), scope: scope.scope, config: config,
            targetSchema: targetSchema, tolerances: try Tolerances.parse(tolerance, strict: strict))
        Terminal.say("\(report.passed) passed, \(report.failed) failed — results: \(path)")
        for table in report.tables where !table.passed {
            for line in table.findings { Terminal.say("  \(table.table) \(line)") }
        }
        if !report.allPassed { throw ExitCode.failure }
    }
}

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
            text, booleans, dates, times, timestamps, bytes, UUIDs — not floats or JSON) between PostgreSQL, SQLite \
            and Snowflake. Each side is read at one moment where it can (PostgreSQL snapshot, Snowflake Time Travel). \
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
    @Option(name: .long, help: ArgumentHelp(
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
        let request = Jobs.DiffRequest(table: TableRef(parsing: parts[0]), targetTable: parts.count > 1 ? TableRef(parsing: parts[1]) : nil,
                                       key: list(key), columns: list(columns), tolerances: tolerances, strategy: strategy)
        let result = try await global.jobs(config, artifactsRoot: out).diff(
            source: try config.resolveConnection(source), target: try config.resolveConnection(target), request, config: config)
        switch format {
        case .json:
            Terminal.say(String(decoding: try JSONEncoder.cli.encode(DiffDocument(result)), as: UTF8.self))
        case .text:
            Terminal.say("\(result.table) → \(result.target): \(result.passed ? "identical" : "DIFFERENT") — \(result.message) [\(result.method)]")
            Terminal.say("read: \(result.consistency)")
            if !result.missingKeys.isEmpty { Terminal.say("missing at the target (\(result.missing)): " + result.missingKeys.joined(separator: "; ")) }
            if !result.extraKeys.isEmpty { Terminal.say("extra at the target (\(result.extra)): " + result.extraKeys.joined(separator: "; ")) }
            for row in result.changedRows {
                Terminal.say("changed \(row.key): \(row.differences)")
                if let sql = row.sourceSQL { Terminal.say("  source: \(sql)") }
                if let sql = row.targetSQL { Terminal.say("  target: \(sql)") }
            }
            for row in result.toleratedRows { Terminal.say("tolerated \(row.key): \(row.differences)") }
            let shown = result.missingKeys.count + result.extraKeys.count + result.changedRows.count
            if shown < result.missing + result.extra + result.changed {
                Terminal.say("(showing at most \(result.sampleLimit) of each kind)")
            }
        }
        if !result.passed { throw ExitCode.failure }
    }
}

/// The JSON `cutover diff --format json` prints.
struct DiffDocument: Encodable {
    struct Counts: Encodable { var missing: Int64; var extra: Int64; var changed: Int64; var tolerated: Int64; var sourceRows: Int64; var targetRows: Int64 }
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
        counts = Counts(missing: c.missing, extra: c.extra, changed: c.changed, tolerated: c.tolerated, sourceRows: c.sourceRows, targetRows: c.targetRows)
        sampleLimit = c.sampleLimit
        missing = c.missingKeys
        extra = c.extraKeys
        changed = c.changedRows
    }
}

struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Validation pipelines: suggest one for a source and target; list the checks a pipeline can use.",
        subcommands: [Suggest.self, Checks.self], defaultSubcommand: Suggest.self)

    struct Checks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The checks a pipeline step can name, by category, with the fields each reads (* required).",
            discussion: "Every step also takes table, target_table, side (source, target, both) and severity (error, warn).\n\nExample: cutover pipeline checks --format json")
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
                    Terminal.say("      \(parameter.name)\(parameter.required ? "*" : "") (\(parameter.kind.rawValue)): \(parameter.description)"
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

        func run() async throws {
            let config = try global.loadConfig()
            if FileManager.default.fileExists(atPath: out), !force {
                throw CutoverError(.usage, "\(out) exists", hint: "pass --force to overwrite it, or --out another file")
            }
            let outcome = try await global.jobs(config, artifactsRoot: nil).suggestPipeline(
                source: try config.resolveConnection(source), target: try config.resolveConnection(target), scope: scope.scope, config: config,
                targetSchema: targetSchema)
            try outcome.yaml.write(toFile: out, atomically: true, encoding: .utf8)
            for profile in outcome.profiles {
                Terminal.say("\(profile.table): \(profile.role) — " + profile.reasons.joined(separator: "; "))
            }
            let steps = outcome.yaml.split(separator: "\n").filter { $0.hasPrefix("  - {") }.count
            Terminal.say("\(steps) steps for \(outcome.profiles.count) tables written to \(out); run them with: cutover validate --source … --target … --pipeline \(out)")
        }
    }
}

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
                throw CutoverError(.usage, suite.map { "the registry has no suite \($0)" } ?? "the registry is empty",
                                   hint: "import a rulebook_registry.json with `cutover store import`")
            }
            if pipeline, let suite, let table {
                Terminal.write(try RulebookRegistry.pipeline(suite: suite, table: table, entries), to: .standardOutput)
                return
            }
            for entry in entries {
                Terminal.say("\(entry.suite)  \(entry.expectationType)  \(entry.check.map { "→ " + $0 } ?? "(no Cutover check)")  "
                             + "added \(entry.addedOn ?? "-")  \(entry.ruleHash.prefix(12)): \(entry.definition)")
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version of one rule, newest first.", discussion: "Example: cutover rules history no_negative_totals")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Rule name.") var name: String

        func run() async throws {
            let versions = try await global.openStore(try global.loadConfig()).ruleVersions(name: name)
            guard !versions.isEmpty else { throw CutoverError(.usage, "no rule named \(name)", hint: "`cutover rules list` shows the rulebook") }
            for rule in versions {
                Terminal.say("v\(rule.version) \(rule.contentHash.prefix(12)) \(rule.updatedAt ?? "-") \(rule.updatedBy ?? rule.createdBy ?? "command line") "
                             + "[\(rule.severity), \(rule.side)\(rule.category.map { ", " + $0 } ?? "")]: \(rule.sql.replacingOccurrences(of: "\n", with: " "))")
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
            let outcome = try await global.jobs(config, artifactsRoot: out).runRules(
                rules, source: try source.map { try config.resolveConnection($0) }, target: try target.map { try config.resolveConnection($0) },
                config: config, environment: env)
            for result in outcome.results {
                let mark = switch result.status { case "passed": "✓"; case "warning": "!"; default: "✗" }
                Terminal.say("\(mark) \(result.rule) [\(result.side), \(result.severity)]: \(result.status) — \(result.message)")
                for row in result.sample {
                    Terminal.say("    " + row.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                }
            }
            let failed = outcome.results.filter { $0.status == "failed" }.count
            Terminal.say("\(outcome.results.count - failed)/\(outcome.results.count) checks without errors; \(outcome.newRules) rule(s) added or changed in the rulebook · run \(outcome.runID)")
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The rules stored in the rulebook.", discussion: "Example: cutover rules list")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            for rule in try await global.openStore(try global.loadConfig()).rules() {
                Terminal.say("\(rule.name) v\(rule.version) [\(rule.severity), \(rule.side)\(rule.category.map { ", " + $0 } ?? "")] \(rule.contentHash.prefix(12)): "
                             + rule.sql.replacingOccurrences(of: "\n", with: " "))
            }
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's results as JSON, Markdown, JUnit XML, a self-contained HTML page, an Excel workbook and (--pdf) a PDF.",
        discussion: """
            Works for any run in the metadata store (migrate, validate, diff, rules). Each table or rule shows its \
            status, row counts, message and its results in earlier runs. Exits 1 when the run has failures, so a CI \
            job can publish report.junit.xml and fail on the same command.

            With --baseline RUN, each table is also compared with its result in that run (regression, fixed, \
            new, other row count), and the run's failures are summed up against it.

            Example: cutover report 20261123-091502-3fa9 --out reports/
            Example: cutover report --baseline 20261120-080000-aaaa
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (see `cutover runs list`); default: the latest run.") var id: String?
    @Option(name: .long, help: "Compare with this earlier run.") var baseline: String?
    @Option(name: .long, help: "Directory for the report files (default: the run's artifacts directory).") var out: String?
    @Flag(name: .long, help: "Also print report.pdf (needs Chromium).") var pdf = false

    func run() async throws {
        let store = try await global.openStore(try global.loadConfig())
        let latest = id == nil ? try await store.runs(limit: 1).first?.id : nil
        guard let runID = id ?? latest else {
            throw CutoverError(.usage, "the store has no runs yet", hint: "run `cutover demo` first")
        }
        let report = try await RunReport.build(runID: runID, store: store, baseline: baseline)
        let directory = out ?? report.run.artifactsDir ?? "."
        for path in try report.write(to: directory) { Terminal.say("wrote \(path)") }
        if pdf {
            let path = (directory as NSString).appendingPathComponent("report.pdf")
            do {
                try await PDFPrinter.pdf(html: report.html).write(to: URL(fileURLWithPath: path))
            } catch let error as CutoverError {
                throw error
            } catch {
                throw CutoverError(.io, "cannot write \(path): \(error.localizedDescription)", hint: "pass --out a writable directory")
            }
            Terminal.say("wrote \(path)")
        }
        Terminal.say("\(report.entries.count - report.failed - report.skipped) of \(report.entries.count) passed"
                     + (report.skipped > 0 ? ", \(report.skipped) not run" : "") + " (run \(report.run.status))")
        if let line = report.baselineSummary { Terminal.say(line) }
        for entry in report.entries where entry.change == "regression" { Terminal.say("  regression: \(entry.name) — \(entry.message)") }
        if !report.passed { throw ExitCode.failure }
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List and inspect runs recorded in the metadata store.",
        subcommands: [List.self, Show.self, Artifacts.self, Cancel.self], defaultSubcommand: List.self)

    struct Artifacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a run's artifacts kept in the store, or write them out (--to).",
            discussion: """
                Every run copies its folder (analysis, plan, DDL, results, summary, log) into the store when it ends, so a run \
                made on another machine, or by a worker or server, can be read anywhere that reaches the store.

                Example: cutover runs artifacts 20261123-091502-3fa9 --to ./run-copy
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: String
        @Option(name: .long, help: "Folder to write the stored artifacts into.") var to: String?

        func run() async throws {
            let (store, run) = try await global.openRun(id)
            let records = try await store.artifacts(runID: run.id)
            guard !records.isEmpty else {
                throw CutoverError(.store, "run \(id) has no artifacts in the store", hint: "runs copy their folder into the store when they end; \(run.artifactsDir ?? "its folder") may hold them")
            }
            if let to {
                do {
                    try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
                } catch {
                    throw CutoverError(.io, "cannot create \(to): \(error.localizedDescription)", hint: "pass --to a writable folder")
                }
            }
            for record in records {
                guard let to else {
                    Terminal.say("\(record.name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(Format.count(record.bytes)) bytes"
                                 + (record.stored ? "" : "  (too large for the store: only its size and SHA-256 are kept)"))
                    continue
                }
                guard record.stored, let content = try await store.artifact(runID: run.id, name: record.name)?.content else {
                    Terminal.say("skipped \(record.name): too large for the store, kept in the run's folder only")
                    continue
                }
                let path = (to as NSString).appendingPathComponent(record.name)
                do {
                    try content.write(to: URL(fileURLWithPath: path))
                } catch {
                    throw CutoverError(.io, "cannot write \(path): \(error.localizedDescription)", hint: "pass --to a writable folder")
                }
                Terminal.say("wrote \(path)")
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask a running migration to stop after the chunks in flight.",
            discussion: "Its workers finish the chunks they hold and take no more; rerun the same migrate command to resume.\n\nExample: cutover runs cancel 20261123-091502-3fa9")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: String

        func run() async throws {
            let (store, run) = try await global.openRun(id)
            guard run.status == "running" else {
                throw CutoverError(.usage, "run \(id) is \(run.status), not running; nothing to cancel")
            }
            try await store.setRunStatus(id: id, status: "cancelling")
            Terminal.say("asked run \(id) to stop; it finishes the chunks in flight")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent runs, newest first.", discussion: "Example: cutover runs list --limit 5")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "How many runs.") var limit = 20

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            for run in try await store.runs(limit: limit) {
                Terminal.say("\(run.id)  \(run.kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(run.status.padding(toLength: 12, withPad: " ", startingAt: 0)) \(run.summary ?? run.error ?? "")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: its tables and log.", discussion: "Example: cutover runs show 20261123-091502-3fa9")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: String

        func run() async throws {
            let (store, run) = try await global.openRun(id)
            Terminal.say("run \(run.id): \(run.kind), \(run.status)\n  started \(run.startedAt), finished \(run.finishedAt ?? "-")")
            if let source = run.source { Terminal.say("  source \(source)") }
            if let target = run.target { Terminal.say("  target \(target)") }
            if let dir = run.artifactsDir { Terminal.say("  artifacts \(dir)") }
            if let error = run.error { Terminal.say("  error \(error)") }
            for table in try await store.tables(runID: id) {
                Terminal.say("  \(table.table): \(table.status) \(table.message ?? "")")
            }
            let chunks = try await store.chunks(runID: id)
            if !chunks.isEmpty {
                let byState = Dictionary(grouping: chunks, by: \.state.rawValue).mapValues(\.count)
                Terminal.say("  chunks: " + byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            }
            let rejects = try await store.rejects(runID: id)
            if !rejects.isEmpty {
                Terminal.say("  rejected rows: \(rejects.count)")
                for reject in rejects.prefix(50) {
                    Terminal.say("    \(reject.table) \(reject.key ?? "(no key)"): \(reject.reason)")
                }
                if rejects.count > 50 { Terminal.say("    … \(rejects.count - 50) more in the store's rejects table") }
            }
            for entry in try await store.logs(runID: id) {
                Terminal.say("  \(entry.at) \(entry.level) \(entry.event) \(entry.message)")
            }
        }
    }
}
