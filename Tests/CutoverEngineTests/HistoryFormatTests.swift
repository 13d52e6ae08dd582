import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Testing

/// The shapes of the files other tools kept (rulebook registry, monthly overview caches and archive
/// summaries), read without a store.
@Suite struct HistoryFormatTests {
    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func registryShapesAllGiveTheSameEntries() throws {
        let bySuite = try json(#"{"s": [{"expectation_type": "expect_column_values_to_be_unique", "column": "id", "added_on": "2024-01-01"}]}"#)
        let byType = try json(#"{"s": {"expect_column_values_to_be_unique": [{"column": "id", "added_on": "2024-01-01"}]}}"#)
        let nested = try json(
            #"{"suites": {"s": {"expectations": [{"expectation_type": "expect_column_values_to_be_unique", "column": "id", "added_on": "2024-01-01"}]}}}"#
        )
        let flat = try json(
            #"[{"suite_name": "s", "expectation_type": "expect_column_values_to_be_unique", "column": "id", "added_on": "2024-01-01"}]"#)
        let records = try [bySuite, byType, nested, flat].map { try RulebookRegistry.entries($0, importedAt: "2026-01-01T00:00:00.000Z") }
        for list in records {
            #expect(list.count == 1 && list[0].suite == "s" && list[0].expectationType == "expect_column_values_to_be_unique")
            #expect(list[0].check == "uniqueness" && list[0].addedOn == "2024-01-01")
        }
        // The same entry, however the file groups it, has one hash (except the flat one, which also names its suite).
        #expect(records[0][0].ruleHash == records[1][0].ruleHash && records[1][0].ruleHash == records[2][0].ruleHash)
        #expect(throws: CutoverError.self) { try RulebookRegistry.entries(try json("{}")) }
        #expect(throws: CutoverError.self) { try RulebookRegistry.entries(try json(#"{"s": [{"column": "id"}]}"#)) }
    }

    @Test func expectationsBecomeStepsOnlyWhereACheckDoesTheirJob() throws {
        func step(_ entry: String) throws -> RegistryStep? {
            let object = try #require(try json(entry) as? [String: Any])
            return RulebookRegistry.step(type: try #require(object["expectation_type"] as? String), definition: object, table: "t")
        }
        #expect(
            try step(#"{"expectation_type": "expect_column_values_to_not_be_null", "column": "a", "mostly": 0.95}"#)?.max.map { ($0 * 100).rounded() }
                == 5)
        #expect(
            try step(#"{"expectation_type": "expect_column_values_to_be_in_set", "kwargs": {"column": "a", "value_set": ["x", 1]}}"#)?.values == [
                "x", "1",
            ])
        #expect(
            try step(#"{"expectation_type": "expect_column_values_to_be_between", "column": "a", "min_value": 1}"#).map { ($0.check, $0.min, $0.max) }
                .map { $0.0 == "value_range" && $0.1 == 1 && $0.2 == nil } == true)
        #expect(try step(#"{"expectation_type": "expect_compound_columns_to_be_unique", "column_list": ["a", "b"]}"#)?.columns == ["a", "b"])
        #expect(try step(#"{"expectation_type": "expect_column_value_lengths_to_be_between", "column": "a", "min_value": 2, "max_value": 9}"#) == nil)
        #expect(try step(#"{"expectation_type": "expect_column_values_to_be_in_set", "column": "a"}"#) == nil)
        #expect(try step(#"{"expectation_type": "expect_column_pair_values_a_to_be_greater_than_b", "column_A": "a"}"#) == nil)
    }

    @Test func aSuiteBecomesAPipelineThatLoads() throws {
        let records = try RulebookRegistry.entries(
            try json(
                """
                {"s": [{"expectation_type": "expect_column_values_to_be_between", "column": "w", "min_value": 0, "max_value": 500, "severity": "warning"},
                       {"expectation_type": "expect_column_values_to_match_regex", "column": "sku", "regex": "^[A-Z]+$"},
                       {"expectation_type": "expect_column_kl_divergence_to_be_less_than", "column": "w"}]}
                """))
        let yaml = try RulebookRegistry.pipeline(suite: "s", table: "main.products", records)
        #expect(
            yaml.contains("2 of 3 entries") && yaml.contains("No Cutover check does: expect_column_kl_divergence_to_be_less_than on w"), "\(yaml)")
        #expect(yaml.contains("max: 500") && !yaml.contains("e+"), "\(yaml)")
        let path = NSTemporaryDirectory() + "registry-\(UUID().uuidString).yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pipeline = try Pipeline.load(path: path)
        #expect(pipeline.steps.map(\.check) == ["value_range", "pattern"] && pipeline.steps.first?.severity == "warn")
    }

    @Test func monthlyFiguresAreReadInEveryShape() throws {
        let cache = try json(
            """
            {"2024-01": {"CURRENT_TOTAL": 120, "previous_total": 100, "delta": 20, "current_materials": ["M1", "M2"],
                         "product_hierarchy_breakdown": [{"Product Hierarchy": "Tools", "Count": 70}], "logs_stats": {"b": 1, "a": 2},
                         "cached_at": "2024-02-01T06:00:00", "data_date": "2024-01-31"}}
            """)
        let months = try ReportedMonths.parse(cache, fileName: "monthly_overview_cache.json", origin: "f", fileTime: "2026-01-01T00:00:00.000Z")
        let january = try #require(months.first)
        #expect(
            january.month == "2024-01" && january.currentTotal == 120 && january.previousTotal == 100 && january.delta == 20 && january.materials == 2
        )
        #expect(january.breakdown == [NamedCount(name: "Tools", count: 70)] && january.logStats == #"{"a":2,"b":1}"#)
        #expect(january.cachedAt == "2024-02-01T06:00:00.000Z" && january.dataDate == "2024-01-31")
        // An archive summary names its month in the file name only.
        let summary = try ReportedMonths.parse(
            try json(#"{"total": 7, "breakdown": {"A": 3, "B": 4}}"#), fileName: "archive_2023-12_summary.json",
            origin: "f", fileTime: "2026-01-01T00:00:00.000Z")
        #expect(summary.map(\.month) == ["2023-12"] && summary[0].currentTotal == 7 && summary[0].breakdown.map(\.name) == ["B", "A"])
        #expect(throws: CutoverError.self) {
            try ReportedMonths.parse(try json(#"{"total": 7}"#), fileName: "summary.json", origin: "f", fileTime: "t")
        }
        #expect(throws: CutoverError.self) {
            try ReportedMonths.parse(try json(#"{"2024-01": {"current_total": "many"}}"#), fileName: "x.json", origin: "f", fileTime: "t")
        }
    }
}
