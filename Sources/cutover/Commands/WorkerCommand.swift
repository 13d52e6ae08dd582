import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

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
            try await jobs.work(
                runID: run, source: sourceURL, target: targetURL, scope: scope.scope, config: config, options: options,
                targetSchema: targetSchema)
        }
        Terminal.say("worker done: loaded \(loaded) chunk(s) of run \(run)")
    }
}
