import CutoverCore
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
            let result = try await CLI.run(["validate", "--source", "sqlite:.cutover/demo/source.db", "--target", target,
                                            "--pipeline", "pipeline.yml"], in: dir)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stdout.contains("22 of 25 steps without errors"), "\(result.stdout)")
            let path = try #require(result.stdout.split(separator: " ").last.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + path))) as? [[String: Any]])
            let statuses = json.map { "\($0["step"]!):\($0["status"]!)" }
            #expect(statuses == (1...25).map { step in
                switch step { case 5, 9, 22: "\(step):failed"; case 7: "\(step):warning"; default: "\(step):passed" }
            }, "\(json.map { $0["message"] ?? "" })")
            #expect((json[3]["message"] as? String)?.contains("source: 14.20% NULL; target: 14.20% NULL") == true)
            #expect((json[13]["message"] as? String)?.contains("no gaps in 730 days") == true)
            #expect((json[21]["message"] as? String)?.contains("do not match (e.g.") == true)  // unicode, emoji and quoted names
            #expect(Set(json.compactMap { $0["category"] as? String }) == ["schema", "quality", "relationship", "statistics", "business", "time_series", "comparative"])
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
