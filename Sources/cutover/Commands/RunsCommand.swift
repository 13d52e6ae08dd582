import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

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
                throw CutoverError(
                    .store, "run \(id) has no artifacts in the store",
                    hint: "runs copy their folder into the store when they end; \(run.artifactsDir ?? "its folder") may hold them")
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
                    Terminal.say(
                        "\(record.name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(Format.count(record.bytes)) bytes"
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
            discussion:
                "Its workers finish the chunks they hold and take no more; rerun the same migrate command to resume.\n\nExample: cutover runs cancel 20261123-091502-3fa9"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: String

        func run() async throws {
            let (store, _) = try await global.openRun(id)
            guard try await store.requestCancel(runID: id) else {
                let status = try await store.run(id: id)?.status.rawValue ?? "gone"
                throw CutoverError(.usage, "run \(id) is \(status), not running; nothing to cancel")
            }
            Terminal.say("asked run \(id) to stop; it finishes the chunks in flight")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent runs, newest first.", discussion: "Example: cutover runs list --limit 5")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "How many runs.") var limit = 20

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            TerminalText.runs(try await store.runs(limit: limit)).forEach(Terminal.say)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One run: its tables and log.", discussion: "Example: cutover runs show 20261123-091502-3fa9")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: String

        func run() async throws {
            let (store, run) = try await global.openRun(id)
            TerminalText.run(
                run, tables: try await store.tables(runID: id), chunks: try await store.chunks(runID: id),
                rejects: try await store.rejects(runID: id),
                log: try await store.logs(runID: id)
            ).forEach(Terminal.say)
        }
    }
}
