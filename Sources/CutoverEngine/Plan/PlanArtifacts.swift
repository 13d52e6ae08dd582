import CutoverCore
import Foundation
import Yams

/// Writes a plan's three artifacts into a directory.
public enum PlanArtifacts {
    public static let mappingFile = "mapping_decisions.yml"
    public static let ddlFile = "target_objects.sql"
    public static let recommendationsFile = "improvement_recommendations.md"

    struct MappingDocument: Encodable {
        var source: String
        var sourceEngine: String
        var targetDialect: String
        var generatedAt: String
        var summary: Summary
        var tables: [TablePlan]
        struct Summary: Encodable {
            var tables: Int
            var columns: Int
            var lossy: Int
            var needsReview: Int
            var unmappable: Int
            enum CodingKeys: String, CodingKey { case tables, columns, lossy, needsReview = "needs_review", unmappable }
        }
        enum CodingKeys: String, CodingKey {
            case source, sourceEngine = "source_engine", targetDialect = "target_dialect", generatedAt = "generated_at", summary, tables
        }
    }

    public static func mappingYAML(_ plan: MigrationPlan) throws -> String {
        let columns = plan.tables.flatMap(\.columns)
        let document = MappingDocument(
            source: plan.source, sourceEngine: plan.sourceEngine.rawValue, targetDialect: plan.targetEngine.rawValue, generatedAt: plan.generatedAt,
            summary: .init(
                tables: plan.tables.count, columns: columns.count, lossy: columns.filter(\.lossy).count,
                needsReview: columns.filter(\.needsReview).count, unmappable: columns.filter(\.unmappable).count),
            tables: plan.tables)
        return "# Cutover mapping decisions: every column's source type, target type and why.\n"
            + "# Change a decision with overrides in cutover.yml, then run `cutover plan` again.\n"
            + (try YAMLEncoder().encode(document))
    }

    public static func ddl(_ plan: MigrationPlan) -> String {
        var text = "-- Cutover target objects for \(plan.targetEngine.rawValue), planned from \(plan.source) at \(plan.generatedAt)\n"
        text += "-- Part 1: before the data (schemas, types, tables and keys)\n\n"
        text += plan.preDataDDL.map { $0 + ";\n" }.joined(separator: "\n")
        if !plan.postDataDDL.isEmpty {
            text += "\n-- Part 2: after the data (foreign keys and secondary indexes load faster afterwards)\n\n"
            text += plan.postDataDDL.map { $0 + ";\n" }.joined(separator: "\n")
        }
        return text
    }

    public static func recommendations(_ plan: MigrationPlan) -> String {
        var text =
            "# Improvement recommendations\n\nSource: \(plan.source) (\(plan.sourceEngine.rawValue)) → target: \(plan.targetEngine.rawValue)\n\n"
        let columns = plan.tables.flatMap(\.columns)
        text +=
            "- \(plan.tables.count) tables, \(columns.count) columns; \(columns.filter(\.lossy).count) lossy, \(plan.reviewCount) to review, \(plan.unmappable.count) without a mapping.\n\n"
        if plan.recommendations.isEmpty {
            text += "Nothing needs attention.\n"
        } else {
            text += plan.recommendations.map { "- " + $0 }.joined(separator: "\n") + "\n"
        }
        return text
    }

    /// Writes all three files; returns their paths.
    @discardableResult
    public static func write(_ plan: MigrationPlan, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files = [
            (mappingFile, try mappingYAML(plan)),
            (ddlFile, ddl(plan)),
            (recommendationsFile, recommendations(plan)),
        ]
        return try files.map { name, content in
            let path = (directory as NSString).appendingPathComponent(name)
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }
}
