import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverServer
import CutoverStore
import Foundation

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Look after the metadata store: import a file-based history, archive and restore old results, sizes and caches.",
        discussion: """
            The store is SQLite by default (.cutover/cutover.db); a team points every CLI run, worker and server at one \
            PostgreSQL database (--store postgres://…) or a Snowflake schema (--store snowflake://…/DB/SCHEMA).
            """,
        subcommands: [Import.self, Archive.self, Restore.self, Stats.self, Overview.self, Failures.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Import a file-based history: results, logs, rules, caches, failing rows, monthly .tar.gz archives, Cutover's archives and run folders.",
            discussion: """
                Every file under DIR is remembered by its content hash: a rerun imports nothing twice. Nothing is stored twice \
                either: a log line or a suite run already in the store is skipped and counted. A file that cannot be read is \
                reported with its path, line and reason, and nothing of it stays (a log file is taken back whole); the rest goes \
                on (exit 1 when any failed). The README lists every format with an example.

                Example: cutover store import ./validation_results --dry-run
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Folder to import (searched recursively), or one file.") var directory: String
        @Flag(name: .long, help: "Only say what would be imported.") var dryRun = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let outcomes = try await StoreImporter(store: store).importDirectory(directory, dryRun: dryRun)
            for outcome in outcomes {
                let duplicates = outcome.duplicates > 0 ? ", \(outcome.duplicates) already in the store" : ""
                let items = outcome.items > 0 ? " (\(outcome.items) item\(outcome.items == 1 ? "" : "s")\(duplicates))" : ""
                Terminal.say(
                    "\(outcome.status.padding(toLength: 16, withPad: " ", startingAt: 0)) \(outcome.path)  \(outcome.kind)\(items)"
                        + (outcome.reason.map { ": " + $0 } ?? ""))
            }
            let by = Dictionary(grouping: outcomes, by: \.status).mapValues(\.count)
            Terminal.say(by.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ").ifEmpty("no files in \(directory)"))
            if by["failed"] != nil { throw ExitCode.failure }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move validation results, validation runs and logs older than a cutoff into compressed NDJSON files.",
            discussion: """
                One .ndjson.gz file per table in --to, and a manifest (archive-before-DATE-ID.json) with each file's rows and \
                SHA-256. Rows leave the store only after their file was written, read back and its line count and SHA-256 \
                matched. `cutover store restore` brings them back.

                Example: cutover store archive --older-than 90d --to ./archive
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Age cutoff: 90d, 12w, 36h, 30m.", transform: Age.parsing("--older-than")) var olderThan: TimeInterval
        @Option(name: .long, help: "Folder for the archive files.") var to = ".cutover/archive"
        @Flag(name: .long, help: "Only count what would be archived.") var dryRun = false

        func run() async throws {
            let age = olderThan
            let before = ISOTime.string(Date().addingTimeInterval(-age))
            let store = try await global.openStore(try global.loadConfig())
            let report = try await StoreArchiver(store: store).archive(before: before, to: to, dryRun: dryRun)
            if report.files.isEmpty { Terminal.say("nothing older than \(Format.span(olderThan)) (before \(before))") }
            for file in report.files {
                if dryRun {
                    Terminal.say("would archive \(file.rows) \(file.table) rows")
                } else {
                    Terminal.say(
                        "archived \(file.rows) \(file.table) rows to \(file.path) (sha256 \(file.sha256.prefix(16))…), deleted \(file.deleted) from the store"
                    )
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put archived validation runs, results and logs back into the store.",
            discussion: """
                Reads the files `cutover store archive` wrote (a folder or one .ndjson.gz file). A file listed in a manifest \
                must match its row count and SHA-256 before anything of it is written. Rows keep their ids; rows already in \
                the store are left alone, so a restore can be rerun.

                Example: cutover store restore ./archive
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Archive folder or file.") var path: String

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            for file in try await StoreArchiver(store: store).restore(from: path) {
                let already = file.rows - file.added
                Terminal.say(
                    "restored \(file.added) of \(file.rows) \(file.table) rows from \(file.path)"
                        + (already > 0 ? " (\(already) were in the store)" : "")
                        + (file.checked ? " — rows and SHA-256 match the manifest" : " — no manifest lists it, so its digest was not checked"))
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Table sizes, cache ages and hit rates.", discussion: "Example: cutover store stats")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let stats = try await store.stats()
            if format == .json {
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(stats), as: UTF8.self))
                return
            }
            Terminal.say("store \(stats.location) (\(stats.engine), schema version \(stats.schemaVersion))")
            for table in stats.tables {
                Terminal.say("  \(table.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Format.count(table.rows)) rows")
            }
            Terminal.say("caches:")
            for cache in stats.caches {
                let lookups = cache.hits + cache.misses
                let rate =
                    lookups == 0
                    ? "no lookups yet" : String(format: "%.0f%% hits of %lld lookups", Double(cache.hits) * 100 / Double(lookups), lookups)
                Terminal.say(
                    "  \(cache.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(cache.entries) entries, \(rate)"
                        + (cache.oldest.map { ", oldest \($0)" } ?? "") + (cache.rebuiltAt.map { ", rebuilt \($0)" } ?? ""))
            }
        }
    }

    struct Overview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Runs, validation pass rate, rows moved and failures per month.",
            discussion: """
                Per month: runs, failed runs, migrations, rows moved, validation runs, checks and their pass rate, failed \
                checks with the change from the month before (Δ), distinct materials validated, log lines, and the total \
                another tool reported for that month (an imported monthly_overview_cache.json or archive summary). \
                --format json adds failures per table, log lines per level and event, and the reported figures in full.

                Served from the store's overview cache while it is fresh; months whose entry expired are recomputed.

                Example: cutover store overview --max-age 6h
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "How long a computed month stays cached: 6h, 30m, 1d (default 6h).", transform: Age.parsing("--max-age"))
        var maxAge: TimeInterval?
        @Flag(name: .long, help: "Recompute every month now.") var refresh = false
        @Option(name: .long, help: "text or json.") var format: OutputFormat = .text

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let started = Date()
            let answer = try await store.monthlyOverview(maxAge: maxAge ?? 6 * 3600, refresh: refresh)
            let elapsed = Date().timeIntervalSince(started)
            if format == .json {
                Terminal.say(String(decoding: try JSONEncoder.cli.encode(answer), as: UTF8.self))
                return
            }
            let header = [
                "month", "runs", "failed", "migrations", "rows moved", "validations", "checks", "pass rate", "failed checks", "Δ", "materials",
                "log lines", "reported total",
            ]
            Terminal.say(header.map { $0.leftPadded(to: max(8, $0.count)) }.joined(separator: "  "))
            for m in answer.months {
                let rate = m.passRate.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
                let cells = [
                    m.month, String(m.runs), String(m.failedRuns), String(m.migrations), Format.count(m.rowsMoved), String(m.validationRuns),
                    String(m.checks), rate, String(m.failed), (m.failedDelta > 0 ? "+" : "") + String(m.failedDelta), Format.count(m.materials),
                    Format.count(m.logLines), m.reported?.currentTotal.map(Format.count) ?? "-",
                ]
                Terminal.say(zip(cells, header).map { $0.leftPadded(to: max(8, $1.count)) }.joined(separator: "  "))
            }
            Terminal.say("(\(answer.servedFrom), \(String(format: "%.0f", elapsed * 1000)) ms; computed \(answer.cachedAt))")
        }
    }
}

