import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// What an operator sees of a run: Prometheus metrics (parsed by the reference client's parser,
/// prometheus-client from PyPI) and JSON log lines, without a secret in either.
@Suite struct OperationsTests {
    /// The Python with prometheus-client and aiosmtpd that scripts/test.sh installs.
    static var python: String? { ProcessInfo.processInfo.environment["CUTOVER_TEST_OPS_PYTHON"] }
    static var required: Bool { python != nil || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1" }

    struct Exposition: Decodable {
        var totals: [String: Double]
        var labels: [String: [[String: String]]]
        var types: [String: String]
    }

    static func parse(_ file: String, in dir: String) async throws -> Exposition {
        let python = try #require(Self.python, "scripts/test.sh installs .venv-ops and sets CUTOVER_TEST_OPS_PYTHON")
        let script = try #require(TestEnvironment.fixturePath("prometheus_totals.py"))
        let parsed = try await CLI.shell("'\(python)' '\(script)' '\(file)'", in: dir)
        try #require(parsed.status == 0, "the Prometheus parser refused \(file): \(parsed.output)")
        return try JSONDecoder().decode(Exposition.self, from: Data(parsed.stdout.utf8))
    }

    @Test(.enabled(if: required))
    func metricsMoveWhileAMigrationRunsAndLogsAreJSONWithoutSecrets() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let port = try FaultProxy.freePort()
            // A slow database (every chunk 150 ms longer) so the scrapes land while chunks load.
            let (process, output) = try CLI.start(
                [
                    "migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/target.db", "--chunk-rows", "400", "--parallel", "1",
                    "--metrics-port", String(port), "--log-level", "info", "--log-format", "json",
                    "--store", "postgres://cutover:hunter2-secret@127.0.0.1:1/nowhere",
                ],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk.sleep:150"])
            let failed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            // A store that cannot be reached: exit 3, and its password appears nowhere.
            #expect(process.terminationStatus == 3, "\(failed)")
            #expect(!failed.contains("hunter2-secret"), "\(failed)")

            let run = try CLI.start(
                [
                    "migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/target.db", "--chunk-rows", "400", "--parallel", "1",
                    "--metrics-port", String(port), "--log-level", "info", "--log-format", "json",
                ],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk.sleep:150"])
            let scrapes = try await CLI.shell(
                """
                for i in $(seq 1 200); do curl -sf http://127.0.0.1:\(port)/metrics -o first.txt && grep -q '^cutover_rows_moved_total' first.txt && break; sleep 0.05; done
                sleep 1.5
                curl -sf http://127.0.0.1:\(port)/metrics -o second.txt; echo "second=$?"
                """, in: dir)
            let log = String(decoding: run.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            run.process.waitUntilExit()
            #expect(run.process.terminationStatus == 0, "\(log)")
            #expect(scrapes.stdout.contains("second=0"), "\(scrapes.output)")

            let first = try await Self.parse(dir + "/first.txt", in: dir)
            let second = try await Self.parse(dir + "/second.txt", in: dir)
            let moved = { (e: Exposition) in e.totals["cutover_rows_moved_total"] ?? 0 }
            #expect(moved(first) > 0)
            #expect(moved(second) > moved(first), "rows moved must grow between scrapes during the run")
            #expect(moved(second) <= 15_607)
            #expect(first.totals["cutover_active_runs"] == 1)
            #expect(first.types["cutover_chunk_duration_seconds"] == "histogram")
            #expect((second.totals["cutover_chunk_duration_seconds_count"] ?? 0) > 0)
            #expect(
                second.labels["cutover_rows_moved_total"]?.contains { $0["table"] == "InvoiceLine" } == true
                    || first.labels["cutover_rows_moved_total"]?.contains { $0["table"] == "InvoiceLine" } == true
                    || moved(second) < 15_607)
            #expect((second.totals["cutover_store_operation_seconds_count"] ?? 0) > 0)

            // Every stderr line is a JSON record; the run's events carry its id, table and event name.
            let records = log.split(separator: "\n").compactMap { line -> [String: String]? in
                guard line.hasPrefix("{") else { return nil }
                return try? JSONDecoder().decode([String: String].self, from: Data(line.utf8))  // stdout lines are not records
            }
            #expect(records.contains { $0["event"] == "run.started" && $0["run_id"] != nil && $0["logger"] == "cutover.run" }, "\(log)")
            #expect(records.contains { $0["event"] == "chunk.done" || $0["event"] == "table.done" }, "\(log)")
            #expect(records.contains { $0["logger"] == "cutover.store" && $0["message"]?.contains("store migration") == true })
            #expect(records.allSatisfy { $0["time"] != nil && $0["level"] != nil && $0["message"] != nil })
        }
    }

    @Test(.enabled(if: required))
    func serveExportsMetricsToSignedInCallersAndLogsRequestsWithoutTokens() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let logPath = dir + "/serve.log"
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let server = try ServeProcess(
                in: dir, arguments: ["--log-format", "json"], standardError: try #require(FileHandle(forWritingAtPath: logPath)))
            defer { server.stop() }
            let base = server.base
            let result = try await CLI.shell(
                """
                for i in $(seq 1 100); do curl -sf \(base)/health >/dev/null && break; sleep 0.1; done
                echo "anonymous=$(curl -s -o /dev/null -w '%{http_code}' \(base)/metrics)"
                curl -sf -X POST \(base)/api/v1/auth/register -H 'Content-Type: application/json' -d '{"username": "ada", "password": "lovelace-1815"}' >/dev/null
                TOKEN=$(curl -sf -X POST \(base)/api/v1/auth/login -H 'Content-Type: application/json' -d '{"username": "ada", "password": "lovelace-1815"}' \
                  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
                curl -s -m 1 "\(base)/api/v1/events?access_token=$TOKEN" >/dev/null
                curl -s -o /dev/null \(base)/api/v1/migrations -H "Authorization: Bearer $TOKEN"
                echo "viewer=$(curl -s -o metrics.txt -w '%{http_code}' \(base)/metrics -H "Authorization: Bearer $TOKEN")"
                echo "token=$TOKEN"
                """, in: dir)
            #expect(result.stdout.contains("anonymous=401"), "\(result.output)")
            #expect(result.stdout.contains("viewer=200"), "\(result.output)")
            let exposition = try await Self.parse(dir + "/metrics.txt", in: dir)
            let requests = exposition.labels.first { $0.key.hasPrefix("hb_requests") }?.value ?? []
            #expect(
                requests.contains { $0["http_route"] == "/api/v1/migrations" && $0["http_response_status_code"] == "200" },
                "\(exposition.labels.keys.sorted())")
            #expect(requests.contains { $0["http_response_status_code"] == "401" })
            #expect((exposition.totals["cutover_store_operation_seconds_count"] ?? 0) > 0)

            try await Task.sleep(nanoseconds: 200_000_000)
            let token = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("token=") }.map { String($0.dropFirst(6)) })
            let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            let records = lines.compactMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            #expect(records.count == lines.count, "every stderr line of serve --log-format json is a JSON record:\n\(lines.joined(separator: "\n"))")
            #expect(
                records.contains {
                    $0["route"] == "/api/v1/migrations" && $0["status"] == "200" && $0["user"] == "ada" && $0["hb.request.id"] != nil
                },
                "\(lines.joined(separator: "\n"))")
            #expect(records.contains { $0["path"] == "/api/v1/events" }, "the event stream request is logged, by its path only")
            #expect(!lines.contains { $0.contains(token) }, "a token in a query string must not reach the log")
        }
    }
}
