import CutoverCore

/// One column's mapping decision, as written to `mapping_decisions.yml`.
public struct MappingDecision: Codable, Sendable, Hashable {
    public var column: String
    public var targetColumn: String
    public var sourceType: String
    public var canonicalType: String
    public var targetType: String
    public var rationale: String
    public var lossy: Bool
    public var needsReview: Bool
    public var nullable: Bool
    public var identity: String?
    /// Set when a `cutover.yml` override chose the type.
    public var override: String?
    /// No rule could map the type and no override exists: data cannot move until one is given.
    public var unmappable: Bool

    enum CodingKeys: String, CodingKey {
        case column, targetColumn = "target_column", sourceType = "source_type", canonicalType = "canonical_type"
        case targetType = "target_type", rationale, lossy, needsReview = "needs_review", nullable, identity, override, unmappable
    }
}

/// A source table and the target table it becomes.
public struct TablePlan: Codable, Sendable {
    public var source: TableRef
    public var target: TableRef
    public var columns: [MappingDecision]
    /// The source's row key (primary key, else a NOT NULL unique key), used to order and compare rows.
    public var key: [String]?
    public var estimatedRows: Int64?
    public var notes: [String]
    /// CREATE TABLE and comments, run before this table's data.
    public var createDDL: [String] = []
    /// Foreign keys and indexes, run after every table's data is in.
    public var postDataDDL: [String] = []

    enum CodingKeys: String, CodingKey { case source, target, columns, key, estimatedRows = "estimated_rows", notes }

    public var unmappableColumns: [MappingDecision] { columns.filter(\.unmappable) }
}

/// Everything `cutover plan` decided: mappings, DDL and recommendations.
public struct MigrationPlan: Sendable {
    public var source: String
    public var sourceEngine: ConnectionURL.Engine
    public var targetEngine: ConnectionURL.Engine
    public var generatedAt: String
    public var tables: [TablePlan]
    /// Run before any table: schemas and types.
    public var setupDDL: [String]
    public var recommendations: [String]

    /// Everything before the data: setup, then each table with its keys.
    public var preDataDDL: [String] { setupDDL + tables.flatMap(\.createDDL) }
    /// Foreign keys and secondary indexes: faster after the load, and free of load order.
    public var postDataDDL: [String] { tables.flatMap(\.postDataDDL) }

    public func table(_ source: TableRef) -> TablePlan? { tables.first { $0.source == source } }

    public var reviewCount: Int { tables.reduce(0) { $0 + $1.columns.filter(\.needsReview).count } }
    public var unmappable: [(TableRef, MappingDecision)] {
        tables.flatMap { table in table.unmappableColumns.map { (table.source, $0) } }
    }
}
