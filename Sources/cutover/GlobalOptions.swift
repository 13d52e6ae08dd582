import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import CutoverServer
import Foundation
import Logging

/// Options every command shares: where the config and the metadata store are.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Config file. A missing cutover.yml is fine; a named file must exist.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Metadata store URL.", discussion: "Default: the config's `store`, else sqlite:.cutover/cutover.db"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write log records to stderr from this level on: trace, debug, info, notice, warning, error, critical.",
            discussion: "Default: the config's log.level; `serve` and `worker` log from info, other commands print their own progress instead."))
    var logLevel: String?

    @Option(name: .long, help: "Log records as text or json (one object per line). Default: the config's log.format, else text.")
    var logFormat: String?

    /// Reads the config, and turns on log records as the options and the config say: every command
    /// starts here. `unattended` commands (serve, worker) log from info by default.
    func loadConfig(unattended: Bool = false) throws -> CutoverConfig {
        let config = try CutoverConfig.load(path: self.config ?? "cutover.yml", required: self.config != nil)
        try startLogging(config, unattended: unattended)
        return config
    }

    private func startLogging(_ config: CutoverConfig, unattended: Bool) throws {
        let levelName = logLevel ?? config.log.level
        let level: Logger.Level?
        if let levelName {
            guard let named = Logger.Level(name: levelName) else {
                throw CutoverError(.usage, "unknown log level \(levelName)", hint: "use trace, debug, info, notice, warning, error or critical")
            }
            level = named
        } else {
            level = unattended ? .info : nil
        }
        let formatName = logFormat ?? config.log.format ?? "text"
        guard let format = LogOutput.Format(rawValue: formatName) else {
            throw CutoverError(.usage, "unknown log format \(formatName)", hint: "use text or json")
        }
        LogOutput.configure(format: format, level: level)
    }

    func openStore(_ config: CutoverConfig) async throws -> any MetadataStore {
        let raw = store ?? config.store ?? "sqlite:.cutover/cutover.db"
        let url = try ConnectionURL(parsing: try CutoverConfig.interpolate(raw, environment: ProcessInfo.processInfo.environment))
        return try await SQLMetadataStore.open(url)
    }

    /// The store and one of its runs; an unknown id is a usage error.
    func openRun(_ id: String) async throws -> (any MetadataStore, RunRecord) {
        let store = try await openStore(try loadConfig())
        guard let run = try await store.run(id: id) else {
            throw CutoverError(.usage, "no run with id \(id)", hint: "`cutover runs list` shows the ids")
        }
        return (store, run)
    }

    /// `progress: false` keeps run progress off standard output (for `--format json`); it goes to standard error.
    func jobs(_ config: CutoverConfig, artifactsRoot: String?, progress: Bool = true) async throws -> Jobs {
        let toStandardOutput: @Sendable (String) -> Void = { Terminal.say($0) }
        let toStandardError: @Sendable (String) -> Void = { Terminal.error(Redaction.redact($0)) }
        return Jobs(
            store: try await openStore(config), artifactsRoot: artifactsRoot ?? ".cutover/runs", say: progress ? toStandardOutput : toStandardError)
    }
}

/// Which tables and schemas a command looks at.
struct ScopeOptions: ParsableArguments {
    @Option(name: .long, help: "Schema to include (repeatable). Default: every user schema.")
    var schema: [String] = []

    @Option(name: .long, help: "Comma-separated tables to include (name or schema.name). Default: all.")
    var tables: String?

    @Flag(name: .long, help: "Use the engine's row estimates for very large tables instead of count(*).")
    var estimateCounts = false

    var scope: Scope {
        Scope(
            schemas: schema, tables: tables.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            exactCounts: !estimateCounts)
    }
}

/// `--metrics-port` of long runs (`migrate`, `worker`): Prometheus metrics while the command lasts.
struct MetricsOptions: ParsableArguments {
    @Option(name: .long, help: "Serve GET /metrics (Prometheus text format) on this port while the command runs.") var metricsPort: Int?
    @Option(name: .long, help: "Address for --metrics-port (0.0.0.0 for every interface).") var metricsHost = "127.0.0.1"

    func validate() throws {
        if let metricsPort, !(1...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be between 1 and 65535") }
    }

    func around<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard let metricsPort else { return try await body() }
        return try await MetricsEndpoint.serving(host: metricsHost, port: metricsPort, body)
    }
}

/// `--format` of commands that print either for people or for scripts.
enum OutputFormat: String, ExpressibleByArgument { case text, json }
