import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

/// Options every command shares: where the config and the metadata store are.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Config file. A missing cutover.yml is fine; a named file must exist.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Metadata store URL.", discussion: "Default: the config's `store`, else sqlite:.cutover/cutover.db"))
    var store: String?

    func loadConfig() throws -> CutoverConfig {
        try CutoverConfig.load(path: config ?? "cutover.yml", required: config != nil)
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

    func jobs(_ config: CutoverConfig, artifactsRoot: String?) async throws -> Jobs {
        Jobs(store: try await openStore(config), artifactsRoot: artifactsRoot ?? ".cutover/runs", say: { Terminal.say($0) })
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
        Scope(schemas: schema, tables: tables.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
              exactCounts: !estimateCounts)
    }
}

/// `--format` of commands that print either for people or for scripts.
enum OutputFormat: String, ExpressibleByArgument { case text, json }
