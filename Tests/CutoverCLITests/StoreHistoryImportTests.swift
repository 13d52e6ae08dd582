import CutoverCore
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// `cutover store import` of the files other tools kept (rulebook registry, monthly overview cache,
/// failures CSVs, monthly .tar.gz archives) and of Cutover's own run folders.
@Suite struct StoreHistoryImportTests {
    static func writeOtherToolsFiles(in dir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/history/cache", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/packed/product_suite", withIntermediateDirectories: true)
        try #"""
        {"product_suite": [
           {"expectation_type": "expect_column_values_to_not_be_null", "column": "MATERIAL_NUMBER", "added_on": "2024-01-15"},
           {"expectation_type": "expect_column_values_to_be_in_set", "column": "STATUS", "value_set": ["A", "B"], "added_on": "2024-02-01"},
           {"expectation_type": "expect_column_values_to_be_between", "column": "WEIGHT", "min_value": 0, "max_value": 500, "added_on": "2024-02-01"},
           {"expectation_type": "expect_column_pair_values_a_to_be_greater_than_b", "column_A": "END", "column_B": "START", "added_on": "2024-03-01"}],
         "pricing_suite": {"expect_column_values_to_match_regex": [{"column": "SKU", "regex": "^[A-Z]{3}-\\d+$", "added_on": "2024-04-01"}]}}
        """#.write(toFile: dir + "/history/rulebook_registry.json", atomically: true, encoding: .utf8)
        try """
        {"2024-01": {"current_total": 120, "previous_total": 100, "delta": 20, "current_materials": ["M1", "M2", "M3"],
                     "product_hierarchy_breakdown": [{"Product Hierarchy": "Tools", "Count": 70}, {"Product Hierarchy": "Garden", "Count": 50}],
                     "logs_stats": {"total": 40}, "cached_at": "2024-02-01T06:00:00", "data_date": "2024-01-31"},
         "2024-02": {"current_total": 90, "previous_total": 120, "delta": -30, "cached_at": "2024-03-01T06:00:00", "data_date": "2024-02-29"}}
        """.write(toFile: dir + "/history/cache/monthly_overview_cache.json", atomically: true, encoding: .utf8)
        try "MATERIAL_NUMBER,FIELD,VALUE,EXPECTED\nM1,STATUS,Z,\"A,B\"\nM2,WEIGHT,900,\"0-500\nor less\"\n"
            .write(toFile: dir + "/history/cache/product_suite_failures_2024-02-10.csv", atomically: true, encoding: .utf8)
        // A monthly archive: a suite file, a log export and the month's summary, packed by tar.
        try #"""
        {"suite_name": "product_suite", "run_timestamp": "2023-12-05T10:00:00Z", "results": [
          {"expectation_type": "expect_column_values_to_not_be_null", "success": false, "table": "products", "kwargs": {"column": "MATERIAL_NUMBER"}}]}
        """#.write(toFile: dir + "/packed/product_suite/product_suite_2023-12-05.json", atomically: true, encoding: .utf8)
        try "timestamp,plugin,material_number,field,extra,status,note\n2023-12-05 10:00:00,rectifier,M1,STATUS,,Success,fixed\n"
            .write(toFile: dir + "/packed/Unified_Logs_2023-12.csv", atomically: true, encoding: .utf8)
        try #"{"month": "2023-12", "total": 1, "archived_files": 2}"#.write(
            toFile: dir + "/packed/archive_2023-12_summary.json", atomically: true, encoding: .utf8)
        try Self.tar(["czf", dir + "/history/archive_2023-12.tar.gz", "-C", dir + "/packed", "."])
        try fm.removeItem(atPath: dir + "/packed")
    }

    static func tar(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CutoverError(.io, "tar \(arguments) exited \(process.terminationStatus)") }
    }

    func rows(_ dir: String, _ store: String) async throws -> [String: Int64] { try await StoreCLITests().rows(dir, store) }

    @Test func otherToolsFilesLandInTheirOwnTablesOnce() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try Self.writeOtherToolsFiles(in: dir)
            let store = "sqlite:\(dir)/team.db"
            let first = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.stdout.contains("history/archive_2023-12.tar.gz/product_suite/product_suite_2023-12-05.json"), "\(first.stdout)")
            #expect(!first.stdout.contains("skipped") && !first.stdout.contains("failed"), "\(first.stdout)")
            let counts = try await rows(dir, store)
            #expect(counts["rulebook_registry"] == 5 && counts["reported_months"] == 3 && counts["failure_snapshots"] == 1, "\(counts)")
            #expect(counts["validation_runs"] == 1 && counts["validation_results"] == 1 && counts["logs"] == 1, "\(counts)")

            let again = try await CLI.run(["store", "import", "history", "--store", store], in: dir)
            #expect(again.status == 0 && again.stdout.contains("6 already imported"), "\(again.stdout)")
            #expect(try await rows(dir, store) == counts)

            // The registry, and one suite as a pipeline.
            let registry = try await CLI.run(["rules", "registry", "--suite", "product_suite", "--store", store], in: dir)
            #expect(registry.stdout.contains("expect_column_values_to_be_in_set  → allowed_values"), "\(registry.output)")
            #expect(registry.stdout.contains("expect_column_pair_values_a_to_be_greater_than_b  (no Cutover check)"))
            let pipeline = try await CLI.run(
                ["rules", "registry", "--suite", "product_suite", "--pipeline", "--table", "main.products", "--store", store], in: dir)
            #expect(
                pipeline.status == 0 && pipeline.stdout.contains("3 of 4 entries") && pipeline.stdout.contains("check: allowed_values"),
                "\(pipeline.output)")
            let unknown = try await CLI.run(["rules", "registry", "--suite", "nope", "--store", store], in: dir)
            #expect(unknown.status == 2 && unknown.stderr.contains("no suite nope"), "\(unknown.output)")

            // The failing rows come back byte for byte.
            let original = try String(contentsOfFile: dir + "/history/cache/product_suite_failures_2024-02-10.csv", encoding: .utf8)
            let failures = try await CLI.run(["store", "failures", "--suite", "product_suite", "--date", "2024-02-10", "--store", store], in: dir)
            #expect(failures.status == 0 && failures.stdout == original, "\(failures.output)")
            let listed = try await CLI.run(["store", "failures", "--store", store], in: dir)
            #expect(listed.stdout.contains("2024-02-10  product_suite  2 row(s)"), "\(listed.output)")

            // Reported figures sit beside Cutover's own, never added to them.
            let overview = try await CLI.run(["store", "overview", "--format", "json", "--store", store], in: dir)
            let months = (try JSONSerialization.jsonObject(with: Data(overview.stdout.utf8)) as? [String: Any])?["months"] as? [[String: Any]] ?? []
            func month(_ name: String) -> [String: Any]? { months.first { $0["month"] as? String == name } }
            let december = try #require(month("2023-12"))
            #expect((december["failed"] as? NSNumber)?.intValue == 1 && (december["logLines"] as? NSNumber)?.intValue == 1, "\(december)")
            #expect(((december["failuresByTable"] as? [[String: Any]])?.first?["name"] as? String) == "products")
            #expect(
                ((december["reported"] as? [String: Any])?["origin"] as? String)?.hasSuffix("archive_2023-12.tar.gz/archive_2023-12_summary.json")
                    == true)
            let january = try #require(month("2024-01"))
            let reported = try #require(january["reported"] as? [String: Any])
            #expect((reported["currentTotal"] as? NSNumber)?.intValue == 120 && (reported["materials"] as? NSNumber)?.intValue == 3)
            #expect(
                (january["checks"] as? NSNumber)?.intValue == 0 && (january["failedDelta"] as? NSNumber)?.intValue == -1
                    && (january["previousFailed"] as? NSNumber)?.intValue == 1)
        }
    }

    @Test func anArchiveCannotWriteOutsideWhereItIsUnpacked() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
            // Python's tarfile writes the hostile names tar itself would strip.
            let script = """
                import io, tarfile, sys
                with tarfile.open(sys.argv[1], "w:gz") as t:
                    for name, body in [("../escaped.json", b'{"2024-01": {"total": 1}}'), ("/tmp/absolute.json", b"{}"), ("ok/Unified_Logs.csv", b"timestamp,status\\n2024-01-02 03:04:05,Success\\n")]:
                        info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
                    link = tarfile.TarInfo("ok/link"); link.type = tarfile.SYMTYPE; link.linkname = "/etc/passwd"; t.addfile(link)
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, dir + "/in/hostile.tar.gz"]
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0)
            let store = "sqlite:\(dir)/team.db"
            let result = try await CLI.run(["store", "import", "in", "--store", store], in: dir)
            #expect(
                result.stdout.contains("in/hostile.tar.gz/../escaped.json") && result.stdout.contains("its path leaves the archive"),
                "\(result.output)")
            #expect(
                result.stdout.contains("in/hostile.tar.gz//tmp/absolute.json") && result.stdout.contains("not a regular file"), "\(result.output)")
            #expect(result.stdout.contains("imported         in/hostile.tar.gz/ok/Unified_Logs.csv"), "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "escaped.json"))
            #expect(try await rows(dir, store)["logs"] == 1)
            // A truncated archive is named, and nothing of it stays.
            let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/in/hostile.tar.gz"))
            try FileManager.default.createDirectory(atPath: dir + "/cut", withIntermediateDirectories: true)
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut/half.tar.gz"))
            let cut = try await CLI.run(["store", "import", "cut", "--store", "sqlite:\(dir)/other.db"], in: dir)
            #expect(cut.status == 1 && cut.stdout.contains("failed") && cut.stdout.contains("half.tar.gz"), "\(cut.output)")
        }
    }

    @Test func aRunFolderImportsAsItsRunWithEveryArtifact() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let demo = try await CLI.run(["demo", "--store", "sqlite:\(dir)/laptop.db"], in: dir)
            #expect(demo.status == 0, "\(demo.output)")
            let line = try #require(demo.stdout.split(separator: "\n").first { $0.hasPrefix("Artifacts: ") })
            let folder = dir + "/" + line.dropFirst("Artifacts: ".count)
            let run = (folder as NSString).lastPathComponent
            let team = "sqlite:\(dir)/team.db"
            let imported = try await CLI.run(["store", "import", ".cutover/runs", "--store", team], in: dir)
            #expect(imported.status == 0 && !imported.stdout.contains("failed") && !imported.stdout.contains("skipped"), "\(imported.output)")
            #expect(imported.stdout.contains("mapping_decisions.yml  run artifact"), "\(imported.stdout)")

            let shown = try await CLI.run(["runs", "show", run, "--store", team], in: dir)
            #expect(shown.status == 0 && shown.stdout.contains("demo, succeeded"), "\(shown.output)")
            try FileManager.default.moveItem(atPath: folder, toPath: dir + "/original")
            let copied = try await CLI.run(["runs", "artifacts", run, "--to", "copy", "--store", team], in: dir)
            #expect(copied.status == 0, "\(copied.output)")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/original").sorted()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/copy").sorted() == names)
            for name in names {
                #expect(
                    FileManager.default.contents(atPath: dir + "/copy/" + name) == FileManager.default.contents(atPath: dir + "/original/" + name),
                    "\(name)")
            }
            // Its report is of the validation results that came with it (it has no per-table records).
            let report = try await CLI.run(["report", run, "--out", "report", "--store", team], in: dir)
            #expect(report.status == 0 && report.stdout.contains("4 of 4 passed"), "\(report.output)")
        }
    }
}