extension StoreCommand {
    struct Failures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The failing rows imported from <suite>_failures_YYYY-MM-DD.csv files: list them, or print one as CSV.",
            discussion: """
                Example: cutover store failures
                Example: cutover store failures --suite product_suite --date 2024-02-10 > failures.csv
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only this suite.") var suite: String?
        @Option(name: .long, help: "With --suite: print that date's rows (the CSV as imported).") var date: String?

        func validate() throws {
            if date != nil, suite == nil { throw ValidationError("--date needs --suite") }
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            if let suite, let date {
                guard let (_, content) = try await store.failureSnapshot(suite: suite, dataDate: date) else {
                    throw CutoverError(
                        .usage, "no failing rows of \(suite) on \(date)", hint: "`cutover store failures --suite \(suite)` lists its dates")
                }
                Terminal.write(content, to: .standardOutput)
                return
            }
            let snapshots = try await store.failureSnapshots(suite: suite)
            guard !snapshots.isEmpty else {
                Terminal.say(
                    "no failing rows imported" + (suite.map { " for \($0)" } ?? "")
                        + "; `cutover store import` reads <suite>_failures_YYYY-MM-DD.csv files")
                return
            }
            for s in snapshots {
                Terminal.say(
                    "\(s.dataDate)  \(s.suite)  \(Format.count(s.rows)) row(s)  columns: \(s.columns.joined(separator: ", "))  from \(s.origin)")
            }
        }
    }
}

extension JSONEncoder {
    static var cli: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Cutover as a service: REST API, live events and the web console.",
        discussion: """
            Open http://HOST:PORT/ in a browser. The first visit offers to create the admin account (the first user is always \
            an admin); admins add users with the roles admin, user or viewer. With --no-sign-up nobody can sign up: create the \
            first admin with `cutover users add NAME --role admin`. With `auth: {oidc: …}` in cutover.yml people sign in \
            with your identity provider (Okta, Entra ID, Google; redirect URI PUBLIC_URL/auth/oidc/callback), roles from a \
            groups claim; `auth: {local_accounts: false}` turns passwords off. The API is described at /api/v1/openapi.json.
            Point --store at PostgreSQL or Snowflake to share runs with CLI users and other servers. On SIGTERM or Ctrl-C, running \
            jobs stop after their chunks in flight and are marked interrupted; resume them from the console or the API.

            Example: cutover serve --port 8080 --store postgres://cutover@db/cutover --no-sign-up
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Address to listen on (0.0.0.0 for every interface).") var host = "127.0.0.1"
    @Option(name: .long, help: "Port.") var port = 8080
    @Option(name: .long, help: "Directory for run artifacts.") var out = ".cutover/runs"
    @Option(name: .long, help: "How long a sign-in token is good for: 8h, 30m, 1d (default 8h).", transform: Age.parsing("--token-lifetime"))
    var tokenLifetime: TimeInterval?
    @Flag(
        name: .customLong("sign-up"), inversion: .prefixedNo,
        help: "Let the first visitor of a store without users create the admin account.") var signUp = true

    func run() async throws {
        let config = try global.loadConfig(unattended: true)
        let store = try await global.openStore(config)
        let settings = CutoverServer.Settings(
            host: host, port: port, artifactsRoot: out,
            tokenSecret: ProcessInfo.processInfo.environment["CUTOVER_TOKEN_SECRET"],
            tokenLifetime: tokenLifetime ?? 8 * 3600, firstUserSignUp: signUp)
        let app = try await CutoverServer.application(store: store, config: config, settings: settings)
        Terminal.say("Cutover console on http://\(host):\(port)/ (store: \(try await store.stats().location))")
        try await app.runService()
    }
}
