import CutoverTesting
import Foundation
import Testing

/// Rows of the run ledger are read by column name, and a row the store cannot have written is an
/// error that says which row and what to do — never a default (an unknown chunk state read as
/// `pending` would load that chunk again over the rows it committed).
@Suite struct StoreRowTests {
    @Test func aLedgerRowChangedByHandIsAnErrorNotADefault() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try CLI.sqliteFile(dir + "/src.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');")
            let store = ["--store", "sqlite:store.db"]
            let moved = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", "sqlite:dst.db"] + store, in: dir)
            #expect(moved.status == 0, "\(moved.output)")
            let id = try #require(CLI.runID(in: moved.stdout))

            try CLI.sqliteFile(dir + "/store.db", "UPDATE chunks SET state = 'bogus'")
            let chunks = try await CLI.run(["runs", "show", id] + store, in: dir)
            #expect(chunks.status == 3, "\(chunks.output)")
            #expect(chunks.stderr.contains("chunks.state holds bogus, not a chunk state"), "\(chunks.output)")

            try CLI.sqliteFile(dir + "/store.db", "UPDATE chunks SET state = 'done', chunk_no = 'x'")
            let numbers = try await CLI.run(["runs", "show", id] + store, in: dir)
            #expect(numbers.status == 3 && numbers.stderr.contains("chunks.chunk_no holds x, not a whole number"), "\(numbers.output)")

            // A run status Cutover does not write is not taken for one it does.
            try CLI.sqliteFile(dir + "/store.db", "UPDATE chunks SET chunk_no = 0; UPDATE runs SET status = 'finished'")
            let runs = try await CLI.run(["runs", "list"] + store, in: dir)
            #expect(runs.status == 3 && runs.stderr.contains("runs.status holds finished, not a run status"), "\(runs.output)")
            try CLI.sqliteFile(dir + "/store.db", "UPDATE runs SET status = 'succeeded'")

            // A role Cutover does not know is not taken for any (the server used to read it as viewer).
            try CLI.sqliteFile(
                dir + "/store.db",
                "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ('u1', 'eve', 'x', 'superuser', '2026-11-29T00:00:00Z')")
            let users = try await CLI.run(["users", "list"] + store, in: dir)
            #expect(users.status == 3 && users.stderr.contains("users.role holds superuser, not a role"), "\(users.output)")

            // A validation run's failed count that is not a number is not 0 failed.
            try CLI.sqliteFile(dir + "/store.db", "UPDATE validation_runs SET failed = 'many'")
            let report = try await CLI.run(["copilot", "explain", id] + store, in: dir)
            #expect(report.status == 3 && report.stderr.contains("validation_runs.failed holds many, not a whole number"), "\(report.output)")

            // A rule's side or severity Cutover does not know is not taken for `target`/`error` (the server's rule routes used to).
            try CLI.sqliteFile(
                dir + "/store.db",
                "INSERT INTO rules (content_hash, name, severity, sql, side, created_at) "
                    + "VALUES ('h', 'no negatives', 'error', 'SELECT 1 WHERE 1 = 0', 'everywhere', '2026-11-29T00:00:00Z')")
            let rules = try await CLI.run(["rules", "list"] + store, in: dir)
            #expect(rules.status == 3 && rules.stderr.contains("rules.side holds everywhere, not one of source, target, both"), "\(rules.output)")
            try CLI.sqliteFile(dir + "/store.db", "UPDATE rules SET side = 'target', severity = 'fatal'")
            let severities = try await CLI.run(["rules", "list"] + store, in: dir)
            #expect(
                severities.status == 3 && severities.stderr.contains("rules.severity holds fatal, not one of error, warn"), "\(severities.output)")
        }
    }
}
