import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

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
            backoff; a table that fails for good is reported and the others go on. A PostgreSQL table the run \
            creates is loaded without its primary key, which is built once after its chunks (rows the key cannot \
            hold fail the table, naming the duplicate; not with upsert, --watermark or --on-error reject). After \
            loading, every table is compared row by row, by checksums inside both databases where it can (skip \
            with --no-validate).

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
    @Option(name: .long, help: "Chunks loaded at once (1-16). Default: the number of cores.") var parallel = ProcessInfo.processInfo
        .activeProcessorCount
    @Option(name: .long, help: "Target rows per chunk.") var chunkRows: Int64 = 250_000
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Target size per chunk instead, e.g. 64MB or 1GB.",
            discussion: "Converted to rows with each table's average row size (table size / rows, from analyze)."))
    var chunkBytes: ByteSize?
    @Option(name: .long, help: "Rows per batch read from the source.") var batchSize = 10_000
    @Option(name: .long, help: "Attempts per chunk for transient errors (lost connection, deadlock, too many connections).") var maxAttempts = 4
    @Option(
        name: .long,
        help: "fail (stop the table, naming table, key and column) or reject (load the rest; refused rows go to the store's rejects table).")
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
        let options = MoveOptions(
            mode: watermark != nil ? .upsert : mode, replace: replace, truncate: truncate, batchSize: batchSize,
            rowsPerChunk: chunkRows, parallel: parallel, watermark: watermark, resume: resume,
            retry: RetryPolicy(maxAttempts: maxAttempts), onError: onError, deleteMissing: deleteMissing,
            bytesPerChunk: chunkBytes?.bytes, rebuildIndexes: rebuildIndexes)
        let jobs = try await global.jobs(config, artifactsRoot: out)
        let outcome = try await metrics.around {
            try await jobs.migrate(
                source: sourceURL, target: targetURL, scope: scope.scope, config: config, options: options,
                validate: validateAfterLoad, targetSchema: targetSchema)
        }
        TerminalText.migrated(outcome).forEach(Terminal.say)
        if !outcome.succeeded { throw ExitCode.failure }
    }
}
