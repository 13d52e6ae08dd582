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
    }

    static func compute(plan: MigrationPlan, source: ConnectionURL, target: ConnectionURL, options: MoveOptions) throws -> String {
        let identity = Identity(
            source: source.description, target: target.description, mode: options.mode.rawValue, watermark: options.watermark,
            tables: plan.tables.map { table in
                [table.source.description, table.target.description] + table.columns.map { "\($0.column)→\($0.targetColumn):\($0.targetType)" }
            })
        return Hex.encode(SHA256.hash(data: try JSONEncoder.sorted.encode(identity)))
    }
}
