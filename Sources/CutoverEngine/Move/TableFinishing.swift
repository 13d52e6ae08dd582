import CutoverCore
import CutoverStore
import Foundation

// MARK: Finishing a table after its chunks
extension Mover {
    /// A step after the chunks (ANALYZE, identity reset, indexes, foreign keys, deletes) that a
    /// dropped connection must not fail for good: retried like a chunk.
    func finishing<T>(_ what: String, table: String, recorder: RunRecorder, _ work: () async throws -> T) async throws -> T {
        try await options.retry.run({
            try Failpoint.check("move.finish")
            return try await work()
        }) { attempt, error, delay in
            RunMetrics.retried("table")
            await recorder.event(
                "table.retry", table: table, level: "warn",
                "\(table): \(what.prefix(80)) failed on attempt \(attempt) (\(error.redactedDescription)); retrying in \(String(format: "%.1f", delay)) s"
            )
        }
    }

    /// Finishes one prepared table after its chunks: builds its deferred primary key and restores
    /// the indexes the load dropped (whatever happened), lets `lifecycle` decide its outcome from the
    /// ledger, runs the closing steps of a complete load, and records the table in the store.
    /// `loadSpan`: when its chunks loaded here; `runStarted`: the fallback when only workers
    /// elsewhere loaded it.
    func finishTable(
        _ work: TableWork, chunks: [ChunkRecord], lifecycle: inout MoveLifecycle, loadSpan: (started: Date, finished: Date)?,
        runStarted: Date, recorder: RunRecorder
    ) async throws -> TableMoveResult {
        let tablePlan = work.plan
        let name = tablePlan.source.description
        // The key first: the indexes and the foreign keys after every table may need it.
        var keyFailure: String?
        if let statement = work.restore.primaryKey {
            do {
                _ = try await finishing("building the primary key", table: name, recorder: recorder) { try await target.execute(statement) }
            } catch {
                keyFailure = MoveLifecycle.keyFailureMessage(statement: statement, error: error.redactedDescription)
            }
        }
        for statement in work.restore.indexes {
            do {
                _ = try await finishing(statement, table: name, recorder: recorder) { try await target.execute(statement) }
            } catch {
                await recorder.event(
                    "table.index_restore_failed", table: name, level: "error",
                    "\(name): could not rebuild an index: \(error.redactedDescription); run it by hand: \(statement)")
            }
        }
        let outcome = lifecycle.finish(name, chunks: chunks, keyFailure: keyFailure)
        let done = chunks.filter { $0.state == .done }
        var result = TableMoveResult(
            source: name, target: tablePlan.target.description, status: outcome.status, rows: done.reduce(0) { $0 + ($1.rows ?? 0) },
            bytes: done.reduce(0) { $0 + ($1.bytes ?? 0) },
            seconds: loadSpan.map { $0.finished.timeIntervalSince($0.started) } ?? Date().timeIntervalSince(runStarted), chunks: chunks.count)
        result.chunksDone = done.count
        result.error = outcome.error
        if outcome.closes {
            do {
                try await finishing("closing steps", table: name, recorder: recorder) { try await finalizeTable(tablePlan, work) }
                try await finishing("recording the watermark", table: name, recorder: recorder) {
                    try await advanceWatermark(work, recorder: recorder)
                }
                if options.deleteMissing {
                    result.deleted = try await finishing("deleting rows gone at the source", table: name, recorder: recorder) {
                        try await deleteMissing(work)
                    }
                    if result.deleted > 0 {
                        await recorder.event(
                            "table.deleted_missing", table: name, "\(name): deleted \(result.deleted) target row(s) gone at the source")
                    }
                }
            } catch {
                lifecycle.closingFailed(name, error: error.redactedDescription)
                result.status = .failed
                result.error = error.redactedDescription
            }
        }
        result.rejected = Int64(try await recorder.store.rejects(runID: recorder.runID).filter { $0.table == name }.count)
        if result.succeeded {
            await recorder.event(
                "table.done", table: name, "\(name): \(Format.count(result.rows)) rows in \(chunks.count) chunk(s)",
                fields: ["rows": String(result.rows), "bytes": String(result.bytes), "chunks": String(chunks.count)])
        } else {
            await recorder.event(
                "table.failed", table: name, level: "error",
                "\(name): \(result.status.rawValue): \(result.error ?? "")" + (result.aftermath.map { " — " + $0 } ?? ""))
        }
        // A key that could not be built stays owed: the rerun that resumes the run builds it.
        var owed = LoadRestore()
        owed.primaryKey = keyFailure.flatMap { _ in work.restore.primaryKey }
        try await recorder.recordTable(
            RunTableRecord(
                runID: recorder.runID, table: name, status: result.status.rawValue, targetRows: result.rows,
                bytes: result.bytes, startedAt: loadSpan.map { ISOTime.string($0.started) }, finishedAt: ISOTime.now(),
                message: result.error.map { $0 + (result.aftermath.map { " — " + $0 } ?? "") },
                details: owed.primaryKey == nil ? nil : String(decoding: try JSONEncoder.sorted.encode(owed), as: UTF8.self)))
        return result
    }

