import CutoverCore
import Foundation

/// What `cutover analyze` writes to `analysis_report.json`.
public struct AnalysisReport: Codable, Sendable {
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

    /// A terminal-friendly summary: one line per table.
    public var summary: String {
        var lines = ["\(engine) \(catalog.database)" + (serverVersion.map { " (version \($0))" } ?? ""),
                     "\(totals.tables) tables, \(totals.views) views, \(totals.columns) columns, \(Format.count(totals.rows)) rows, \(Format.bytes(totals.bytes))"]
        let width = max(10, catalog.tables.map { $0.ref.description.count }.max() ?? 10)
        lines.append("")
        lines.append("  " + "table".padding(toLength: width, withPad: " ", startingAt: 0) + "        rows      size  cols  key")
        for table in catalog.tables {
            let rows = table.rowCount.map { Format.count($0) + (table.rowCountIsExact ? "" : "~") } ?? "-"
            let key = table.kind == .view ? "(view)" : table.primaryKey.map { $0.columns.joined(separator: ",") } ?? "none"
            lines.append("  " + table.ref.description.padding(toLength: width, withPad: " ", startingAt: 0)
                         + Format.leftPad(rows, 12) + Format.leftPad(table.sizeBytes.map(Format.bytes) ?? "-", 10)
                         + Format.leftPad(String(table.columns.count), 6) + "  " + key)
        }
        for table in catalog.tables {
            for note in table.notes ?? [] { lines.append("note: \(table.ref): \(note)") }
        }
        if !catalog.enums.isEmpty { lines.append("enums: " + catalog.enums.map(\.name).joined(separator: ", ")) }
        if !catalog.domains.isEmpty { lines.append("domains: " + catalog.domains.map(\.name).joined(separator: ", ")) }
        if !catalog.sequences.isEmpty { lines.append("sequences: \(catalog.sequences.count)") }
        if !totals.tablesWithoutPrimaryKey.isEmpty {
            lines.append("without a primary key: " + totals.tablesWithoutPrimaryKey.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

public enum Analyzer {
    public static func analyze(_ connector: any Connector, scope: Scope) async throws -> AnalysisReport {
        let catalog = try await connector.catalog(scope)
        return AnalysisReport(catalog: catalog, source: connector.url, generatedAt: ISOTime.now())
    }
}

/// Number and size formatting for terminal output.
public enum Format {
    public static func count(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    public static func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }

    public static func duration(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }
}

