import CutoverCore
import CutoverStore
import Crypto
import Foundation
import Yams

/// A team's rulebook registry (`rulebook_registry.json`): expectations per suite, in the shapes such
/// files take — `{suite: [entry…]}`, `{suite: {expectation_type: [entry…]}}`, `{suite: {expectations:
/// [entry…]}}`, any of these under `suites`, or a list (or `rules:` list) of entries naming their
/// `suite_name`. Each entry keeps every field it had; the Cutover check that does its job is named
/// where one exists, so a suite can become a pipeline.
public enum RulebookRegistry {
    /// The entries of a registry file; a file that holds none is an error, not an empty registry.
    public static func entries(_ json: Any, importedAt: String = ISOTime.now()) throws -> [RegistryRuleRecord] {
        var found: [(suite: String, type: String?, entry: [String: Any])] = []
        func collect(suite: String, _ value: Any) throws {
            switch value {
            case let list as [Any]:
                for item in list {
                    guard let entry = item as? [String: Any] else { throw CutoverError(.config, "suite \(suite): an entry that is not an object") }
                    found.append((suite, nil, entry))
                }
            case let object as [String: Any]:
                if let list = object["expectations"] ?? object["rules"] {
                    try collect(suite: suite, list)
                    return
                }
                for (type, list) in object where type.hasPrefix("expect") {
                    guard let list = list as? [Any] else { throw CutoverError(.config, "suite \(suite): \(type) is not a list of entries") }
                    for item in list {
                        guard let entry = item as? [String: Any] else {
                            throw CutoverError(.config, "suite \(suite): an entry of \(type) that is not an object")
                        }
                        found.append((suite, type, entry))
                    }
                }
            default:
                throw CutoverError(.config, "suite \(suite) is neither a list of entries nor an object of them")
            }
        }
        switch json {
        case let list as [Any]:
            try collect(suite: "", list)
        case let object as [String: Any]:
            if let suites = object["suites"] as? [String: Any] {
                for (suite, value) in suites { try collect(suite: suite, value) }
            } else if let rules = object["rules"] as? [Any] {
                try collect(suite: "", rules)
            } else {
                for (suite, value) in object where !["version", "updated_at", "generated_at"].contains(suite) { try collect(suite: suite, value) }
            }
        default:
            throw CutoverError(.config, "a rulebook registry is a JSON object of suites or a list of entries")
        }
        var records: [RegistryRuleRecord] = []
        for (index, item) in found.enumerated() {
            let suite = (item.entry["suite_name"] ?? item.entry["suite"]) as? String ?? item.suite
            guard !suite.isEmpty else { throw CutoverError(.config, "entry \(index + 1) names no suite (suite_name)") }
            let config = item.entry["expectation_config"] as? [String: Any]
            guard let type = (item.entry["expectation_type"] ?? item.entry["type"] ?? config?["expectation_type"]) as? String ?? item.type else {
                throw CutoverError(.config, "entry \(index + 1) of suite \(suite) has no expectation_type")
            }
            var definition = item.entry
            if definition["expectation_type"] == nil { definition["expectation_type"] = type }
            let canonical = try canonicalJSON(definition)
            let addedOn = (item.entry["added_on"] ?? item.entry["created_at"]) as? String
            records.append(
                RegistryRuleRecord(
                    suite: suite, expectationType: type, definition: canonical,
                    ruleHash: Hex.encode(SHA256.hash(data: Array(canonical.utf8))),
                    addedOn: addedOn, lastModified: (item.entry["last_modified"] as? String) ?? importedAt,
                    check: step(type: type, definition: definition, table: "-")?.check))
        }
        guard !records.isEmpty else { throw CutoverError(.config, "a rulebook registry with no entries") }
        return records
    }

