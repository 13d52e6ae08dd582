import CutoverCore
import CutoverPostgres
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct FaultTests {
    /// The target database goes away in the middle of a load (its TCP path is cut) and comes back:
    /// the chunks in flight fail, are retried with backoff, and the run completes exactly.
    @Test func targetThatVanishesAndReturnsIsRetriedToCompletion() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try SQLiteSession(path: dir + "/src.db", create: true).executeScript(
                    """
                    CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 400000)
                    INSERT INTO facts SELECT n, printf('value %d with some padding to make rows longer', n) FROM g;
                    """)
                // The proxy cuts every connection once some 8 MB went through (a third of the load), and
                // refuses new ones for 0.7 s: the outage lands mid-load on a fast or a slow machine.
                let port = try FaultProxy.freePort()
                let proxy = try FaultProxy.start(listen: port, target: pg.port!, extra: [String(8_000_000)])
                defer { kill(proxy.processIdentifier, SIGKILL) }
                let target = "postgres://\(pg.user!):\(pg.password!)@127.0.0.1:\(port)/\(pg.database)"
                let (migrate, output) = try CLI.start(
                    [
                        "migrate", "--source", "sqlite:src.db", "--target", target, "--chunk-rows", "20000",
                        "--parallel", "1", "--max-attempts", "12",
                    ], in: dir)
                let direct = try await PostgresConnector(url: pg)
                let log = await BlockingIOTestHelper.readAll(output)
                migrate.waitUntilExit()
                #expect(migrate.terminationStatus == 0, "\(log)")
                #expect(log.contains("retrying in"), "\(log)")
                #expect(log.contains("validation: 1 passed, 0 failed"))
                let counts = try await direct.execute("SELECT count(*), count(DISTINCT id) FROM facts")
                #expect(counts.rows.first == [.text("400000"), .text("400000")])
            }
        }
    }

    /// The connection drops after the last chunk, while the run finishes its tables and validates
    /// them (injected at those two points): the steps are retried like chunks, and the run ends
    /// exact instead of failed. Without the retries the same run exits 1.
    @Test func closingStepsAndTheValidationAreRetriedLikeChunks() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try SQLiteSession(path: dir + "/src.db", create: true).executeScript(
                    """
                    CREATE TABLE facts (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
                    INSERT INTO facts SELECT n, 'value ' || n FROM g;
                    """)
                let arguments = ["migrate", "--source", "sqlite:src.db", "--target", TestEnvironment.cliText(pg)]
                let retried = try await CLI.run(
                    arguments + ["--max-attempts", "4"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.finish:2,validate.compare:1"])
                #expect(retried.status == 0, "\(retried.output)")
                #expect(retried.stdout.contains("retrying in"), "\(retried.output)")
                #expect(retried.stdout.contains("validation: 1 passed, 0 failed"), "\(retried.output)")
                let once = try await CLI.run(
                    arguments + ["--max-attempts", "1", "--replace"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.finish:1"])
                #expect(once.status == 1, "with no retries left the table fails: \(once.output)")
            }
        }
    }

    /// When it does not come back, the table fails with a message that says what and where.
    @Test func targetThatStaysAwayFailsClearly() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try SQLiteSession(path: dir + "/src.db", create: true).executeScript(
                    "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
                let port = try FaultProxy.freePort()
                let proxy = try FaultProxy.start(listen: port, target: pg.port!)
                let target = "postgres://\(pg.user!):\(pg.password!)@127.0.0.1:\(port)/\(pg.database)"
                // Connect once (so the target is known good), then cut it before any data moves.
                kill(proxy.processIdentifier, SIGKILL)
                proxy.waitUntilExit()
                let result = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target, "--max-attempts", "2"], in: dir)
                #expect(result.status == 3, "could not run")
                #expect(result.stderr.contains("cannot connect to PostgreSQL at postgres://\(pg.user!):***@127.0.0.1:\(port)"), "\(result.output)")
                #expect(!result.output.contains(pg.password!))
            }
        }
    }
}

enum FaultProxy {
    /// `tcp_proxy.py` (a TCP pipe to kill and restart) or `throttling_proxy.py` (HTTP errors every Nth query).
    static func start(listen: Int, target: Int, script name: String = "tcp_proxy.py", extra: [String] = []) throws -> Process {
        guard let script = TestEnvironment.fixturePath(name) else { throw CutoverError(.io, "\(name) fixture missing") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(listen), String(target)] + extra
        let ready = Pipe()
        process.standardOutput = ready
        try process.run()
        _ = ready.fileHandleForReading.availableData  // "ready" once listening
        return process
    }

    /// How many requests a `throttling_proxy.py` has refused so far.
    static func refusals(port: Int) async throws -> String {
        try await BlockingIO.run {
            try python("import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:\(port)/__throttled').read().decode())")
        }
    }

    static func freePort() throws -> Int {
        Int(try python("import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")) ?? 0
    }

    /// What a one-line Python program prints, trimmed.
    static func python(_ code: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", code]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
