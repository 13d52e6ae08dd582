import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// The CLI as a careless or hostile user runs it.
@Suite struct SecurityCLITests {
    /// Passwords with characters that URL text does not carry well: none of them ever shows.
    @Test(arguments: ["it's-secret", "p@ss'w/rd", "a\"b\\c", "sécrét🔑", "x%41y"])
    func aPasswordNeverShowsWhateverItsCharacters(password: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            for url in [
                "postgres://loader:\(password)@127.0.0.1:1/warehouse",
                "postgres://loader:\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password)@127.0.0.1:1/warehouse",
            ] {
                let result = try await CLI.run(["analyze", "--source", url], in: dir)
                #expect(result.status != 0)
                #expect(!result.output.contains(password) && !result.output.contains("ss'w"), "\(result.output)")
            }
            let runs = try await CLI.run(["runs", "list"], in: dir)
            #expect(!runs.output.contains(password))
            let dump = try await CLI.shell("sqlite3 .cutover/cutover.db .dump", in: dir)
            #expect(!dump.stdout.contains(password))
        }
    }

    @Test func theMetadataStoreIsNeverASourceOrTarget() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            _ = try await CLI.run(["runs", "list"], in: dir)  // creates the default store
            for target in ["sqlite:.cutover/cutover.db", "sqlite:./.cutover/../.cutover/cutover.db", "sqlite:\(dir)/.cutover/cutover.db"] {
                let result = try await CLI.run(["migrate", "--source", "sqlite:\(chinook)", "--target", target, "--tables", "Genre"], in: dir)
                #expect(result.status == 2, "\(target): \(result.output)")
                #expect(result.stderr.contains("metadata store"))
            }
            let asSource = try await CLI.run(["analyze", "--source", "sqlite:.cutover/cutover.db"], in: dir)
            #expect(asSource.status == 2 && asSource.stderr.contains("metadata store"))
        }
    }

    @Test func usersAreAddedWithoutOpeningSignUp() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let added = try await CLI.shell("printf 'lovelace-1815\\n' | '\(CLI.executable)' users add ada --role admin --password-stdin", in: dir)
            #expect(added.status == 0, "\(added.output)")
            let short = try await CLI.shell("printf 'short\\n' | '\(CLI.executable)' users add bob --password-stdin", in: dir)
            #expect(short.status == 2 && short.stderr.contains("8 characters"))
            let badRole = try await CLI.shell("printf 'long-enough\\n' | '\(CLI.executable)' users add bob --role root --password-stdin", in: dir)
            #expect(badRole.status == 2 && badRole.stderr.contains("admin, user or viewer"))
            let list = try await CLI.run(["users", "list"], in: dir)
            #expect(list.stdout.contains("ada\tadmin") && !list.stdout.contains("lovelace"))
            let dump = try await CLI.shell("sqlite3 .cutover/cutover.db 'SELECT password_hash FROM users'", in: dir)
            #expect(dump.stdout.hasPrefix("$2b$"), "stored as a bcrypt hash")

            // An admin's changes from the CLI; the last enabled admin stays.
            _ = try await CLI.shell("printf 'long-enough\n' | '\(CLI.executable)' users add bob --role user --password-stdin", in: dir)
            let lastAdmin = try await CLI.run(["users", "role", "ada", "viewer"], in: dir)
            #expect(lastAdmin.status != 0 && lastAdmin.stderr.contains("no enabled admin"), "\(lastAdmin.output)")
            #expect(try await CLI.run(["users", "role", "bob", "admin"], in: dir).status == 0)
            #expect(try await CLI.run(["users", "role", "bob", "root"], in: dir).status == 2)
            #expect(try await CLI.run(["users", "disable", "bob"], in: dir).status == 0)
            #expect(try await CLI.run(["users", "disable", "ada"], in: dir).stderr.contains("no enabled admin"))
            #expect(try await CLI.run(["users", "list"], in: dir).stdout.contains("bob\tadmin\tlast sign-in: never\tdisabled since"))
            #expect(try await CLI.run(["users", "enable", "bob"], in: dir).status == 0)
            let reset = try await CLI.shell("printf 'brand-new-pass\n' | '\(CLI.executable)' users password bob --password-stdin", in: dir)
            #expect(reset.status == 0 && !reset.output.contains("brand-new-pass"), "\(reset.output)")
            #expect(try await CLI.run(["users", "remove", "bob"], in: dir).stdout.contains("removed bob"))
            #expect(try await CLI.run(["users", "remove", "bob"], in: dir).status == 2)
            #expect(try await CLI.run(["users", "remove", "ada"], in: dir).stderr.contains("no enabled admin"))
        }
    }
}
