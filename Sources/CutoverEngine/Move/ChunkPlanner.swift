import CutoverCore
import CutoverStore
import Foundation

/// The rows one chunk covers. Written to the ledger as JSON, so resume and other workers read
/// exactly the bounds the first run chose.
public enum ChunkBounds: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The whole table (tables without a single integer key, small tables).
    case all
    /// `lower <= key < upper`; a nil end is open, so rows beyond the planned min/max are not lost.
    case integerRange(column: String, lower: Int64?, upper: Int64?)
    /// The same over values compared as quoted literals: uuids, ISO dates.
    case literalRange(column: String, lower: String?, upper: String?)
    /// The same over text compared by its UTF-8 bytes on every engine (text keys).
    case textRange(column: String, lower: String?, upper: String?)
    /// The rows whose hash over `columns` falls in bucket `index` of `count` (keyless tables on
    /// engines without a physical row address). Only the source can evaluate it: the target's
    /// engine hashes differently, so such a table is reloaded from empty on resume.
    case hashBucket(columns: [String], index: Int, count: Int)

    /// The predicate that selects this chunk's rows, with the key column named as on that side.
    public func filter(column renamed: String? = nil) -> RowFilter {
        switch self {
        case .all: return RowFilter(terms: [])
        case .integerRange(let column, let lower, let upper):
            let name = renamed ?? column
            var terms: [RowFilter.Term] = []
            if let lower { terms.append(.init(column: name, .greaterOrEqual, String(lower), isNumeric: true)) }
            if let upper { terms.append(.init(column: name, .less, String(upper), isNumeric: true)) }
            return RowFilter(terms: terms)
        case .literalRange(let column, let lower, let upper), .textRange(let column, let lower, let upper):
            let name = renamed ?? column
            let bytewise = if case .textRange = self { true } else { false }
            var terms: [RowFilter.Term] = []
            if let lower { terms.append(.init(column: name, .greaterOrEqual, lower, isNumeric: false, bytewise: bytewise)) }
            if let upper { terms.append(.init(column: name, .less, upper, isNumeric: false, bytewise: bytewise)) }
            return RowFilter(terms: terms)
        case .hashBucket(let columns, let index, let count):
            return RowFilter(terms: [], bucket: .init(columns: columns, index: index, count: count))
        }
    }

    public var description: String {
        switch self {
        case .all: return "all rows"
        case .integerRange(let column, let lower, let upper):
            return "\(lower.map { "\($0) ≤ " } ?? "")\(column)\(upper.map { " < \($0)" } ?? "")"
        case .literalRange(let column, let lower, let upper), .textRange(let column, let lower, let upper):
            return "\(lower.map { "'\($0)' ≤ " } ?? "")\(column)\(upper.map { " < '\($0)'" } ?? "")"
        case .hashBucket(_, let index, let count):
            return "row hash bucket \(index + 1) of \(count)"
        }
    }

    /// The bounds as the ledger keeps them.
    public func encoded() throws -> String {
        String(decoding: try JSONEncoder.sorted.encode(self), as: UTF8.self)
    }

    /// The bounds a ledger row names. A row that does not decode is an error, never "the whole
    /// table": a chunk that took itself for the whole table would clear every row of it.
    public static func parse(_ json: String, chunk: ChunkRecord? = nil) throws -> ChunkBounds {
        do {
            return try JSONDecoder().decode(ChunkBounds.self, from: Data(json.utf8))
        } catch {
            var context: [String: String] = ["bounds": String(json.prefix(200))]
            if let chunk {
                context["table"] = chunk.table
                context["chunk"] = String(chunk.number)
            }
            throw CutoverError(
                .store,
                "the ledger's bounds of \(chunk.map { "\($0.table) chunk \($0.number)" } ?? "a chunk") do not decode; the chunk was not loaded",
                hint: "the store was changed by hand or by a newer Cutover; start the run again with --replace", context: context)
        }
    }
}

/// Splits a table into chunks, deterministically from its key range and size.
public struct ChunkPlanner: Sendable {
    /// Target rows per chunk.
    public var rowsPerChunk: Int64

    public init(rowsPerChunk: Int64 = 250_000) {
        self.rowsPerChunk = max(1, rowsPerChunk)
    }

