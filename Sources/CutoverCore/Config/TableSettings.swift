/// How one table (or the tables a glob pattern names) moves, where it differs from the run's
/// flags: `table_settings: { public.orders: { watermark: updated_at, mode: upsert, chunk_rows: 50000 } }`.
public struct TableSettings: Codable, Sendable, Hashable {
    /// `copy`, `append` or `upsert`.
    public var mode: String?
    /// Incremental by this column (upserts; needs a key).
    public var watermark: String?
    /// Empty the target table first.
    public var truncate: Bool?
    /// Target rows per chunk.
    public var chunkRows: Int64?

    public init(mode: String? = nil, watermark: String? = nil, truncate: Bool? = nil, chunkRows: Int64? = nil) {
        self.mode = mode
        self.watermark = watermark
        self.truncate = truncate
        self.chunkRows = chunkRows
    }

    /// The settings for `table` among `settings` keyed by `schema.table`, `table` or a glob on
    /// either: an exact name wins over a pattern, patterns apply in name order.
    public static func lookup(_ settings: [String: TableSettings], for table: TableRef) -> TableSettings? {
        let names = [table.description, table.name]
        if let exact = names.lazy.compactMap({ settings[$0] }).first { return exact }
        return settings.keys.sorted().first { pattern in names.contains { Glob.matches(pattern, $0) } }.flatMap { settings[$0] }
    }

    /// As `cutover.yml` spells the keys (snake_case; the API's JSON coder converts its own).
    struct YAMLForm: Codable {
        var mode: String?
        var watermark: String?
        var truncate: Bool?
        var chunkRows: Int64?
        enum CodingKeys: String, CodingKey {
            case mode, watermark, truncate
            case chunkRows = "chunk_rows"
        }
        var settings: TableSettings { TableSettings(mode: mode, watermark: watermark, truncate: truncate, chunkRows: chunkRows) }
    }
}
