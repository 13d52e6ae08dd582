import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

/// The web console as a person uses it: `cutover serve`, then headless Chromium (through
/// chromedriver) signs up, starts the demo migration, watches it finish, opens its validation
/// results and screenshots every main page (Fixtures/console_check.py).
@Suite struct ConsoleBrowserTests {
    static var hasBrowser: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    @Test(.enabled(if: hasBrowser || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"))
    func signUpRunTheDemoWatchItAndOpenItsResults() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            // A past month in the store (imported), so "this month" has to be found, not taken as the last month with data.
            try FileManager.default.createDirectory(atPath: dir + "/history", withIntermediateDirectories: true)
            try
                #"{"suite_name": "nightly", "data_date": "2025-04-02", "results": [{"expectation_type": "a", "success": true}, {"expectation_type": "b", "success": false}]}"#
                .write(toFile: dir + "/history/nightly_2025-04-02.json", atomically: true, encoding: .utf8)
            #expect(try await CLI.run(["store", "import", "history"], in: dir).status == 0)
            // Ingestion metadata with a late pipeline, for the Monitoring page.
            let metadata = try SQLiteSession(path: dir + "/meta.db", create: true)
            for statement in IngestionFixture.sql(now: Date()) { try metadata.executeScript(statement) }
            // Two named connections for a project: Chinook and a copy of two of its tables.
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let copied = try await CLI.run(
                [
                    "migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/copy.db", "--tables", "Genre,MediaType", "--store",
                    "sqlite:\(dir)/setup-store.db",
                ], in: dir)
            #expect(copied.status == 0, "\(copied.output)")
            try
                (IngestionTests.config(connection: "sqlite:meta.db")
                + "connections:\n  chinook: \"sqlite:\(chinook)\"\n  copy: \"sqlite:\(dir)/copy.db\"\n")
                .write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let server = try ServeProcess(in: dir)
            defer { server.stop() }
            let script = try #require(TestEnvironment.fixturePath("console_check.py"))
            let check = try await CLI.shell(
                "CONSOLE_CHECK_INGESTION=breached,raw.orders,'last load failed' CONSOLE_CHECK_PROJECT=chinook,copy python3 '\(script)' \(server.base) '\(dir)/screenshots'",
                in: dir)
            #expect(check.status == 0, "\(check.output)")
            #expect(check.stdout.contains("console check passed"))
            let shots = try FileManager.default.contentsOfDirectory(atPath: dir + "/screenshots").filter { $0.hasSuffix(".png") }
            #expect(shots.count >= 16, "\(shots)")
            for shot in shots {
                let size = (try FileManager.default.attributesOfItem(atPath: dir + "/screenshots/" + shot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "\(shot) is \(size) bytes")
            }
        }
    }
}
