import CutoverCore
import Foundation

/// The rows of one query, page by page: the inline row set first, then each result chunk,
/// downloaded only when the previous one is consumed, so memory holds one chunk at a time.
final class SnowflakeResultPages {
    let columns: [SnowflakeColumnType]
    let queryId: String?
    private let client: SnowflakeClient
    private var pending: [ChunkReference]
    private let chunkHeaders: [String: String]
    private let isArrow: Bool
    private var inline: QueryData?
    private var arrow: ArrowStreamReader?

    init(_ data: QueryData, client: SnowflakeClient) {
        columns = data.rowtype ?? []
        queryId = data.queryId
        self.client = client
        pending = data.chunks ?? []
        chunkHeaders = data.chunkDownloadHeaders
        isArrow = (data.queryResultFormat ?? "json").lowercased() == "arrow"
        inline = data
    }

    /// The next page of rows (an Arrow record batch or a JSON chunk), or nil at the end.
    func next() async throws -> [[Value]]? {
        while true {
            if var reader = arrow {
                let batch = try reader.nextBatch()
                arrow = reader
                if let batch { return try rows(batch) }
                arrow = nil
            }
            if let data = inline {
                inline = nil
                if isArrow {
                    guard let base64 = data.rowsetBase64, !base64.isEmpty else { continue }
                    guard let bytes = Data(base64Encoded: base64) else { throw malformed("the inline Arrow row set is not base64") }
                    arrow = try decodeArrow(Array(bytes))
                    continue
                }
                let rowset = data.rowset ?? []
                if rowset.isEmpty { continue }
                return try jsonRows(rowset)
            }
            guard !pending.isEmpty else { return nil }
            let chunk = pending.removeFirst()
            let body = try await client.fetchChunk(chunk.url, headers: chunkHeaders)
            if isArrow {
                arrow = try decodeArrow(body)
                continue
            }
            // JSON chunks are rows without the enclosing brackets: `[..],[..]`.
            let wrapped = Data([UInt8(ascii: "[")] + body + [UInt8(ascii: "]")])
            guard let rowset = try? JSONDecoder().decode([[String?]].self, from: wrapped) else {  // else: an error naming the chunk
                throw malformed("a JSON result chunk does not parse")
            }
            return try jsonRows(rowset)
        }
    }

    private func jsonRows(_ rowset: [[String?]]) throws -> [[Value]] {
        do {
            return try rowset.map { row in
                guard row.count == columns.count else { throw ArrowError.malformed("a JSON row of \(row.count) cells for \(columns.count) columns") }
                return try zip(row, columns).map { try SnowflakeCells.value($0, $1) }
            }
        } catch let error as ArrowError {
            throw malformed(error.description)
        }
    }

    /// Every remaining row (for small results: DDL, catalog queries, aggregates).
    func all() async throws -> [[Value]] {
        var rows: [[Value]] = []
        while let page = try await next() { rows += page }
        return rows
    }

    private func decodeArrow(_ bytes: [UInt8]) throws -> ArrowStreamReader {
        do {
            let reader = try ArrowStreamReader(bytes)
            guard reader.schema.count == columns.count else {
                throw malformed("the Arrow schema has \(reader.schema.count) columns, the row type \(columns.count)")
            }
            return reader
        } catch let error as ArrowError {
            throw malformed(error.description)
        }
    }

    private func rows(_ batch: ArrowRecordBatch) throws -> [[Value]] {
        do {
            return try (0..<batch.length).map { row in
                try zip(batch.columns, columns).map { try SnowflakeCells.value($0, row, $1) }
            }
        } catch let error as ArrowError {
            throw malformed(error.description)
        }
    }

    private func malformed(_ why: String) -> CutoverError {
        CutoverError(.query, "cannot read a Snowflake result: \(why)", context: ["query_id": queryId ?? "?"])
    }
}
