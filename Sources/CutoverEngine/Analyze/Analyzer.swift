import CutoverCore
import Foundation

/// What `cutover analyze` writes to `analysis_report.json`.
public struct AnalysisReport: Codable, Sendable {
    /// Counts over the whole source.
    public struct Totals: Codable, Sendable {
        public var schemas: Int
        public var tables: Int
        public var views: Int
        public var columns: Int
        public var rows: Int64
        public var bytes: Int64
        public var primaryKeys: Int
        public var foreignKeys: Int
        public var indexes: Int
        public var tablesWithoutPrimaryKey: [String]
    }

    public var generatedAt: String
    public var source: String
    public var engine: String
    public var serverVersion: String?
    public var totals: Totals
    public var catalog: Catalog
    /// With a workload (`analyze --workload`): the tables it uses, heaviest first.
    public var workload: [WorkloadSummary.TableWeight]?
    /// Tables the workload never touches: candidates for not migrating at all.
    public var unusedByWorkload: [String]?

    public init(catalog: Catalog, source: ConnectionURL, generatedAt: String) {
        let tables = catalog.tables.filter { $0.kind != .view }
        self.generatedAt = generatedAt
        self.source = source.description
        self.engine = catalog.engine.rawValue
        self.serverVersion = catalog.serverVersion
        self.catalog = catalog
        self.totals = Totals(
            schemas: catalog.schemas.count,
            tables: tables.count,
            views: catalog.tables.count - tables.count,
            columns: catalog.tables.reduce(0) { $0 + $1.columns.count },
            rows: catalog.dataTables.reduce(0) { $0 + ($1.rowCount ?? 0) },
            bytes: catalog.dataTables.reduce(0) { $0 + ($1.sizeBytes ?? 0) },
            primaryKeys: tables.filter { $0.primaryKey != nil }.count,
            foreignKeys: tables.reduce(0) { $0 + $1.foreignKeys.count },
            indexes: tables.reduce(0) { $0 + $1.indexes.count },
            tablesWithoutPrimaryKey: catalog.dataTables.filter { $0.primaryKey == nil }.map(\.ref.description)
        )
    }

    /// Ranks the catalog's tables by the workload's time in them; names the ones it never uses.
    public mutating func rank(by workload: WorkloadSummary) {
        var used: [WorkloadSummary.TableWeight] = []
        var unused: [String] = []
        for table in catalog.dataTables {
            if var weight = workload.weight(of: table.ref) {
                weight.table = table.ref.description
                used.append(weight)
            } else {
                unused.append(table.ref.description)
            }
        }
        self.workload = used.sorted { ($0.milliseconds, $0.executions, $1.table) > ($1.milliseconds, $1.executions, $0.table) }
        unusedByWorkload = unused
    }

    /// A terminal-friendly summary: one line per table.
    public var summary: String {
        var lines = [
            "\(engine) \(catalog.database)" + (serverVersion.map { " (version \($0))" } ?? ""),
            "\(totals.tables) tables, \(totals.views) views, \(totals.columns) columns, \(Format.count(totals.rows)) rows, \(Format.bytes(totals.bytes))",
        ]
        let width = max(10, catalog.tables.map { $0.ref.description.count }.max() ?? 10)
        lines.append("")
        lines.append("  " + "table".padding(toLength: width, withPad: " ", startingAt: 0) + "        rows      size  cols  key")
        for table in catalog.tables {
            let rows = table.rowCount.map { Format.count($0) + (table.rowCountIsExact ? "" : "~") } ?? "-"
            let key = table.kind == .view ? "(view)" : table.primaryKey.map { $0.columns.joined(separator: ",") } ?? "none"
            lines.append(
                "  " + table.ref.description.padding(toLength: width, withPad: " ", startingAt: 0)
                    + Format.leftPad(rows, 12) + Format.leftPad(table.sizeBytes.map(Format.bytes) ?? "-", 10)
                    + Format.leftPad(String(table.columns.count), 6) + "  " + key)
        }
        for table in catalog.tables {
            for note in table.notes ?? [] { lines.append("note: \(table.ref): \(note)") }
        }
        let advised = catalog.tables.flatMap { table in table.columns.compactMap { column in column.advice.map { (table.ref, column, $0) } } }
        if !advised.isEmpty {
            lines.append("")
            lines.append(
                catalog.engine == .sqlite
                    ? "values the declared types do not describe (SQLite does not enforce them):"
                    : "what the types mean on the way to another engine:")
            for (ref, column, advice) in advised {
                let change = advice.canonical == advice.declared ? "" : " → planned as \(advice.canonical)"
                lines.append("  \(ref).\(column.name) \(column.nativeType.isEmpty ? "(no type)" : column.nativeType)\(change)")
                for note in advice.notes { lines.append("      \(note)") }
                for evidence in advice.evidence { lines.append("      review: \(evidence)") }
            }
        }
        if !catalog.enums.isEmpty { lines.append("enums: " + catalog.enums.map(\.name).joined(separator: ", ")) }
        if !catalog.domains.isEmpty { lines.append("domains: " + catalog.domains.map(\.name).joined(separator: ", ")) }
        if !catalog.sequences.isEmpty { lines.append("sequences: \(catalog.sequences.count)") }
        if !totals.tablesWithoutPrimaryKey.isEmpty {
            lines.append("without a primary key: " + totals.tablesWithoutPrimaryKey.joined(separator: ", "))
        }
        if let workload {
            lines.append("")
            lines.append("by workload (time share, executions):")
            for weight in workload.prefix(20) {
                lines.append("  \(weight.table)  \(String(format: "%.1f", weight.timeShare))%, \(Format.count(weight.executions))")
            }
            if let unused = unusedByWorkload, !unused.isEmpty {
                lines.append("not used by the workload (maybe not worth migrating): " + unused.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Reads a source's catalog (with the profiling its scope asks for) into an analysis report.
public enum Analyzer {
    public static func analyze(_ connector: any Connector, scope: Scope) async throws -> AnalysisReport {
        let catalog = try await connector.catalog(scope)
        return AnalysisReport(catalog: catalog, source: connector.url, generatedAt: ISOTime.now())
    }
}
