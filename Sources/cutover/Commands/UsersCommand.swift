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
        subcommands: [Add.self, List.self, SetRole.self, Disable.self, Enable.self, Remove.self, Password.self])

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

        func readStandardInputLine() throws -> String { try UsersCommand.readPasswordLine() }
    }

    static func readPasswordLine() throws -> String {
        guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
            throw CutoverError(.usage, "--password-stdin: standard input had no password line")
        }
        return line
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "role", abstract: "Change a user's role (an enabled admin always remains).",
            discussion: "Example: cutover users role bob admin")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "admin, user or viewer.") var role: String

        func run() async throws {
            try await CutoverServer.changeUser(in: try await global.openStore(try global.loadConfig()), username: name, role: role, disabled: nil)
            Terminal.say("\(name) is now \(role)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: no sign-in, every session and API token refused until enabled.",
            discussion: "Example: cutover users disable bob")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await CutoverServer.changeUser(in: try await global.openStore(try global.loadConfig()), username: name, role: nil, disabled: true)
            Terminal.say("disabled \(name)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled user again (their old sessions stay signed out).",
            discussion: "Example: cutover users enable bob")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await CutoverServer.changeUser(in: try await global.openStore(try global.loadConfig()), username: name, role: nil, disabled: false)
            Terminal.say("enabled \(name)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user and their API tokens (the audit log keeps their name).",
            discussion: "Example: cutover users remove bob")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            guard try await global.openStore(try global.loadConfig()).deleteUser(username: name) else {
                throw CutoverError(.usage, "no user named \(name)", hint: "`cutover users list`")
            }
            Terminal.say("removed \(name)")
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password (signs out their sessions).",
            discussion: "Example: printf '%s\\n' \"$PW\" | cutover users password bob --password-stdin")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(name: .long, help: "Read the password from the first line of standard input.") var passwordStdin = false

        func run() async throws {
            let password = try passwordStdin ? UsersCommand.readPasswordLine() : Terminal.askSecret("New password for \(name): ")
            try await CutoverServer.setPassword(in: try await global.openStore(try global.loadConfig()), username: name, password: password)
            Terminal.say("set the password of \(name); their sessions are signed out")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users and their roles.", discussion: "Example: cutover users list")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            for user in try await store.users() {
                Terminal.say(
                    "\(user.username)\t\(user.role)\tlast sign-in: \(user.lastLoginAt ?? "never")"
                        + (user.disabledAt.map { "\tdisabled since \($0)" } ?? ""))
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
