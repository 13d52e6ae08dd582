import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Map every column to a target engine and write the target DDL.",
        discussion: """
            Writes mapping_decisions.yml (each column: source type → target type, rationale, lossy, needs review), \
            target_objects.sql and improvement_recommendations.md. Change a decision with `overrides` in cutover.yml. \
            Exits 1 when a column has a type with no mapping and no override.

            Example: cutover plan --source sqlite:chinook.db --target-dialect snowflake
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Source URL or connection name.") var source: String
    @Option(name: .long, help: "snowflake, postgres or sqlite.") var targetDialect: String
    @Option(name: .long, help: "Put every table into this target schema.") var targetSchema: String?
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "Directory for run artifacts.") var out: String?
    @Option(name: .long, help: "A workload export (repeatable): the recommendations name the heaviest tables and those it never uses.")
    var workload: [String] = []

    func run() async throws {
        let config = try global.loadConfig()
        let url = try config.resolveConnection(source)
        let engine = try Connectors.engine(named: targetDialect)
        var reader = WorkloadReader()
        for file in workload { try await reader.read(path: file) }
        let outcome = try await global.jobs(config, artifactsRoot: out).plan(
            source: url, targetEngine: engine, scope: scope.scope, config: config,
            targetSchema: targetSchema, workload: workload.isEmpty ? nil : reader.summary)
        let plan = outcome.plan
        let columns = plan.tables.flatMap(\.columns)
        Terminal.say(
            "planned \(plan.tables.count) tables, \(columns.count) columns for \(engine.rawValue): "
                + "\(columns.filter(\.lossy).count) lossy, \(plan.reviewCount) to review")
        for table in plan.tables {
            for column in table.columns where column.needsReview {
                Terminal.say("  review \(table.source).\(column.column): \(column.sourceType) → \(column.targetType) — \(column.rationale)")
            }
        }
        for file in outcome.files { Terminal.say("wrote \(file)") }
        if let (table, column) = plan.unmappable.first {
            throw CutoverError(
                .typeNotMappable, "\(plan.unmappable.count) column(s) have no type mapping, e.g. \(table).\(column.column) (\(column.sourceType))",
                hint: "add overrides in cutover.yml, e.g. overrides: { columns: { \"\(table).\(column.column)\": <type> } }, then plan again")
        }
    }
}
