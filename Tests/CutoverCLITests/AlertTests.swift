import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// Alert rules driven end to end: a failed run fires an alert, its webhook gets a signed POST (a
/// real HTTP receiver on loopback), an unacknowledged alert escalates, a flaky receiver is retried,
/// a dead one is recorded as failed, and acknowledged alerts stop escalating.
@Suite struct AlertTests {
    struct Received: Decodable {
        var path: String
        var event: String?
        var valid: Bool
        var body: Body
        struct Body: Decodable {
            var event: String
            var rule: String
            var alert: Alert
        }
        struct Alert: Decodable {
            var id: String
            var title: String
            var severity: String
            var state: String
        }
    }

    static func received(_ dir: String) throws -> [Received] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map {
            try JSONDecoder().decode(Received.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)))
        }
    }

    @Test func aFailedRunFiresASignedWebhookThatEscalatesUntilAcknowledged() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let port = try FaultProxy.freePort(), deadPort = try FaultProxy.freePort()
            let inbox = dir + "/inbox"
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            let receiver = Process()
            receiver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            receiver.arguments = [try #require(TestEnvironment.fixturePath("webhook_receiver.py")), String(port), inbox, "hook-secret-1"]
            try receiver.run()
            defer {
                kill(receiver.processIdentifier, SIGKILL)  // SIGTERM may be blocked in processes the test runner starts
                receiver.waitUntilExit()
            }
            try """
            alerts:
              channels:
                ops: {webhook: "http://127.0.0.1:\(port)/ops", secret: "${HOOK_SECRET}"}
                flaky: {webhook: "http://127.0.0.1:\(port)/flaky", secret: "${HOOK_SECRET}"}
                oncall: {webhook: "http://127.0.0.1:\(port)/oncall", secret: "${HOOK_SECRET}"}
                dead: {webhook: "http://127.0.0.1:\(deadPort)/nobody"}
            """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let env = ["HOOK_SECRET": "hook-secret-1"]

            // Bad rules are refused with what to change.
            let unknown = try await CLI.run(["alerts", "add", "x", "--when", "run_failed", "--channel", "pager"], in: dir, environment: env)
            #expect(unknown.status == 2 && unknown.stderr.contains("no alert channel named pager"), "\(unknown.output)")
            let noTime = try await CLI.run(
                ["alerts", "add", "x", "--when", "run_failed", "--channel", "ops", "--escalate-to", "oncall"], in: dir, environment: env)
            #expect(noTime.status == 2 && noTime.stderr.contains("--escalate-after"), "\(noTime.output)")
            let rate = try await CLI.run(
                ["alerts", "add", "x", "--when", "pass_rate_below", "--threshold", "140", "--channel", "ops"], in: dir, environment: env)
            #expect(rate.status == 2, "\(rate.output)")

            let add = try await CLI.run(
                [
                    "alerts", "add", "failures", "--when", "run_failed", "--severity", "critical", "--channel", "ops",
                    "--channel", "flaky", "--channel", "console", "--escalate-after", "3s", "--escalate-to", "oncall",
                ], in: dir, environment: env)
            #expect(add.status == 0, "\(add.output)")

            // Nothing failed yet: nothing fires.
            let quiet = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(quiet.status == 0 && quiet.stdout.contains("0 fired"), "\(quiet.output)")

            let failed = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/t.db", "--tables", "Genre", "--max-attempts", "1"],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            #expect(failed.status == 1, "\(failed.output)")

            let first = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.stdout.contains("1 fired"), "\(first.output)")
            #expect(first.stdout.contains("→ ops: delivered") && first.stdout.contains("→ flaky: delivered"), "\(first.output)")

            var got = try Self.received(inbox)
            #expect(got.map(\.path).sorted() == ["/flaky", "/ops"], "\(got.map(\.path))")
            #expect(got.allSatisfy { $0.valid && $0.event == "fired" && $0.body.rule == "failures" && $0.body.alert.severity == "critical" })
            #expect(got.first?.body.alert.title.contains("migrate run") == true && got.first?.body.alert.title.contains("failed") == true)
            let id = try #require(got.first?.body.alert.id)

            // Evaluated again: the same failed run is not alerted twice. The escalation (after 3 s) comes in
            // this pass or the next, and only once.
            let again = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(again.stdout.contains("0 fired"), "\(again.output)")
            try await Task.sleep(nanoseconds: 3_200_000_000)
            let escalated = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            let passes = again.stdout + escalated.stdout
            #expect(passes.split(separator: "\n").filter { $0.hasPrefix("escalated \(id)") }.count == 1, "\(passes)")
            let last = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(last.stdout.contains("0 fired") && last.stdout.contains("0 escalated"), "\(last.output)")
            got = try Self.received(inbox)
            #expect(got.filter { $0.path == "/oncall" }.count == 1, "\(got.map(\.path))")
            #expect(got.contains { $0.path == "/oncall" && $0.event == "escalated" && $0.body.alert.id == id && $0.valid }, "\(got.map(\.path))")

            let show = try await CLI.run(["alerts", "show", id], in: dir)
            #expect(show.stdout.contains("fired → flaky: delivered after 2 attempt(s)"), "\(show.output)")
            #expect(show.stdout.contains("escalated → oncall: delivered"), "\(show.output)")
            #expect(show.stdout.contains("fired → console: delivered"), "\(show.output)")

            let list = try await CLI.run(["alerts", "list", "--state", "firing", "--format", "json"], in: dir)
            let open = try JSONDecoder().decode([Received.Alert].self, from: Data(list.stdout.utf8))
            #expect(open.map(\.id) == [id], "\(list.output)")
            let ack = try await CLI.run(["alerts", "ack", id], in: dir)
            #expect(ack.stdout.contains("\(id) acknowledged"), "\(ack.output)")
            let resolve = try await CLI.run(["alerts", "resolve", id], in: dir)
            #expect(resolve.stdout.contains("\(id) resolved"), "\(resolve.output)")
            let twice = try await CLI.run(["alerts", "resolve", id], in: dir)
            #expect(twice.status == 2 && twice.stderr.contains("was resolved"), "\(twice.output)")
            let missing = try await CLI.run(["alerts", "ack", "al-nothing"], in: dir)
            #expect(missing.status == 2, "\(missing.output)")

            // Silenced: a new failure is recorded, not delivered. A receiver that is down: the delivery
            // fails after its retries, is recorded, and the pass exits 1.
            let deadRule = try await CLI.run(
                ["alerts", "add", "unreachable", "--when", "run_failed", "--channel", "dead"], in: dir, environment: env)
            #expect(deadRule.status == 0, "\(deadRule.output)")
            let silence = try await CLI.run(["alerts", "silence", "failures", "--for", "1h"], in: dir)
            #expect(silence.stdout.contains("silenced until"), "\(silence.output)")
            let before = try Self.received(inbox).count
            _ = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/t.db", "--tables", "MediaType", "--max-attempts", "1"],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            let silenced = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(silenced.status == 1 && silenced.stdout.contains("2 fired") && silenced.stdout.contains("→ ops: silenced"), "\(silenced.output)")
            #expect(silenced.stdout.contains("→ dead: failed"), "\(silenced.output)")
            #expect(try Self.received(inbox).count == before)
        }
    }

    /// A run the server started that fails is alerted on when it ends, not at the next interval (1 h here).
    @Test func serveAlertsWhenItsRunFailsWithoutWaitingForTheInterval() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try "connections:\n  chinook: \"sqlite:\(chinook)\"\n  copy: \"sqlite:\(dir)/copy.db\"\nalerts:\n  interval: 1h\n"
                .write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            #expect(try await CLI.run(["alerts", "add", "failures", "--when", "run_failed", "--channel", "console"], in: dir).status == 0)
            let server = try ServeProcess(in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            defer { server.stop() }
            let base = server.base
            let result = try await CLI.shell(
                """
                for i in $(seq 1 100); do curl -sf \(base)/health >/dev/null && break; sleep 0.1; done
                curl -sf -X POST \(base)/api/v1/auth/register -H 'Content-Type: application/json' -d '{"username": "ada", "password": "lovelace-1815"}' >/dev/null
                TOKEN=$(curl -sf -X POST \(base)/api/v1/auth/login -H 'Content-Type: application/json' -d '{"username": "ada", "password": "lovelace-1815"}' \
                  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
                curl -sf -X POST \(base)/api/v1/migrations -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                  -d '{"source": "chinook", "target": "copy", "tables": ["Genre"]}' >/dev/null
                for i in $(seq 1 120); do
                  curl -sf \(base)/api/v1/notifications -H "Authorization: Bearer $TOKEN" | grep -q 'alert.fired' && { echo fired; break; }
                  sleep 0.5
                done
                """, in: dir)
            #expect(result.stdout.contains("fired"), "no alert within a minute of the failed run: \(result.output)")
        }
    }
}
