import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// `cutover store import | archive | stats | overview` as a user runs them, and many processes
/// writing to one store at once.
@Suite struct StoreCLITests {
    /// A file-based history as the tools Cutover replaces leave it.
    static func writeHistory(in dir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/history/nightly", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/history/logs", withIntermediateDirectories: true)
        try """
            {"suite_name": "nightly", "results": [
              {"expectation_config": {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "material"}}, "success": true},
              {"expectation_config": {"expectation_type": "expect_column_values_to_be_in_set", "kwargs": {"column": "plant"}}, "success": false,
               "table": "products"}
            ]}
            """.write(toFile: dir + "/history/nightly/nightly_2025-04-02.json", atomically: true, encoding: .utf8)
        try #"""
            TIMESTAMP,PLUGIN,MATERIAL_NUMBER,FIELD,EXTRA,STATUS,NOTE
            2025-04-02 10:00:00,rectifier,M-1,plant,,Success,fixed
            2025-04-02 10:05:00,rectifier,M-2,plant,,Failed,"a note
            over two lines, with ""quotes"""
            """#.write(toFile: dir + "/history/logs/Unified_Logs_2025-04.csv", atomically: true, encoding: .utf8)
        try """
            {"at":"2025-04-03T08:00:00.000Z","level":"info","run":"r1","event":"run.started","message":"started"}
            {"at":"2025-04-03T08:01:00.000Z","level":"error","run":"r1","event":"run.failed","message":"failed","fields":{"table":"x"}}
            """.write(toFile: dir + "/history/logs/run_log.ndjson", atomically: true, encoding: .utf8)
        try """
            rules:
              - name: no negative amounts
                severity: error
                sql: SELECT * FROM invoices WHERE total < 0
            """.write(toFile: dir + "/history/rulebook.yml", atomically: true, encoding: .utf8)
        try """
            name: nightly checks
            steps:
              - check: row_count
                table: main.products
            """.write(toFile: dir + "/history/pipeline.yml", atomically: true, encoding: .utf8)
        try #"{"material": {"data_type": "VARCHAR", "distinct_count": 120}}"#
            .write(toFile: dir + "/history/column_metadata_cache.json", atomically: true, encoding: .utf8)
        try #"{"results": [{"success": "#.write(toFile: dir + "/history/nightly/nightly_2025-04-03.json", atomically: true, encoding: .utf8)
        try "notes".write(toFile: dir + "/history/README.txt", atomically: true, encoding: .utf8)
    }

    func rows(_ dir: String, _ store: String) async throws -> [String: Int64] {
        let stats = try await CLI.run(["store", "stats", "--format", "json", "--store", store], in: dir)
        let object = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        let tables = object?["tables"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: tables.map { ($0["name"] as? String ?? "", ($0["rows"] as? NSNumber)?.int64Value ?? -1) })
    }

    @Test func importReadsEveryKindOfHistoryFileOnceAndReportsTheBadOne() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try Self.writeHistory(in: dir)
            let store = "sqlite:\(dir)/team.db"
            let dry = try await CLI.run(["store", "import", "history", "--dry-run", "--store", store], in: dir)
            #expect(dry.stdout.contains("would import") && dry.stdout.contains("nightly_2025-04-02.json"), "\(dry.output)")
            #expect(try await rows(dir, store)["validation_results"] == 0)

            let first = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            #expect(first.status == 1, "a bad file fails the command: \(first.output)")
            #expect(first.stdout.contains("failed") && first.stdout.contains("nightly_2025-04-03.json") && first.stdout.contains("not valid JSON"))
            #expect(first.stdout.contains("skipped") && first.stdout.contains("README.txt"))
            #expect(first.stdout.contains("6 imported"), "\(first.stdout)")
            let counts = try await rows(dir, store)
            #expect(counts["validation_runs"] == 1 && counts["validation_results"] == 2)
            #expect(counts["logs"] == 4 && counts["rules"] == 1 && counts["pipelines"] == 1 && counts["column_metadata"] == 1 && counts["imports"] == 6)

            let again = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            #expect(again.stdout.contains("6 already imported"), "\(again.stdout)")
            #expect(try await rows(dir, store) == counts)

            // The imported month shows in the overview, with its pass rate.
            let overview = try await CLI.run(["store", "overview", "--format", "json", "--store", store], in: dir)
            let months = (try JSONSerialization.jsonObject(with: Data(overview.stdout.utf8)) as? [String: Any])?["months"] as? [[String: Any]] ?? []
            let april = try #require(months.first { $0["month"] as? String == "2025-04" })
            #expect((april["checks"] as? NSNumber)?.intValue == 2 && (april["passed"] as? NSNumber)?.intValue == 1)
            let text = try await CLI.run(["store", "overview", "--store", store], in: dir)
            #expect(text.stdout.contains("2025-04") && text.stdout.contains("50.0%") && text.stdout.contains("(cache"), "\(text.stdout)")
        }
    }

    @Test func archiveMovesOldRowsIntoGzipFilesAndStatsShowTheCaches() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try Self.writeHistory(in: dir)
            let store = "sqlite:\(dir)/team.db"
            _ = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            let wrong = try await CLI.run(["store", "archive", "--older-than", "ninety days", "--store", store], in: dir)
            #expect(wrong.status == 2 && wrong.stderr.contains("90d"), "\(wrong.output)")
            let dry = try await CLI.run(["store", "archive", "--older-than", "30d", "--dry-run", "--store", store], in: dir)
            #expect(dry.stdout.contains("would archive 2 validation_results rows"), "\(dry.output)")
            let archive = try await CLI.run(["store", "archive", "--older-than", "30d", "--to", "archive", "--store", store], in: dir)
            #expect(archive.status == 0, "\(archive.output)")
            #expect(archive.stdout.contains("archived 4 logs rows"), "\(archive.stdout)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/archive").filter { $0.hasSuffix(".ndjson.gz") }
            #expect(files.count == 3)
            let counts = try await rows(dir, store)
            #expect(counts["validation_results"] == 0 && counts["logs"] == 0 && counts["validation_runs"] == 0)
            let lines = try await CLI.shell("gunzip -c archive/logs-*.gz | wc -l", in: dir)
            #expect(lines.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4")

            _ = try await CLI.run(["store", "overview", "--store", store], in: dir)
            _ = try await CLI.run(["store", "overview", "--store", store], in: dir)
            let stats = try await CLI.run(["store", "stats", "--store", store], in: dir)
            #expect(stats.stdout.contains("schema version 9") && stats.stdout.contains("overview") && stats.stdout.contains("% hits of 2 lookups"),
                    "\(stats.stdout)")
        }
    }

    static func storeBackends() -> [String] { TestEnvironment.hasPostgres ? ["sqlite", "postgres"] : ["sqlite"] }

    /// Four `cutover demo` processes at once, each in its own folder, all recording into one store.
    @Test(arguments: storeBackends())
    func concurrentProcessesWritingOneStoreLoseNothing(backend: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let body: (String) async throws -> Void = { store in
                try await withThrowingTaskGroup(of: CLI.Result.self) { group in
                    for n in 0..<4 {
                        let folder = dir + "/p\(n)"
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                        group.addTask { try await CLI.run(["demo", "--store", store], in: folder) }
                    }
                    for try await result in group { #expect(result.status == 0, "\(result.output)") }
                }
                let counts = try await rows(dir, store)
                #expect(counts["runs"] == 8, "analyze + demo per process")
                #expect(counts["validation_runs"] == 4 && counts["validation_results"] == 16)
                #expect(counts["chunks"] == 16 && counts["notifications"] == 8)
                #expect((counts["logs"] ?? 0) >= 4 * 8)
            }
            if backend == "postgres" {
                try await TestEnvironment.withPostgresDatabase { try await body(TestEnvironment.cliText($0)) }
            } else {
                try await body("sqlite:\(dir)/shared.db")
            }
        }
    }
}

extension StoreCLITests {
    @Test func analyzeReusesTheCachedCatalogOnlyWhenAskedAndFreshEnough() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let first = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)"], in: dir)
            #expect(first.status == 0 && first.stdout.contains("11 tables"), "\(first.output)")
            // Drop a table: a fresh read sees 10, the cache still knows 11.
            _ = try await CLI.shell("python3 -c \"import sqlite3; c = sqlite3.connect('\(chinook)'); c.execute('DROP TABLE PlaylistTrack'); c.commit()\"", in: dir)
            let cached = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "1h"], in: dir)
            #expect(cached.stdout.contains("11 tables"), "\(cached.output)")
            let fresh = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)"], in: dir)
            #expect(fresh.stdout.contains("10 tables"), "\(fresh.output)")
            let expired = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "0m"], in: dir)
            #expect(expired.stdout.contains("10 tables"), "\(expired.output)")
            let bad = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "soon"], in: dir)
            #expect(bad.status == 2 && bad.stderr.contains("--metadata-max-age soon is not an age"), "\(bad.output)")
        }
    }
}