    static func canonicalJSON(_ value: Any) throws -> String {
        guard JSONSerialization.isValidJSONObject(value) else { throw CutoverError(.config, "an entry that is not plain JSON") }
        return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// One pipeline step for an expectation on `table`, nil when no Cutover check does its job.
    /// Arguments are read flat or under `kwargs` (`column`, `value_set`, `min_value`, `max_value`,
    /// `regex`, `mostly`, `column_list`).
    public static func step(type: String, definition: [String: Any], table: String) -> RegistryStep? {
        let config = definition["expectation_config"] as? [String: Any]
        let kwargs = (definition["kwargs"] as? [String: Any]) ?? (config?["kwargs"] as? [String: Any]) ?? definition
        let column = kwargs["column"] as? String
        func number(_ key: String) -> Double? { (kwargs[key] as? NSNumber)?.doubleValue ?? (kwargs[key] as? String).flatMap(Double.init) }
        var step = RegistryStep(check: "", table: table, column: column)
        switch type {
        case "expect_column_values_to_not_be_null":
            step.check = "null_rate"
            step.max = number("mostly").map { max(0, 1 - $0) } ?? 0
        case "expect_column_values_to_be_unique":
            step.check = "uniqueness"
        case "expect_compound_columns_to_be_unique", "expect_multicolumn_values_to_be_unique",
            "expect_select_column_values_to_be_unique_within_record":
            guard let columns = kwargs["column_list"] as? [String] else { return nil }
            step.check = "uniqueness"
            step.column = nil
            step.columns = columns
        case "expect_column_values_to_be_in_set", "expect_column_distinct_values_to_be_in_set":
            guard let values = kwargs["value_set"] as? [Any] else { return nil }
            step.check = "allowed_values"
            step.values = values.map { ($0 as? String) ?? "\($0)" }
        case "expect_column_values_to_be_between":
            guard number("min_value") != nil || number("max_value") != nil else { return nil }
            step.check = "value_range"
            step.min = number("min_value")
            step.max = number("max_value")
        case "expect_column_value_lengths_to_be_between":
            // string_length bounds the longest value only: an entry that also sets a minimum is not its job.
            guard let max = number("max_value"), (number("min_value") ?? 0) <= 0 else { return nil }
            step.check = "string_length"
            step.max = max
        case "expect_column_values_to_match_regex":
            guard let regex = kwargs["regex"] as? String else { return nil }
            step.check = "pattern"
            step.pattern = regex
        case "expect_table_row_count_to_equal_other_table":
            step.check = "row_count"
        default:
            return nil
        }
        guard step.check == "row_count" || step.column != nil || step.columns != nil else { return nil }
        return step
    }

    /// A pipeline (YAML) running the registry's entries of one suite on `table`; entries no check
    /// does are listed in a comment, not dropped silently.
    public static func pipeline(suite: String, table: String, _ records: [RegistryRuleRecord]) throws -> String {
        var steps: [RegistryStep] = []
        var left: [String] = []
        for record in records {
            let definition = (try? JSONSerialization.jsonObject(with: Data(record.definition.utf8))) as? [String: Any] ?? [:]  // written by entries(_:) as a JSON object
            if var step = step(type: record.expectationType, definition: definition, table: table) {
                if (definition["severity"] as? String)?.lowercased().hasPrefix("warn") == true { step.severity = "warn" }
                steps.append(step)
            } else {
                left.append(record.expectationType + ((definition["column"] as? String).map { " on \($0)" } ?? ""))
            }
        }
        let document = RegistryPipeline(name: "rulebook-\(suite)", steps: steps)
        var yaml = "# From the rulebook registry's suite \(suite): \(steps.count) of \(records.count) entries as Cutover checks.\n"
        if !left.isEmpty { yaml += "# No Cutover check does: " + left.joined(separator: "; ") + "\n" }
        return yaml + (try YAMLEncoder().encode(document))
    }
}

/// A pipeline step written from a registry entry (the keys of a pipeline file's step).
public struct RegistryStep: Encodable, Sendable, Hashable {
    public var check: String
    public var table: String
    public var column: String?
    public var columns: [String]?
    public var values: [String]?
    public var min: Double?
    public var max: Double?
    public var pattern: String?
    public var severity: String?

    enum CodingKeys: String, CodingKey { case check, table, column, columns, values, min, max, pattern, severity }

    /// Whole bounds are written as integers (`max: 500`, not `5e+2`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(check, forKey: .check)
        try container.encode(table, forKey: .table)
        try container.encodeIfPresent(column, forKey: .column)
        try container.encodeIfPresent(columns, forKey: .columns)
        try container.encodeIfPresent(values, forKey: .values)
        for (key, bound) in [(CodingKeys.min, min), (.max, max)] {
            guard let bound else { continue }
            if let whole = Int64(exactly: bound) { try container.encode(whole, forKey: key) } else { try container.encode(bound, forKey: key) }
        }
        try container.encodeIfPresent(pattern, forKey: .pattern)
        try container.encodeIfPresent(severity, forKey: .severity)
    }
}

struct RegistryPipeline: Encodable {
    var name: String
    var steps: [RegistryStep]
}
