import CutoverCore
import CutoverStore
import Foundation

// MARK: Loading one chunk
extension Mover {
    /// Loads one chunk atomically; returns rows and bytes.
    func load(_ chunk: ChunkRecord, _ work: TableWork) async throws -> WriteStats {
        let (request, writeOptions) = try chunkRequest(chunk, work)
        do {
            if work.passThrough, let passThrough = target as? any PassThroughTarget {
                return try await passThrough.transfer(request, from: source, to: work.plan.target, columns: work.targetColumns, options: writeOptions)
            }
            let checksum = ChecksumAccumulator(algorithm: "values-\(source.url.engine.rawValue)")
            var stats = try await target.write(
                source.read(request).checksummed(into: checksum), to: work.plan.target,
                columns: work.targetColumns, options: writeOptions)
            stats.checksum = checksum.checksum
            return stats
        } catch let error as CutoverError {
            throw await explain(error, work: work, filter: request.filter)
        }
    }

    /// Whether an error is about the data (a value that does not fit), not the connection or SQL.
    static func isDataError(_ error: any Error) -> Bool {
        guard let error = error as? CutoverError else { return false }
        let state = error.context["sqlstate"] ?? ""
        return error.code == .valueDoesNotFit || state.hasPrefix("22") || state.hasPrefix("23")
    }

    /// `--on-error reject`: loads a chunk whose bulk load hit bad rows by bisecting each batch until
    /// the refused rows are isolated; they go to the store's `rejects` table with the reason, the
    /// rest lands. The chunk's range is cleared first, so a crash half way is redone cleanly.
    func loadRejecting(_ chunk: ChunkRecord, _ work: TableWork, recorder: RunRecorder) async throws -> (WriteStats, Int) {
        let (request, writeOptions) = try chunkRequest(chunk, work)
        try await recorder.store.clearRejects(runID: recorder.runID, table: chunk.table, chunk: chunk.number)
        if writeOptions.replacing != nil {
            _ = try await target.write(.batches([]), to: work.plan.target, columns: work.targetColumns, options: writeOptions)
        }
        let piece = WriteOptions(mode: writeOptions.mode)
        var stats = WriteStats()
        var rejects: [RejectRecord] = []
        func insert(_ batch: RowBatch) async throws {
            do {
                let written = try await target.write(.batches([batch]), to: work.plan.target, columns: work.targetColumns, options: piece)
                stats.rows += written.rows
                stats.bytes += written.bytes
            } catch  where Self.isDataError(error) {
                if batch.rowCount == 1 {
                    rejects.append(reject(batch, chunk: chunk, work: work, reason: error.redactedDescription, runID: recorder.runID))
                    return
                }
                let middle = batch.rowCount / 2
                try await insert(batch.slice(0..<middle))
                try await insert(batch.slice(middle..<batch.rowCount))
            }
        }
        for try await batch in source.read(request) { try await insert(batch) }
        try await recorder.store.addRejects(rejects)
        return (stats, rejects.count)
    }

    private func reject(_ batch: RowBatch, chunk: ChunkRecord, work: TableWork, reason: String, runID: String) -> RejectRecord {
        var values: [String: String] = [:]
        for (index, column) in work.sourceColumns.enumerated() {
            values[column.name] = CanonicalForm.text(batch[0, index], as: column.canonical) ?? "NULL"
        }
        let key = work.keyColumns.map { key in "\(key.name)=\(values[key.name] ?? "NULL")" }.joined(separator: ",")
        // A dictionary of strings always encodes; without it the reject still names its key and reason.
        let json = (try? JSONEncoder.sorted.encode(values)).map { String(decoding: $0, as: UTF8.self) }
        return RejectRecord(runID: runID, table: chunk.table, chunk: chunk.number, key: key.isEmpty ? nil : key, reason: reason, values: json)
    }

    /// The read request and write options that load one chunk.
    private func chunkRequest(_ chunk: ChunkRecord, _ work: TableWork) throws -> (ReadRequest, WriteOptions) {
        let bounds = try ChunkBounds.parse(chunk.bounds, chunk: chunk)
        var filter = bounds.filter()
        filter.window = work.window
        let targetKeyName = work.keyColumns.first.flatMap { key in work.plan.columns.first { $0.column == key.name }?.targetColumn }
        // copy: the chunk's range is ours, delete it first so a reload is idempotent; upsert is
        // idempotent by itself; append must not delete what was there.
        // A keyless table split by row locator has no range to clear in the target: resume empties the table instead.
        let addressable = bounds == .all || !work.keyColumns.isEmpty
        // A table whose key is built after the load has no index to find a range by: its first try
        // at a chunk skips the delete (nothing of the range can be there yet; a try after one that
        // may have committed counts as a second attempt in the ledger).
        let nothingToClear = work.restore.primaryKey != nil && chunk.attempts <= 1
        let replacing: RowFilter? =
            (work.options.mode == .copy && work.options.watermark == nil && addressable && !nothingToClear)
            ? bounds.filter(column: targetKeyName) : nil
        let table = work.plan.source.description.replacingOccurrences(of: ".", with: "_")
        let name = "\(chunk.runID)/\(table)_chunk_\(String(format: "%04d", chunk.number))_attempt_\(chunk.attempts)"
        let writeOptions = WriteOptions(mode: work.writeMode, replacing: replacing, name: name)
        let request = ReadRequest(
            table: work.plan.source, columns: work.sourceColumns, orderBy: work.keyColumns, batchSize: options.batchSize,
            filter: filter.isEmpty ? nil : filter)
        return (request, writeOptions)
    }

    /// Adds the failing row's key to a load error when the engine says which input line failed.
    private func explain(_ error: CutoverError, work: TableWork, filter: RowFilter?) async -> CutoverError {
        var error = error.adding(["table": work.plan.source.description])
        guard let where_ = error.context["where"], let range = where_.range(of: "line "),
            let line = Int(where_[range.upperBound...].prefix { $0.isNumber }), !work.keyColumns.isEmpty
        else { return error }
        let dialect = source.dialect
        let order = work.keyColumns.map { dialect.byteOrder(dialect.quote($0.name), type: $0.canonical) }.joined(separator: ", ")
        let sql = dialect.limit(
            "SELECT \(work.keyColumns.map { dialect.quote($0.name) }.joined(separator: ", ")) FROM \(dialect.qualified(work.plan.source))"
                + (filter.map { " WHERE " + $0.sql(dialect) } ?? "") + " ORDER BY \(order)", rows: 1, offset: line - 1)
        // Only to name the row in the message: the load's own error is what is reported either way.
        if let row = try? await source.execute(sql).rows.first {
            error.context["key"] = zip(work.keyColumns, row).map { "\($0.name)=\($1.displayText)" }.joined(separator: ",")
        }
        error.context["row"] = String(line)
        error.hint = error.hint ?? "fix the value at the source, or widen the target column with an override in cutover.yml, then rerun"
        return error
    }
}
