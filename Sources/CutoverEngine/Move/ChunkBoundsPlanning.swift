import CutoverCore
import CutoverStore
import Foundation

// MARK: Splitting a table into chunks
extension Mover {
    /// How a table that has no chunks yet is split, and about how many rows it moves: integer keys by
    /// range, uuid/date/text keys by value, keyless tables by row locator or row hash, small tables
    /// (and deltas not keyed by an integer) in one chunk. A delta (`delta`: a window with a lower
    /// bound) is split by the key range of its own rows only.
    func chunkBounds(
        _ tablePlan: TablePlan, _ table: Table, sourceColumns: [Column], keyColumns: [Column], options: MoveOptions,
        window: RowFilter.Window?, delta: Bool, recorder: RunRecorder
    ) async throws -> (bounds: [ChunkBounds], estimatedRows: Int64) {
        let name = tablePlan.source.description
        let dialect = source.dialect
        let rowsPerChunk = Self.rowsPerChunk(options, table)
        let planner = ChunkPlanner(rowsPerChunk: rowsPerChunk)
        let rows = table.rowCount ?? 0
        let large = rows > rowsPerChunk
        if keyColumns.count == 1, keyColumns[0].canonical.isWholeNumber {
            let key = dialect.quote(keyColumns[0].name)
            let inWindow = window.map { " WHERE " + RowFilter(terms: [], window: $0).sql(dialect) } ?? ""
            guard
                let row = try await source.execute("SELECT min(\(key)), max(\(key)), count(*) FROM \(dialect.qualified(tablePlan.source))\(inWindow)")
                    .rows.first,
                row.count == 3
            else { return ([.all], rows) }
            let estimated = Int64(row[2].displayText) ?? rows
            guard let min = Int64(row[0].displayText), let max = Int64(row[1].displayText) else { return ([.all], estimated) }
            return (planner.integerRanges(column: keyColumns[0].name, min: min, max: max, rows: estimated), estimated)
        }
        if delta, let window {
            // The delta's own size, so progress and ETA are about the rows this run moves.
            let count = try await source.execute(
                "SELECT count(*) FROM \(dialect.qualified(tablePlan.source)) WHERE " + RowFilter(terms: [], window: window).sql(dialect)
            ).rows.first?.first
            return ([.all], count.flatMap { Int64($0.displayText) } ?? rows)
        }
        guard large, !delta else { return ([.all], rows) }
        if keyColumns.count == 1, plan.sourceEngine != .sqlite, !keyColumns[0].canonical.isText {
            // uuid and date keys compare by value in PostgreSQL and Snowflake; (SQLite text may not sort like the values it spells.)
            return (try await literalRanges(keyColumns[0], tablePlan.source, rows: rows, rowsPerChunk: rowsPerChunk) ?? [.all], rows)
        }
        if keyColumns.count == 1, case .text = keyColumns[0].canonical {
            // Not CHAR(n): its padding compares differently on engines that keep it and those that do not.
            return (try await textRanges(keyColumns[0], tablePlan.source, rows: rows, rowsPerChunk: rowsPerChunk) ?? [.all], rows)
        }
        guard keyColumns.isEmpty else { return ([.all], rows) }
        if let locator = dialect.rowLocator(tablePlan.source) {
            let bounds = try await locatorRanges(locator, rows: rows, rowsPerChunk: rowsPerChunk) ?? [.all]
            await recorder.event(
                "table.warning", table: name, level: "warn",
                "\(name) has no key: split into \(bounds.count) chunks by its physical row order (\(locator.column)); "
                    + "if the run is interrupted, resuming reloads the whole table. Add a key for per-chunk resume and row-level validation.")
            return (bounds, rows)
        }
        if dialect.hashBucket([], count: 1) != nil {
            let bounds = planner.hashBuckets(columns: sourceColumns.map(\.name), rows: rows)
            await recorder.event(
                "table.warning", table: name, level: "warn",
                "\(name) has no key: split into \(bounds.count) chunks by a hash of each row; each chunk scans the table at the source, "
                    + "and if the run is interrupted, resuming reloads the whole table. Add a key for range chunks and row-level validation.")
            return (bounds, rows)
        }
        return ([.all], rows)
    }

    func locatorRanges(_ locator: RowLocator, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
        guard let row = try await source.execute(locator.extentSQL).rows.first else { return nil }
        switch locator.kind {
        case .integer:
            guard row.count == 2, let min = Int64(row[0].displayText), let max = Int64(row[1].displayText) else { return nil }
            return ChunkPlanner(rowsPerChunk: rowsPerChunk).integerRanges(column: locator.column, min: min, max: max, rows: rows)
        case .pageTuple:
            guard let pages = Int64(row.first?.displayText ?? "") else { return nil }
            return ChunkPlanner(rowsPerChunk: rowsPerChunk).pageRanges(column: locator.column, pages: pages, rows: rows)
        }
    }

    /// Rows per chunk for a table: `--chunk-rows`, or `--chunk-bytes` over the table's average row size.
    public static func rowsPerChunk(_ options: MoveOptions, _ table: Table) -> Int64 {
        guard let bytes = options.bytesPerChunk, let size = table.sizeBytes, let rows = table.rowCount, rows > 0, size > 0 else {
            return options.rowsPerChunk
        }
        return max(1, bytes / max(1, size / rows))
    }

    /// Text keys: every n-th key in byte order, read in one pass, become the chunk edges; every
    /// engine compares them by bytes, so source reads and target deletes agree on each range.
    func textRanges(_ key: Column, _ table: TableRef, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
        let dialect = source.dialect
        let ordered = dialect.byteOrder(dialect.quote(key.name), type: key.canonical)
        let every = max(1, rowsPerChunk)
        let sql =
            "SELECT k FROM (SELECT \(dialect.quote(key.name)) AS k, ROW_NUMBER() OVER (ORDER BY \(ordered)) AS rn FROM \(dialect.qualified(table))) numbered "
            + "WHERE rn % \(every) = 0"
        let edges = try await source.execute(sql).rows.compactMap { row -> String? in
            guard case .text(let text) = row.first else { return nil }
            return text
        }
        return ChunkPlanner(rowsPerChunk: rowsPerChunk).textRanges(column: key.name, edges: edges)
    }

    func literalRanges(_ key: Column, _ table: TableRef, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
        let planner = ChunkPlanner(rowsPerChunk: rowsPerChunk)
        switch key.canonical {
        case .uuid:
            return planner.uuidRanges(column: key.name, rows: rows)
        case .date:
            let quoted = source.dialect.quote(key.name)
            guard let row = try await source.execute("SELECT min(\(quoted)), max(\(quoted)) FROM \(source.dialect.qualified(table))").rows.first,
                case .text(let low) = row[0], case .text(let high) = row[1]
            else { return nil }
            func days(_ text: String) -> Int? {
                let parts = text.prefix(10).split(separator: "-").compactMap { Int($0) }
                return parts.count == 3 ? Timestamp.daysFromCivil(parts[0], parts[1], parts[2]) : nil
            }
            guard let first = days(low), let last = days(high) else { return nil }
            return planner.dateRanges(column: key.name, first: first, last: last, rows: rows)
        default:
            return nil
        }
    }
}
