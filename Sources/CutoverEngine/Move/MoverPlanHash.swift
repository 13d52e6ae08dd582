import Crypto
import CutoverCore
import Foundation

/// What makes two migrate runs "the same plan": source, target, tables with their column
/// mappings, mode and watermark. Chunk bounds are not part of it: a resumed run reads them from
/// the ledger, so a source that grew since does not change which run is resumed.
enum MoverPlanHash {
    struct Identity: Encodable {
        var source: String
        var target: String
        var mode: String
        var watermark: String?
        var tables: [[String]]
        /// Per-table settings change how a table moves, so they are part of the identity (absent when none).
        var settings: [String: TableSettings]?
    }

    static func compute(plan: MigrationPlan, source: ConnectionURL, target: ConnectionURL, options: MoveOptions) throws -> String {
        let identity = Identity(
            source: source.description, target: target.description, mode: options.mode.rawValue, watermark: options.watermark,
            tables: plan.tables.map { table in
                [table.source.description, table.target.description] + table.columns.map { "\($0.column)→\($0.targetColumn):\($0.targetType)" }
            },
            settings: options.tables.isEmpty ? nil : options.tables)
        return Hex.encode(SHA256.hash(data: try JSONEncoder.sorted.encode(identity)))
    }
}