    /// Foreign keys and indexes the plan adds after the data, for the tables that loaded; one that
    /// fails is a warning naming the statement, not a failed table (the rows are there).
    func addPostDataDDL(loaded: Set<String>, recorder: RunRecorder) async {
        for tablePlan in plan.tables where loaded.contains(tablePlan.source.description) {
            for statement in tablePlan.postDataDDL {
                do {
                    try await finishing(statement, table: tablePlan.source.description, recorder: recorder) { try await target.execute(statement) }
                } catch {
                    await recorder.event(
                        "table.post_load_failed", table: tablePlan.source.description, level: "warn",
                        "\(tablePlan.target): could not add a foreign key or index: \(error.redactedDescription)",
                        fields: ["statement": statement])
                }
            }
        }
    }

    private func finalizeTable(_ tablePlan: TablePlan, _ work: TableWork) async throws {
        let dialect = target.dialect
        for column in tablePlan.columns where column.identity != nil {
            if let sql = dialect.resetIdentity(tablePlan.target, column: column.targetColumn) { try await target.execute(sql) }
        }
        if let sql = dialect.analyze(tablePlan.target) { try await target.execute(sql) }
    }

    /// Streams the key columns of both sides in key order and deletes target rows whose key is gone
    /// at the source, 500 keys per statement. Memory: one batch per side plus one delete batch.
    func deleteMissing(_ work: TableWork) async throws -> Int64 {
        guard !work.keyColumns.isEmpty else {
            throw CutoverError(
                .usage, "\(work.plan.source) has no key, so rows gone at the source cannot be found",
                hint: "drop --delete-missing for this table or add a key", context: ["table": work.plan.source.description])
        }
        let targetKeys = work.keyColumns.map { key in
            var column = key
            column.name = work.plan.columns.first { $0.column == key.name }?.targetColumn ?? key.name
            return column
        }
        let types = work.keyColumns.map(\.canonical)
        let indexes = Array(types.indices)
        var left = RowCursor(source.read(ReadRequest(table: work.plan.source, columns: work.keyColumns, orderBy: work.keyColumns)), types: types)
        var right = RowCursor(target.read(ReadRequest(table: work.plan.target, columns: targetKeys, orderBy: targetKeys)), types: types)
        var doomed: [[String?]] = []
        var deleted: Int64 = 0
        var a = try await left.next(), b = try await right.next()
        while let targetRow = b {
            let order = a.map { TableComparer.compareKeys($0, targetRow, indexes, types) } ?? 1
            if order < 0 {
                a = try await left.next()
            } else if order == 0 {
                a = try await left.next()
                b = try await right.next()
            } else {
                doomed.append(targetRow.values)
                b = try await right.next()
                if doomed.count == 500 { deleted += try await deleteKeys(doomed, work: work, columns: targetKeys); doomed.removeAll() }
            }
        }
        if !doomed.isEmpty { deleted += try await deleteKeys(doomed, work: work, columns: targetKeys) }
        return deleted
    }

    private func deleteKeys(_ keys: [[String?]], work: TableWork, columns: [Column]) async throws -> Int64 {
        let dialect = target.dialect
        func literal(_ value: String?, _ column: Column) -> String {
            guard let value else { return "NULL" }
            return column.canonical.storage == .int ? value : dialect.literal(value)
        }
        let tuples = keys.map { key in
            columns.count == 1 ? literal(key[0], columns[0]) : "(" + zip(key, columns).map { literal($0, $1) }.joined(separator: ", ") + ")"
        }
        let keyList = columns.count == 1 ? dialect.quote(columns[0].name) : "(" + columns.map { dialect.quote($0.name) }.joined(separator: ", ") + ")"
        try await target.execute("DELETE FROM \(dialect.qualified(work.plan.target)) WHERE \(keyList) IN (\(tuples.joined(separator: ", ")))")
        return Int64(keys.count)
    }

    /// After an incremental table finished: its watermark becomes the top of the window it loaded.
    func advanceWatermark(_ work: TableWork, recorder: RunRecorder) async throws {
        guard let column = work.watermarkColumn, let window = work.incremental else { return }
        try await recorder.store.setWatermark(
            source: source.url.description, target: target.url.description, table: work.plan.source.description,
            column: column.name, value: window.high ?? window.low, runID: recorder.runID)
    }
}
