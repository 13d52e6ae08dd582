import CutoverCore
import CutoverStore
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
            #expect(
                counts["logs"] == 4 && counts["rules"] == 1 && counts["pipelines"] == 1 && counts["column_metadata"] == 1 && counts["imports"] == 6)

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
            #expect(
                stats.stdout.contains("schema version 23") && stats.stdout.contains("overview") && stats.stdout.contains("% hits of 2 lookups"),
                "\(stats.stdout)")

            // `store import` of the archive folder restores it too (the manifest is read with its files).
            let imported = try await CLI.run(["store", "import", "archive", "--store", store], in: dir)
            #expect(imported.status == 0 && imported.stdout.contains("3 imported, 1 skipped"), "\(imported.output)")
            let back = try await rows(dir, store)
            #expect(back["validation_results"] == 2 && back["logs"] == 4 && back["validation_runs"] == 1, "\(back)")
        }
    }

    /// Overlapping log exports, and one suite run found in its results file and in a daily cache,
    /// are stored once; a log file with a bad line leaves nothing of itself behind.
    @Test func overlappingExportsAreStoredOnceAndABadLogFileIsTakenBack() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir + "/history/cache", withIntermediateDirectories: true)
            let header = "TIMESTAMP,PLUGIN,MATERIAL_NUMBER,FIELD,EXTRA,STATUS,NOTE\n"
            let lines = (1...4).map { "2025-04-02 10:0\($0):00,rectifier,M-\($0),plant,,Success,fixed \($0)\n" }
            try (header + lines[0...2].joined()).write(toFile: dir + "/history/Unified_Logs_2025-04-a.csv", atomically: true, encoding: .utf8)
            try (header + lines[1...3].joined()).write(toFile: dir + "/history/Unified_Logs_2025-04-b.csv", atomically: true, encoding: .utf8)
            let suiteRun = #"{"suite_name": "nightly", "data_date": "2025-04-02", "results": [{"expectation_type": "expect_x", "success": true}]}"#
            try suiteRun.write(toFile: dir + "/history/nightly_2025-04-02.json", atomically: true, encoding: .utf8)
            try suiteRun.replacingOccurrences(of: "{", with: #"{"cached_at": "2025-04-02T23:00:00Z", "#, range: suiteRun.range(of: "{"))
                .write(toFile: dir + "/history/cache/nightly_cache.json", atomically: true, encoding: .utf8)
            let store = "sqlite:\(dir)/team.db"
            let imported = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            #expect(
                imported.status == 0 && imported.stdout.contains("2 already in the store") && imported.stdout.contains("1 already in the store"),
                "\(imported.output)")
            var counts = try await rows(dir, store)
            #expect(counts["logs"] == 4 && counts["validation_runs"] == 1 && counts["validation_results"] == 1, "\(counts)")
            // An imported run reports like any other.
            let importedRun = try #require(try await SQLMetadataStore.open(try ConnectionURL(parsing: store)).validationRuns(limit: 1).first?.id)
            let report = try await CLI.run(["report", importedRun, "--out", "report", "--store", store], in: dir)
            #expect(report.status == 0 && report.stdout.contains("1 of 1 passed"), "\(report.output)")
            #expect(try String(contentsOfFile: dir + "/report/report.md", encoding: .utf8).contains("1:expect_x"))

            // 6,000 good lines (more than one write batch), then one without a time: nothing of the file stays.
            let good = (0..<6_000).map { "2025-05-01 00:00:00.\(String(format: "%03d", $0 % 1000)),p,M\($0),f,,Success,n\n" }.joined()
            try fm.createDirectory(atPath: dir + "/bad", withIntermediateDirectories: true)
            try (header + good + ",p,M,f,,Success,no time\n").write(toFile: dir + "/bad/Unified_Logs_bad.csv", atomically: true, encoding: .utf8)
            let bad = try await CLI.run(["store", "import", "bad", "--store", store], in: dir)
            #expect(bad.status == 1 && bad.stdout.contains("line 6002 has no readable time"), "\(bad.output)")
            counts = try await rows(dir, store)
            #expect(counts["logs"] == 4, "\(counts)")
        }
    }

    /// What suite files carry besides their results is kept: the validated materials, the derived
    /// statuses (as results named derived_status/…), and a metadata cache's own time.
    @Test func suiteFilesKeepMaterialsDerivedStatusesAndTheirTimes() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/history", withIntermediateDirectories: true)
            try #"""
            {"suite_name": "materials", "data_date": "2025-03-01", "validated_materials": ["M-1", "M-2", 3],
             "results": [{"expectation_type": "expect_a", "success": true}],
             "derived_status_results": [{"expectation_type": "status_consistent", "success": false, "column": "status"}]}
            """#.write(toFile: dir + "/history/materials_2025-03-01.json", atomically: true, encoding: .utf8)
            try #"{"cached_at": "2025-02-20T10:00:00Z", "material": {"data_type": "VARCHAR"}}"#
                .write(toFile: dir + "/history/column_metadata_cache.json", atomically: true, encoding: .utf8)
            let storeText = "sqlite:\(dir)/team.db"
            let imported = try await CLI.run(["store", "import", "history", "--store", storeText], in: dir)
            #expect(imported.status == 0, "\(imported.output)")
            let store = try await SQLMetadataStore.open(try ConnectionURL(parsing: storeText))
            let run = try #require(try await store.validationRuns(limit: 1).first)
            #expect(run.materials == ["M-1", "M-2", "3"] && run.passed == 1 && run.failed == 1, "\(run)")
            #expect(try await store.validationResults(runID: run.id).map(\.check) == ["expect_a", "derived_status/status_consistent"])
            let metadata = try await store.columnMetadata(connection: "imported", tables: [(schema: "", table: "column_metadata_cache")], maxAge: 1e9)
            #expect(metadata?.first?.fetchedAt == "2025-02-20T10:00:00.000Z", "\(String(describing: metadata))")
        }
    }

    /// A year of results and logs archived and restored reads back byte for byte, on each store
    /// engine; a file that does not match its manifest restores nothing.
    @Test(arguments: storeBackends())
    func archiveThenRestoreGivesBackTheSameRows(backend: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let body: (String) async throws -> Void = { storeText in
                let store = try await SQLMetadataStore.open(try ConnectionURL(parsing: storeText))
                for month in 1...12 {
                    let at = String(format: "2025-%02d-15T08:30:00.125Z", month)
                    try await store.recordValidationRun(
                        ValidationRunRecord(id: "v\(month)", suite: "nightly", startedAt: at, finishedAt: at, status: "passed", origin: "test"))
                    try await store.addValidationResults(
                        (0..<30).map {
                            ValidationResultRecord(
                                validationRunID: "v\(month)", step: $0, check: "row_count", table: "t\($0)",
                                status: $0 % 7 == 0 ? "failed" : "passed",
                                message: "m é \($0)", durationMS: Int64($0), sourceRows: 10, targetRows: $0 % 7 == 0 ? 9 : 10,
                                matchPercent: 99.5, affectedColumns: ["a", "b"], details: #"{"n": \#($0), "nested": {"x": [1, 2.50]}}"#, at: at)
                        })
                    try await store.addLogs(
                        (0..<20).map { LogEntry(at: at, runID: "v\(month)", event: "e", message: "line \($0)", fields: ["k": "v\($0)"]) },
                        importID: nil)
                }
                func snapshot() async throws -> [[[String: String?]]] {
                    var tables: [[[String: String?]]] = []
                    for table in ArchivableTable.allCases {
                        tables.append(try await store.archivableRows(table, before: "9999-01-01T00:00:00.000Z", after: nil, limit: 1_000_000))
                    }
                    return tables
                }
                let before = try await snapshot()
                #expect(before.map(\.count) == [360, 12, 240])
                // The overview's figures per month stay the same while the rows are in the archive, and after they come back.
                // The totals, that is: breakdowns per table, level and event are of the rows in the store.
                func overview() async throws -> [[Int64]] {
                    try await store.monthlyOverview(maxAge: 0, refresh: true).months.filter { $0.month.hasPrefix("2025-") }
                        .map { [$0.checks, $0.passed, $0.failed, $0.warned, $0.validationRuns, $0.logLines, $0.failedDelta, $0.runs] }
                }
                let figures = try await overview()
                #expect(figures.count == 12 && figures.allSatisfy { $0[0] == 30 && $0[2] == 5 && $0[4] == 1 && $0[5] == 20 }, "\(figures)")
                let archived = try await CLI.run(["store", "archive", "--older-than", "1d", "--to", "archive", "--store", storeText], in: dir)
                #expect(archived.status == 0, "\(archived.output)")
                #expect(try await snapshot().map(\.count) == [0, 0, 0])
                #expect(try await overview() == figures, "archived months keep their figures")

                // A changed file is refused whole.
                let logs = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/archive").first { $0.hasPrefix("logs-") })
                let tampered = try await CLI.shell(
                    "gunzip -c archive/\(logs) | sed 's/line 3/line X/' | gzip > t.gz && cp archive/\(logs) original.gz && mv t.gz archive/\(logs)",
                    in: dir)
                #expect(tampered.status == 0, "\(tampered.output)")
                let refused = try await CLI.run(["store", "restore", "archive", "--store", storeText], in: dir)
                #expect(refused.status == 3 && refused.stderr.contains("is not the file the archive wrote"), "\(refused.output)")
                #expect(try await snapshot()[2].isEmpty)
                try FileManager.default.removeItem(atPath: dir + "/archive/\(logs)")
                try FileManager.default.moveItem(atPath: dir + "/original.gz", toPath: dir + "/archive/\(logs)")

                let restored = try await CLI.run(["store", "restore", "archive", "--store", storeText], in: dir)
                #expect(
                    restored.status == 0 && restored.stdout.contains("restored 240 of 240 logs rows")
                        && restored.stdout.contains("match the manifest"),
                    "\(restored.output)")
                let after = try await snapshot()
                #expect(after.map(\.count) == before.map(\.count))
                for (old, new) in zip(before, after) { #expect(old == new) }
                #expect(try await overview() == figures, "restored rows are not counted twice")
                let again = try await CLI.run(["store", "restore", "archive", "--store", storeText], in: dir)
                #expect(
                    again.status == 0 && again.stdout.contains("restored 0 of 240 logs rows") && again.stdout.contains("(240 were in the store)"),
                    "\(again.output)")
            }
            if backend == "postgres" {
                try await TestEnvironment.withPostgresDatabase { try await body(TestEnvironment.cliText($0)) }
            } else {
                try await body("sqlite:\(dir)/team.db")
            }
        }
    }

    /// A run's folder is copied into the store when it ends: `runs artifacts` lists it and writes
    /// it back byte for byte after the folder is gone.
    @Test func aRunsArtifactsComeBackFromTheStore() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let demo = try await CLI.run(["demo"], in: dir)
            #expect(demo.status == 0, "\(demo.output)")
            let line = try #require(demo.stdout.split(separator: "\n").first { $0.hasPrefix("Artifacts: ") })
            let folder = dir + "/" + line.dropFirst("Artifacts: ".count)
            let run = (folder as NSString).lastPathComponent
            try FileManager.default.moveItem(atPath: folder, toPath: dir + "/original")
            let listed = try await CLI.run(["runs", "artifacts", run], in: dir)
            #expect(listed.status == 0 && listed.stdout.contains("summary.md") && listed.stdout.contains("run_log.ndjson"), "\(listed.output)")
            let copied = try await CLI.run(["runs", "artifacts", run, "--to", "copy"], in: dir)
            #expect(copied.status == 0, "\(copied.output)")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/original").sorted()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/copy").sorted() == names)
            for name in names {
                #expect(
                    FileManager.default.contents(atPath: dir + "/copy/" + name) == FileManager.default.contents(atPath: dir + "/original/" + name),
                    "\(name)")
            }
            let missing = try await CLI.run(["runs", "artifacts", "20000101-000000-0000"], in: dir)
            #expect(missing.status == 2 && missing.stderr.contains("no run with id"), "\(missing.output)")
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
            _ = try await CLI.shell(
                "python3 -c \"import sqlite3; c = sqlite3.connect('\(chinook)'); c.execute('DROP TABLE PlaylistTrack'); c.commit()\"", in: dir)
            let cached = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "1h"], in: dir)
            #expect(cached.stdout.contains("11 tables"), "\(cached.output)")
            let fresh = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)"], in: dir)
            #expect(fresh.stdout.contains("10 tables"), "\(fresh.output)")
            let expired = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "0m"], in: dir)
            #expect(expired.stdout.contains("10 tables"), "\(expired.output)")
            let bad = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--metadata-max-age", "soon"], in: dir)
            #expect(bad.status == 2 && bad.stderr.contains("--metadata-max-age soon is not a duration"), "\(bad.output)")
        }
    }
}
