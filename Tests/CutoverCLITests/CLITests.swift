import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// The `cutover` executable as a user runs it.
@Suite struct CLITests {
    @Test func demoRunsTheWholeJobAndSaysWhereTheArtifactsAre() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let result = try await CLI.run(["demo"], in: dir)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stdout.contains("Demo succeeded"))
            #expect(result.stdout.contains("validation: 4 passed, 0 failed"))
            for table in ["call_center", "sample_data", "daily_metrics", "metadata_config_table_elt"] { #expect(result.stdout.contains(table)) }
            let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("Artifacts: ") })
            let runDir = dir + "/" + line.dropFirst("Artifacts: ".count)
            for file in [
                "analysis_report.json", "mapping_decisions.yml", "target_objects.sql", "improvement_recommendations.md",
                "validation_results.json", "summary.md", "run_log.ndjson",
            ] {
                #expect(FileManager.default.fileExists(atPath: runDir + "/" + file), "\(file)")
            }
            let runs = try await CLI.run(["runs", "list"], in: dir)
            #expect(runs.stdout.contains("demo") && runs.stdout.contains("succeeded"))
            // Deterministic sample data: a second run produces the same source bytes.
            let first = try Data(contentsOf: URL(fileURLWithPath: dir + "/.cutover/demo/source.db"))
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/.cutover/demo/source.db")) == first)
        }
    }

    /// `cutover demo | head -1`: the reader goes away after one line; the run still finishes (exit 0)
    /// instead of crashing on the next write.
    @Test func aClosedOutputPipeDoesNotCrashARun() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let piped = try await CLI.shell("{ '\(CLI.executable)' demo 2>err.txt; echo $? > status.txt; } | head -1", in: dir)
            #expect(piped.stdout.split(separator: "\n").count == 1, "\(piped.output)")
            let status = try String(contentsOfFile: dir + "/status.txt", encoding: .utf8)
            let stderr = try String(contentsOfFile: dir + "/err.txt", encoding: .utf8)
            #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "0" && !stderr.contains("Fatal error"), "\(status) \(stderr)")
        }
    }

    @Test func analyzeAndPlanChinookWriteTheirArtifacts() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let analyze = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--out", "out"], in: dir)
            #expect(analyze.status == 0, "\(analyze.output)")
            #expect(analyze.stdout.contains("11 tables"))
            #expect(analyze.stdout.contains("Track") && analyze.stdout.contains("3,503"))
            let plan = try await CLI.run(["plan", "--source", "sqlite:\(chinook)", "--target-dialect", "snowflake", "--out", "out"], in: dir)
            #expect(plan.status == 0, "\(plan.output)")
            #expect(
                plan.stdout.contains("mapping_decisions.yml") && plan.stdout.contains("target_objects.sql")
                    && plan.stdout.contains("improvement_recommendations.md"))
        }
    }

    @Test func initWritesAConfigThatEveryCommandReads() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            #expect(try await CLI.run(["init"], in: dir).status == 0)
            let config = try String(contentsOfFile: dir + "/cutover.yml", encoding: .utf8)
            #expect(config.contains("${PGPASSWORD}") && config.contains("PROD"))
            let again = try await CLI.run(["init"], in: dir)
            #expect(again.status == 2 && again.stderr.contains("--force"))
            // The template parses, and its named connections resolve (source needs PGPASSWORD).
            let analyze = try await CLI.run(["analyze", "--source", "source"], in: dir, environment: ["PGPASSWORD": "x"])
            #expect(analyze.stderr.contains("cannot connect") || analyze.stderr.contains("PostgreSQL"))
            #expect(!analyze.output.contains(":x@"))
        }
    }

    @Test(arguments: [
        (["analyze", "--source", "mysql://root:pw@h/db"], Int32(2), "unknown URL scheme"),
        (["analyze", "--source", "sqlite:/nope/missing.db"], Int32(3), "does not exist"),
        (["analyze"], Int32(2), "--source"),
        (["plan", "--source", "sqlite:x.db", "--target-dialect", "oracle"], Int32(2), "unknown target dialect"),
        (["analyze", "--source", "sqlite:x.db", "--config", "missing.yml"], Int32(2), "missing.yml"),
        (["migrate", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--batch-size", "0"], Int32(2), "batch-size"),
    ])
    func badInputGetsAClearMessageAndExitCode(arguments: [String], status: Int32, message: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let result = try await CLI.run(arguments, in: dir)
            #expect(result.status == status, "\(result.output)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.output.contains(":pw@"))
        }
    }

    @Test func unreadableConfigIsAUsageError() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try "connections: [oops".write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(["analyze", "--source", "sqlite:x.db"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains("cutover.yml"))
        }
    }

    @Test func unmappableTypeFailsThePlanAndNamesTheColumn() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try CLI.sqlite(dir + "/odd.db", "CREATE TABLE odd (id INTEGER PRIMARY KEY, mystery)")
            let result = try await CLI.run(["plan", "--source", "sqlite:odd.db", "--target-dialect", "postgres"], in: dir)
            #expect(result.status == 1)
            #expect(result.stderr.contains("odd.mystery") && result.stderr.contains("overrides"))
            let migrate = try await CLI.run(["migrate", "--source", "sqlite:odd.db", "--target", "sqlite:out.db"], in: dir)
            #expect(migrate.status == 1)
            #expect(migrate.stdout.contains("cannot map"))
        }
    }

    @Test(.enabled(if: TestEnvironment.hasPostgres)) func wrongPasswordIsClearAndNeverEchoed() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let admin = try TestEnvironment.postgresURL()
            let url = "postgres://\(admin.user!):not-the-password-42@\(admin.host!):\(admin.port!)/\(admin.database)"
            let result = try await CLI.run(["analyze", "--source", url], in: dir)
            #expect(result.status == 3, "could not run")
            #expect(result.stderr.contains("rejected the credentials"))
            #expect(!result.output.contains("not-the-password-42"))
            let runs = try await CLI.run(["runs", "list"], in: dir)
            #expect(runs.stdout.contains("failed"))
            #expect(!runs.output.contains("not-the-password-42"))
        }
    }

    @Test(.enabled(if: TestEnvironment.hasPostgres)) func migrateAndValidateChinookIntoPostgres() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.withPostgresDatabase { storeDB in
                    let chinook = try TestEnvironment.chinookCopy(in: dir)
                    let target = TestEnvironment.cliText(pg)
                    // The target's own database cannot hold the store: the store is never a connection.
                    let refused = try await CLI.run(["migrate", "--source", "sqlite:\(chinook)", "--target", target, "--store", target], in: dir)
                    #expect(refused.status == 2 && refused.stderr.contains("metadata store"), "\(refused.output)")
                    let migrate = try await CLI.run(
                        ["migrate", "--source", "sqlite:\(chinook)", "--target", target, "--store", TestEnvironment.cliText(storeDB)], in: dir)
                    #expect(migrate.status == 0, "\(migrate.output)")
                    #expect(!migrate.output.contains(pg.password!))
                    #expect(migrate.stdout.contains("11/11 tables moved, 15,607 rows; validation: 11 passed, 0 failed"))
                    let validate = try await CLI.run(
                        ["validate", "--source", "sqlite:\(chinook)", "--target", target, "--tables", "Track,Album"], in: dir)
                    #expect(validate.status == 0, "\(validate.output)")
                    try await TestEnvironment.psql(
                        pg, "UPDATE \"Track\" SET \"Name\" = 'changed' WHERE \"TrackId\" = 7; INSERT INTO \"Album\" VALUES (999, 'extra', 1)")
                    let broken = try await CLI.run(
                        ["validate", "--source", "sqlite:\(chinook)", "--target", target, "--tables", "Track,Album"], in: dir)
                    #expect(broken.status == 1)
                    #expect(broken.stdout.contains("Track changed TrackId=7: Name"))
                    #expect(broken.stdout.contains("Album extra at the target (1): AlbumId=999"))
                }
            }
        }
    }

    @Test func helpDescribesEveryCommand() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let help = try await CLI.run(["--help"], in: dir)
            #expect(help.status == 0)
            for command in ["demo", "init", "analyze", "plan", "migrate", "validate", "runs"] { #expect(help.stdout.contains(command)) }
            for command in ["analyze", "plan", "migrate", "validate", "demo"] {
                let sub = try await CLI.run([command, "--help"], in: dir)
                #expect(sub.status == 0)
                #expect(sub.stdout.contains("Example"), "\(command)")
            }
        }
    }
}

extension CLI {
    /// The run id a command printed (`run ID …`).
    static func runID(in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("run ") }.flatMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
    }

    /// Runs SQL with Debian's sqlite3 shell, as a user preparing a file would.
    static func sqlite(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CutoverError(.io, "sqlite3 failed on \(path)") }
    }
}
