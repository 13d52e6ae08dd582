import ArgumentParser
import CutoverCore
import CutoverEngine
import Foundation

@main
struct CutoverMain {
    static func main() async {
        // A reader that goes away (`| head`) must not kill a run half way: writes to it fail and are
        // dropped (see Terminal) whether or not NIO, which ignores SIGPIPE too, is loaded yet.
        signal(SIGPIPE, SIG_IGN)
        LogOutput.bootstrap()
        do {
            var command = try Cutover.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CutoverError {
            Terminal.error("error: " + error.description)
            exit(error.exitCode)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = Cutover.exitCode(for: error)
            if code == .success {
                Cutover.exit(withError: error)  // --help, --version
            }
            Terminal.error(Redaction.redact(Cutover.fullMessage(for: error)))
            // Usage errors exit 2 (as documented); anything else unexpected means the command could not run.
            exit(code == .validationFailure ? 2 : 3)
        }
    }
}

struct Cutover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Move a database to another engine and prove the move is correct.",
        discussion: """
            Start with `cutover demo`: it builds sample tables in an embedded SQLite file, then analyzes, \
            plans, migrates and validates them with no server to install.

            Connections are URLs (postgres://user:pass@host:5432/db, sqlite:path/file.db, sqlite:///abs/file.db) \
            or names from cutover.yml (`cutover init` writes one). Passwords are never printed.

            Exit codes: 0 success; 1 the command ran and found differences or failures (a validation that failed, a \
            table that did not load); 2 usage error (a bad flag, URL or config); 3 the command could not run (a database \
            out of reach, a missing table, the run held by another process).
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, InitCommand.self, AnalyzeCommand.self, PlanCommand.self, MigrateCommand.self,
            ValidateCommand.self, DiffCommand.self, PipelineCommand.self, RulesCommand.self, ReportCommand.self, RunsCommand.self,
            WatermarkCommand.self, StoreCommand.self, ServeCommand.self, WorkerCommand.self, UsersCommand.self, AlertsCommand.self,
            IngestionCommand.self, WorkloadCommand.self, CopilotCommand.self, SQLServerCommand.self, LoginCommand.self,
        ]
    )
}

enum Terminal {
    static func say(_ line: String) {
        write(Redaction.redact(line) + "\n", to: .standardOutput)
    }

    static func error(_ line: String) {
        write(line + "\n", to: .standardError)
    }

    /// Output is best effort once its reader is gone (`cutover migrate … | head`): a closed pipe
    /// must not crash a run half way, which FileHandle's non-throwing `write` would do.
    static func write(_ text: String, to handle: FileHandle) {
        write(Data(text.utf8), to: handle)
    }

    static func write(_ data: Data, to handle: FileHandle) {
        try? handle.write(contentsOf: data)
    }
}