    /// Chunks for a table whose single integer key spans `min...max` with about `rows` rows.
    /// Ranges have equal widths; the first and last are open-ended.
    public func integerRanges(column: String, min: Int64, max: Int64, rows: Int64) -> [ChunkBounds] {
        let count = Int64(Swift.max(1, (rows + rowsPerChunk - 1) / rowsPerChunk))
        guard count > 1, max > min else { return [.integerRange(column: column, lower: nil, upper: nil)] }
        let span = max.subtractingReportingOverflow(min)
        guard !span.overflow else { return [.integerRange(column: column, lower: nil, upper: nil)] }
        let width = Swift.max(1, (span.partialValue / count) + 1)
        var bounds: [ChunkBounds] = []
        var lower: Int64? = nil
        var edge = min
        while true {
            let (next, overflow) = edge.addingReportingOverflow(width)
            if overflow || next > max {
                bounds.append(.integerRange(column: column, lower: lower, upper: nil))
                break
            }
            bounds.append(.integerRange(column: column, lower: lower, upper: next))
            lower = next
            edge = next
        }
        return bounds
    }

    private func chunkCount(_ rows: Int64) -> Int64 { Swift.max(1, (rows + rowsPerChunk - 1) / rowsPerChunk) }

    /// UUID key ranges: the 128-bit space split evenly by its first 32 bits (random uuids spread evenly).
    public func uuidRanges(column: String, rows: Int64) -> [ChunkBounds] {
        let count = Swift.min(chunkCount(rows), 65_536)
        guard count > 1 else { return [.literalRange(column: column, lower: nil, upper: nil)] }
        let step = (UInt64(1) << 32) / UInt64(count)
        let edges = (1..<count).map { String(format: "%08llx-0000-0000-0000-000000000000", UInt64($0) * step) }
        return zip([nil] + edges, edges + [nil]).map { .literalRange(column: column, lower: $0, upper: $1) }
    }

    /// Text key ranges between `edges` (every n-th key in byte order), open at both ends.
    public func textRanges(column: String, edges: [String]) -> [ChunkBounds] {
        var sorted: [String] = []
        for edge in edges.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where edge != sorted.last { sorted.append(edge) }
        guard !sorted.isEmpty else { return [.textRange(column: column, lower: nil, upper: nil)] }
        return zip([nil] + sorted, sorted + [nil]).map { .textRange(column: column, lower: $0, upper: $1) }
    }

    /// Date key ranges of equal day spans between `first` and `last` (days since 1970-01-01).
    public func dateRanges(column: String, first: Int, last: Int, rows: Int64) -> [ChunkBounds] {
        let count = Int(chunkCount(rows))
        guard count > 1, last > first else { return [.literalRange(column: column, lower: nil, upper: nil)] }
        let width = Swift.max(1, (last - first) / count + 1)
        var edges: [String] = []
        var day = first + width
        while day <= last {
            let (y, m, d) = Timestamp.civilFromDays(day)
            edges.append(String(format: "%04d-%02d-%02d", y, m, d))
            day += width
        }
        return zip([nil] + edges, edges + [nil]).map { .literalRange(column: column, lower: $0, upper: $1) }
    }

    /// Row-hash buckets for a keyless table of about `rows` rows: each chunk reads the rows whose
    /// hash over every column falls in its bucket (equal rows share a bucket).
    public func hashBuckets(columns: [String], rows: Int64) -> [ChunkBounds] {
        let count = Int(Swift.min(chunkCount(rows), 4_096))
        return (0..<count).map { .hashBucket(columns: columns, index: $0, count: count) }
    }

    /// PostgreSQL ctid ranges over `pages` pages: `'(first,0)' <= ctid < '(next,0)'`, open at both ends.
    public func pageRanges(column: String, pages: Int64, rows: Int64) -> [ChunkBounds] {
        let count = Swift.min(chunkCount(rows), Swift.max(1, pages))
        guard count > 1 else { return [.literalRange(column: column, lower: nil, upper: nil)] }
        let step = (pages + count - 1) / count
        let edges = stride(from: step, to: pages, by: Int(step)).map { "(\($0),0)" }
        return zip([nil] + edges, edges + [nil]).map { .literalRange(column: column, lower: $0, upper: $1) }
    }
}
