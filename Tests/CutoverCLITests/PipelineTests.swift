import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite struct PipelineTests {
    static let pipeline = """
        parallel: 3
        steps:
          - { check: table_exists, table: sample_data }
          - { check: column_set, table: sample_data }
          - { check: nullability, table: daily_metrics }
          - { check: null_rate, table: sample_data, column: notes, max: 0.2, side: both }
          - { check: null_rate, table: sample_data, column: notes, max: 0.1 }
          - { check: uniqueness, table: metadata_config_table_elt, columns: [source_system, source_schema, source_table, environment] }
          - { check: uniqueness, table: sample_data, column: category, severity: warn }
          - { check: allowed_values, table: metadata_config_table_elt, column: environment, values: [DEV, PROD] }
          - { check: allowed_values, table: metadata_config_table_elt, column: environment, values: [DEV] }
          - { check: value_range, table: daily_metrics, column: sample_count, min: 100, max: 5000 }
          - { check: string_length, table: sample_data, column: name, max: 100 }
          - { check: fk_orphans, table: daily_metrics, column: metric_name, parent_table: daily_metrics, parent_column: metric_name }
          - { check: distinct_count, table: sample_data, column: category }
          - { check: date_gaps, table: daily_metrics, column: metric_date }
          - { check: duplicate_periods, table: daily_metrics, column: metric_date, columns: [metric_name] }
          - { check: row_count, table: call_center }
          - { check: column_aggregates, table: daily_metrics }
          - { check: row_diff, table: sample_data }
          - { check: custom_sql, table: sample_data, sql: "SELECT count(*) FROM {{table}} WHERE is_active = 1", tolerance_percent: 0 }
          - { check: primary_key, table: daily_metrics }
          - { check: pattern, table: metadata_config_table_elt, column: environment, pattern: "[A-Z]{3,4}" }
          - { check: pattern, table: sample_data, column: name, pattern: "[A-Za-z]+ [0-9]+" }
          - { check: outliers, table: daily_metrics, column: metric_value, max: 3, tolerance_percent: 1 }
          - { check: distribution, table: daily_metrics, column: metric_value }
          - { check: top_n, table: sample_data, column: category, n: 3 }
          - { check: column_types, table: sample_data }
          - { check: unique_keys, table: metadata_config_table_elt }
          - { check: defaults, table: daily_metrics }
          - { check: dimension_conformance, table: daily_metrics, column: metric_name, parent_table: daily_metrics, parent_column: metric_name }
          - { check: quantiles, table: daily_metrics, column: metric_value }
          - { check: iqr_outliers, table: daily_metrics, column: sample_count, side: both }
          - { check: group_metrics, table: daily_metrics, columns: [metric_name], measure: metric_value, aggregate: avg }
          - { check: rolling_drift, table: daily_metrics, column: metric_date, measure: metric_value, window: 7 }
          - { check: sampled_diff, table: sample_data, n: 5, sample_percent: 20 }
        """

    /// The same pipeline gives the same outcomes whether the target is SQLite or Snowflake.
    @Test(arguments: ["sqlite", "snowflake"])
    func everyRegisteredCheckRunsAndFailuresDoNotStopTheOthers(target kind: String) async throws {
        if kind == "snowflake", !TestEnvironment.hasSnowflake { return }
        try await TestEnvironment.withTemporaryDirectory { dir in
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            var target = "sqlite:.cutover/demo/target.db"
            if kind == "snowflake" {
                target = try await TestEnvironment.withSnowflakeDatabase { TestEnvironment.cliText($0) }
                let migrate = try await CLI.run(["migrate", "--source", "sqlite:.cutover/demo/source.db", "--target", target], in: dir)
                #expect(migrate.stdout.contains("4/4 tables moved, 4,192 rows; validation: 4 passed, 0 failed"), "\(migrate.output)")
            }
            try Self.pipeline.write(toFile: dir + "/pipeline.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(
                [
                    "validate", "--source", "sqlite:.cutover/demo/source.db", "--target", target,
                    "--pipeline", "pipeline.yml",
                ], in: dir)
            #expect(result.status == 1, "\(result.output)")
            // The emulator does not report unique keys (real Snowflake does), so step 27 fails there.
            let failing: Set<Int> = kind == "snowflake" ? [5, 9, 22, 27] : [5, 9, 22]
            #expect(result.stdout.contains("\(34 - failing.count) of 34 steps without errors"), "\(result.stdout)")
            let path = try #require(result.stdout.split(separator: " ").last.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines))
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + path))) as? [[String: Any]])
            let statuses = json.map { "\($0["step"]!):\($0["status"]!)" }
            #expect(
                statuses
                    == (1...34).map { step in
                        failing.contains(step) ? "\(step):failed" : step == 7 ? "\(step):warning" : "\(step):passed"
                    }, "\(json.map { $0["message"] ?? "" })")
            #expect((json[3]["message"] as? String)?.contains("source: 14.20% NULL; target: 14.20% NULL") == true)
            #expect((json[13]["message"] as? String)?.contains("no gaps in 730 days") == true)
            #expect((json[21]["message"] as? String)?.contains("do not match (e.g.") == true)  // unicode, emoji and quoted names
            #expect(
                Set(json.compactMap { $0["category"] as? String }) == [
                    "schema", "quality", "relationship", "statistics", "business", "time_series", "comparative",
                ])
        }
    }

    /// The comparative and statistical checks fail when the target's data really differs.
    @Test func pipelineRowDiffTakesToleranceAndCustomSQLTheEnvironment() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try FileManager.default.copyItem(atPath: chinook, toPath: dir + "/upper.db")
            try SQLiteSession(path: dir + "/upper.db", create: false).executeScript("UPDATE Genre SET Name = upper(Name)")
            try
                "steps:\n  - check: row_diff\n    table: Genre\n  - check: custom_sql\n    table: Genre\n    sql: SELECT count(*) FROM {{schema}}.Genre\n"
                .write(toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
            try "default_environment: DEV\nenvironments:\n  DEV: {schema: main}\n".write(
                toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let arguments = ["validate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/upper.db", "--pipeline", "p.yml"]
            let strict = try await CLI.run(arguments, in: dir)
            #expect(
                strict.status == 1 && strict.stdout.contains("25 changed") && strict.stdout.contains("custom_sql on Genre: passed"),
                "\(strict.output)")
            let tolerated = try await CLI.run(arguments + ["--tolerance", "Genre.Name=case"], in: dir)
            #expect(tolerated.status == 0 && tolerated.stdout.contains("differ only within tolerances"), "\(tolerated.output)")
            let unknown = try await CLI.run(arguments + ["--env", "PROD"], in: dir)
            #expect(unknown.status == 2 && unknown.stderr.contains("no environment PROD"), "\(unknown.output)")
        }
    }

    @Test func profileChecksFailWhenTheTargetDrifts() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            let target = try SQLiteSession(path: dir + "/.cutover/demo/target.db", create: false)
            try target.executeScript(
                """
                UPDATE daily_metrics SET metric_value = metric_value * 3 WHERE metric_name = 'orders' AND metric_date >= '2024-06-01';
                UPDATE sample_data SET name = 'drifted' WHERE id = 250;
                """)
            try """
            steps:
              - { check: group_metrics, table: daily_metrics, columns: [metric_name], measure: metric_value }
              - { check: group_metrics, table: daily_metrics, columns: [metric_name], measure: metric_value, tolerance_percent: 500 }
              - { check: rolling_drift, table: daily_metrics, column: metric_date, measure: metric_value }
              - { check: quantiles, table: daily_metrics, column: metric_value }
              - { check: sampled_diff, table: sample_data, n: 1, sample_percent: 100 }
            """.write(toFile: dir + "/drift.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(
                [
                    "validate", "--source", "sqlite:.cutover/demo/source.db", "--target", "sqlite:.cutover/demo/target.db",
                    "--pipeline", "drift.yml",
                ], in: dir)
            #expect(result.status == 1)
            #expect(
                result.stdout.contains(
                    "step 1 group_metrics on daily_metrics: failed — sum(metric_value) by metric_name: 1 group(s) differ — orders:"),
                "\(result.stdout)")
            #expect(result.stdout.contains("step 2 group_metrics on daily_metrics: passed"), "\(result.stdout)")
            #expect(
                result.stdout.contains("step 3 rolling_drift on daily_metrics: failed — 7-period rolling mean of sum(metric_value) drifts in"),
                "\(result.stdout)")
            #expect(result.stdout.contains("step 4 quantiles on daily_metrics: failed"), "\(result.stdout)")
            #expect(
                result.stdout.contains(
                    "step 5 sampled_diff on sample_data: failed — 500 sampled row(s) in 1 range(s): 0 missing, 0 extra, 1 changed (changed id=250)"),
                "\(result.stdout)")
        }
    }

    /// Sums, counts and extremes of exact numbers are compared exactly: a sum of 10^13 that differs by
    /// one unit fails, and so does a NULL sum against a zero (a relative epsilon meant for float sums
    /// once let differences up to 10^4 pass here); an average of floats that is NULL on one side and
    /// 0 on the other fails too (both were read as 0); groups and frequent values keep NULL and the
    /// text 'NULL' apart; a column with no values runs and passes.
    @Test func exactAggregatesAreComparedExactly() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            for (name, tweak) in [
                ("a", ""),
                (
                    "b",
                    "UPDATE t SET amount = amount + 1 WHERE id = 7; UPDATE t SET spare = 0, spare_ratio = 0 WHERE id = 1; UPDATE t SET tag = 'NULL' WHERE tag IS NULL;"
                ),
            ] {
                try SQLiteSession(path: "\(dir)/\(name).db", create: true).executeScript(
                    """
                    CREATE TABLE t (
                        id INTEGER PRIMARY KEY, amount BIGINT NOT NULL, spare BIGINT, ratio DOUBLE PRECISION, g INTEGER, spare_ratio DOUBLE PRECISION,
                        label TEXT, tag TEXT, blank DOUBLE PRECISION);
                    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10)
                    INSERT INTO t SELECT n, 1000000000000 + n, NULL, n / 3.0, n % 2, NULL, CASE WHEN n <= 5 THEN NULL ELSE 'NULL' END,
                        CASE WHEN n <= 5 THEN NULL ELSE 'other' END, NULL FROM g;
                    \(tweak)
                    """)
            }
            try """
            steps:
              - { check: column_aggregates, table: t, columns: [amount] }
              - { check: column_aggregates, table: t, columns: [spare] }
              - { check: column_aggregates, table: t, columns: [amount], tolerance_abs: 1 }
              - { check: column_aggregates, table: t, columns: [ratio] }
              - { check: group_metrics, table: t, columns: [g], measure: amount }
              - { check: group_metrics, table: t, columns: [g], measure: ratio }
              - { check: group_metrics, table: t, columns: [g], measure: spare_ratio, aggregate: avg }
              - { check: column_aggregates, table: t, columns: [spare_ratio] }
              - { check: group_metrics, table: t, columns: [label], measure: spare }
              - { check: top_n, table: t, column: tag, n: 1 }
              - { check: distribution, table: t, column: blank }
              - { check: outliers, table: t, column: blank, side: both }
            """.write(toFile: dir + "/sums.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(["validate", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--pipeline", "sums.yml"], in: dir)
            #expect(result.status == 1, "\(result.output)")
            #expect(
                result.stdout.contains("step 1 column_aggregates on t: failed — sum(amount): source 10000000000055, target 10000000000056"),
                "\(result.stdout)")
            #expect(result.stdout.contains("step 2 column_aggregates on t: failed"), "\(result.stdout)")
            #expect(result.stdout.contains("step 3 column_aggregates on t: passed"), "\(result.stdout)")
            #expect(result.stdout.contains("step 4 column_aggregates on t: passed"), "\(result.stdout)")
            #expect(
                result.stdout.contains("step 5 group_metrics on t: failed — sum(amount) by g: 1 group(s) differ — 1: 5000000000025 ≠ 5000000000026"),
                "\(result.stdout)")
            #expect(result.stdout.contains("step 6 group_metrics on t: passed"), "\(result.stdout)")
            // An average of floats is compared within a tolerance, but NULL (no values) is not 0.
            #expect(
                result.stdout.contains("step 7 group_metrics on t: failed — avg(spare_ratio) by g: 1 group(s) differ — 1: NULL ≠ 0"),
                "\(result.stdout)")
            #expect(result.stdout.contains("step 8 column_aggregates on t: failed"), "\(result.stdout)")
            // The NULL group and the group of the text 'NULL' are two groups, each compared.
            #expect(
                result.stdout.contains("step 9 group_metrics on t: failed — sum(spare) by label: 1 group(s) differ — NULL: NULL ≠ 0"),
                "\(result.stdout)")
            // A NULL that became the text 'NULL' is a difference, however both are counted.
            #expect(
                result.stdout.contains("step 10 top_n on t: failed — source: NULL×5 · target: 'NULL'×5"), "\(result.stdout)")
            // A column with no values on either side has nothing to differ in: these run and pass.
            #expect(result.stdout.contains("step 11 distribution on t: passed"), "\(result.stdout)")
            #expect(result.stdout.contains("step 12 outliers on t: passed"), "\(result.stdout)")
        }
    }

    /// `runs cancel` stops a running pipeline: steps in flight finish, the rest are reported as not run.
    @Test func aRunningPipelineCanBeCancelled() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try SQLiteSession(path: dir + "/a.db", create: true).executeScript(
                """
                CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200000) INSERT INTO big SELECT n, 'value ' || n FROM g;
                """)
            try FileManager.default.copyItem(atPath: dir + "/a.db", toPath: dir + "/b.db")
            try ("parallel: 1\nsteps:\n" + String(repeating: "  - { check: row_diff, table: big }\n", count: 30))
                .write(toFile: dir + "/slow.yml", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.executable)
            process.arguments = ["validate", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--pipeline", "slow.yml"]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var cancelled = false
            for _ in 0..<200 where !cancelled {
                try await Task.sleep(nanoseconds: 100_000_000)
                let runs = try await CLI.run(["runs", "list"], in: dir)
                guard let line = runs.stdout.split(separator: "\n").first(where: { $0.contains("pipeline") && $0.contains("running") }),
                    let id = line.split(separator: " ").first.map(String.init)
                else { continue }
                let cancel = try await CLI.run(["runs", "cancel", id], in: dir)
                #expect(cancel.status == 0, "\(cancel.output)")
                cancelled = true
            }
            #expect(cancelled)
            let text = try await BlockingIO.run { () -> String in
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }
            #expect(process.terminationStatus == 1)
            #expect(text.contains("not run (cancelled)"), "\(text)")
            let runs = try await CLI.run(["runs", "list"], in: dir)
            #expect(runs.stdout.contains("cancelled"), "\(runs.stdout)")
        }
    }

    @Test func unknownChecksAreNamedWithTheListOfKnownOnes() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try "steps:\n  - { check: vibes, table: t }\n".write(toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(["validate", "--source", "sqlite:a.db", "--target", "sqlite:b.db", "--pipeline", "p.yml"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains("unknown check 'vibes'") && result.stderr.contains("row_diff"))
        }
    }
}
