import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

/// Ingestion health read from real metadata tables (SQLite files, PostgreSQL) as a user configures
/// it, and the ingestion alert conditions driven into webhook deliveries, escalation and recovery.
@Suite struct IngestionTests {
    struct Health: Decodable {
        var pipelines: [Pipeline]
        struct Pipeline: Decodable, Equatable {
            var name: String
            var freshness: String
            var lastStatus: String?
            var lastRows: Int64?
            var medianRows: Double?
            var problems: [String]
        }
    }

    static func config(connection: String, extra: String = "") -> String {
        """
        ingestion:
          connection: "\(connection)"
          pipelines: metadata_config_table_elt
          history: elt_load_history
          environment: PROD
        \(extra)
        """
    }

    static func checkHealth(_ output: String) throws {
        let health = try JSONDecoder().decode(Health.self, from: Data(output.utf8))
        let byName = Dictionary(uniqueKeysWithValues: health.pipelines.map { ($0.name, $0) })
        #expect(byName.keys.sorted() == ["raw.customers", "raw.ledger", "raw.old", "raw.orders"], "\(byName.keys)")
        #expect(
            byName["raw.customers"]?.freshness == "fresh" && byName["raw.customers"]?.problems == [], "\(String(describing: byName["raw.customers"]))"
        )
        #expect(byName["raw.customers"]?.lastRows == 1001)
        let orders = try #require(byName["raw.orders"])
        #expect(orders.freshness == "breached" && orders.lastStatus == "failed", "\(orders)")
        #expect(
            orders.problems.contains { $0.contains("expected every 1h") && $0.contains("SLA breached") }
                && orders.problems.contains("last load failed"), "\(orders)")
        let ledger = try #require(byName["raw.ledger"])
        #expect(ledger.freshness == "fresh" && ledger.lastRows == 40 && ledger.medianRows == 5016.5, "\(ledger)")
        #expect(ledger.problems.count == 1 && ledger.problems[0].contains("usually 5017"), "\(ledger)")
        #expect(byName["raw.old"]?.freshness == "inactive" && byName["raw.old"]?.problems == [])
    }

    @Test func healthOfSQLiteMetadataFiresEscalatesAndResolvesAlerts() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let session = try SQLiteSession(path: dir + "/meta.db", create: true)
            for statement in IngestionFixture.sql(now: Date()) { try session.executeScript(statement) }
            let port = try FaultProxy.freePort()
            let inbox = dir + "/inbox"
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            let receiver = Process()
            receiver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            receiver.arguments = [try #require(TestEnvironment.fixturePath("webhook_receiver.py")), String(port), inbox, "hook-secret-2"]
            try receiver.run()
            defer {
                kill(receiver.processIdentifier, SIGKILL)
                receiver.waitUntilExit()
            }

            // Not configured: the command and the rules say what to add.
            let none = try await CLI.run(["ingestion", "health"], in: dir)
            #expect(none.status == 2 && none.stderr.contains("no ingestion metadata is configured"), "\(none.output)")
            let noRule = try await CLI.run(["alerts", "add", "stale", "--when", "ingestion_stale", "--channel", "console"], in: dir)
            #expect(noRule.status == 2 && noRule.stderr.contains("no `ingestion:` is configured"), "\(noRule.output)")

            // Wrong table, wrong column override: named, with what to do.
            try Self.config(connection: "sqlite:meta.db").replacingOccurrences(
                of: "pipelines: metadata_config_table_elt", with: "pipelines: pipelines_cfg"
            )
            .write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let missing = try await CLI.run(["ingestion", "health"], in: dir)
            #expect(missing.status == 3 && missing.stderr.contains("ingestion.pipelines in cutover.yml: no table pipelines_cfg"), "\(missing.output)")
            try Self.config(connection: "sqlite:meta.db", extra: "  columns: {last_loaded: finished}").write(
                toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let column = try await CLI.run(["ingestion", "health"], in: dir)
            #expect(
                column.status == 2 && column.stderr.contains("has no column finished") && column.stderr.contains("last_loaded_at"), "\(column.output)"
            )

            try Self.config(
                connection: "sqlite:meta.db",
                extra: """
                    alerts:
                      channels:
                        data: {webhook: "http://127.0.0.1:\(port)/data", secret: "hook-secret-2"}
                        oncall: {webhook: "http://127.0.0.1:\(port)/oncall", secret: "hook-secret-2"}
                    """
            ).write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let text = try await CLI.run(["ingestion", "health"], in: dir)
            #expect(text.status == 1, "\(text.output)")
            #expect(text.stdout.contains("breached  raw.orders") && text.stdout.contains("3 active pipeline(s), 2 with problems"), "\(text.output)")
            let json = try await CLI.run(["ingestion", "health", "--format", "json"], in: dir)
            try Self.checkHealth(json.stdout)

            for (name, condition) in [("stale", "ingestion_stale"), ("failed-load", "ingestion_failed"), ("volume", "row_count_anomaly")] {
                var arguments = ["alerts", "add", name, "--when", condition, "--scope", "raw.*", "--channel", "data", "--channel", "console"]
                if condition == "ingestion_stale" { arguments += ["--escalate-after", "2s", "--escalate-to", "oncall"] }
                let add = try await CLI.run(arguments, in: dir)
                #expect(add.status == 0, "\(add.output)")
            }
            let first = try await CLI.run(["alerts", "evaluate"], in: dir)
            #expect(first.stdout.contains("3 fired"), "\(first.output)")
            // "5h" or, on a slow machine, "5h 1m": the metadata was written a moment ago.
            #expect(
                first.stdout.contains("ingestion: raw.orders last loaded 5h") && first.stdout.contains("ago, expected every 1h"), "\(first.output)")
            #expect(first.stdout.contains("ingestion: the last load of raw.orders failed"), "\(first.output)")
            #expect(first.stdout.contains("ingestion: raw.ledger loaded 40 rows, usually 5017"), "\(first.output)")
            var got = try AlertTests.received(inbox)
            #expect(got.count == 3 && got.allSatisfy { $0.path == "/data" && $0.valid && $0.event == "fired" }, "\(got.map(\.path))")

            // Still stale and unacknowledged after 2 s: escalated once; still holding: not fired again.
            try await Task.sleep(nanoseconds: 2_200_000_000)
            let second = try await CLI.run(["alerts", "evaluate"], in: dir)
            #expect(second.stdout.contains("0 fired, 3 still holding, 1 escalated"), "\(second.output)")
            got = try AlertTests.received(inbox)
            #expect(
                got.filter { $0.path == "/oncall" && $0.event == "escalated" && $0.body.alert.title.contains("raw.orders last loaded") }.count == 1,
                "\(got.map(\.path))")

            // The orders pipeline loads again: its stale and failed alerts resolve and the channel hears so.
            try session.executeScript(
                "UPDATE metadata_config_table_elt SET last_loaded_at = '\(IngestionFixture.stamp(60, from: Date()))' WHERE config_id = 2")
            try session.executeScript("INSERT INTO elt_load_history VALUES (999, 2, '\(IngestionFixture.stamp(60, from: Date()))', 690, 'success')")
            let third = try await CLI.run(["alerts", "evaluate"], in: dir)
            #expect(third.stdout.contains("0 fired, 1 still holding, 0 escalated, 2 resolved"), "\(third.output)")
            got = try AlertTests.received(inbox)
            #expect(got.filter { $0.event == "resolved" }.count == 2, "\(got.map(\.path))")
            let after = try await CLI.run(["ingestion", "health", "--format", "json"], in: dir)
            let orders = try JSONDecoder().decode(Health.self, from: Data(after.stdout.utf8)).pipelines.first { $0.name == "raw.orders" }
            #expect(orders?.freshness == "fresh" && orders?.problems == [], "\(after.output)")

            // The metadata out of reach: each ingestion rule says it could not be evaluated (exit 3), the
            // other rules are still evaluated, and the open alert is not taken as recovered.
            try FileManager.default.moveItem(atPath: dir + "/meta.db", toPath: dir + "/meta-away.db")
            let other = try await CLI.run(["alerts", "add", "runs", "--when", "run_failed", "--channel", "console"], in: dir)
            #expect(other.status == 0, "\(other.output)")
            let blind = try await CLI.run(["alerts", "evaluate"], in: dir)
            #expect(
                blind.status == 3 && blind.stderr.contains("alert rule volume could not be evaluated") && blind.stderr.contains("meta.db"),
                "\(blind.output)")
            #expect(blind.stdout.contains("0 resolved"), "\(blind.output)")
            let open = try await CLI.run(["alerts", "list", "--state", "open"], in: dir)
            #expect(open.stdout.contains("raw.ledger loaded 40 rows"), "\(open.output)")
        }
    }

    @Test(.enabled(if: TestEnvironment.hasPostgres)) func healthOfPostgresMetadataMatchesTheSameRules() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(url, "SET TIME ZONE 'UTC'; " + IngestionFixture.sql(now: Date()).joined(separator: ";\n"))
            try await TestEnvironment.withTemporaryDirectory { dir in
                try Self.config(connection: TestEnvironment.cliText(url)).write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
                let json = try await CLI.run(["ingestion", "health", "--format", "json"], in: dir)
                #expect(json.status == 1, "\(json.stderr)")
                try Self.checkHealth(json.stdout)
                #expect(!json.output.contains(url.password ?? "never-a-password-here"))
            }
        }
    }
}
