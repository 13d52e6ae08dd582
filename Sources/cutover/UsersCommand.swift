import ArgumentParser
import CutoverCore
import CutoverServer
import CutoverStore
import Foundation

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage the server's users in the metadata store.",
        discussion: "For servers started with --no-sign-up, the first admin is created here.\n\nExample: cutover users add ada --role admin",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user (admin, user or viewer).",
            discussion: """
                The password is asked for on the terminal (not echoed), or read from the first line of standard input with \
                --password-stdin (for scripts). At least 8 characters.

                Example: cutover users add ada --role admin
                         printf '%s\\n' "$PW" | cutover users add ci-bot --role user --password-stdin
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name: 2 to 64 letters, digits or . _ @ -") var name: String
        @Option(name: .long, help: "admin, user or viewer.") var role = "user"
        @Flag(name: .long, help: "Read the password from the first line of standard input.") var passwordStdin = false

        func run() async throws {
            let password = try passwordStdin ? readStandardInputLine() : Terminal.askSecret("Password for \(name): ")
            let store = try await global.openStore(try global.loadConfig())
            try await CutoverServer.addUser(to: store, username: name, password: password, role: role)
            Terminal.say("added \(name) as \(role)")
        }

        func readStandardInputLine() throws -> String {
            guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
                throw CutoverError(.usage, "--password-stdin: standard input had no password line")
            }
            return line
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users and their roles.", discussion: "Example: cutover users list")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            for user in try await store.users() {
                Terminal.say("\(user.username)\t\(user.role)\tlast sign-in: \(user.lastLoginAt ?? "never")")
            }
        }
    }
}

extension Terminal {
    /// Asks on the terminal without echoing what is typed.
    static func askSecret(_ prompt: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CutoverError(.usage, "no terminal to ask for the password on", hint: "pipe it in with --password-stdin")
        }
        Terminal.write(prompt, to: .standardError)
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            Terminal.write("\n", to: .standardError)
        }
        guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else { throw CutoverError(.usage, "no password given") }
        return line
    }
}
