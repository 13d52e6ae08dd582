import CutoverCore
import CutoverStore
import Foundation

/// Workers that lease chunks from the ledger and load them, with retries for transient errors.
actor ChunkPool {
    let work: [String: Mover.TableWork]
    let mover: Mover
    let recorder: RunRecorder
    let progress: Progress
    private var failedTables: Set<String> = []
    private(set) var isCancelled = false
    /// Chunks this pool's workers loaded.
    private(set) var loaded = 0

    private func countLoaded() { loaded += 1 }

    init(work: [String: Mover.TableWork], mover: Mover, recorder: RunRecorder, progress: Progress) {
        self.work = work
        self.mover = mover
        self.recorder = recorder
        self.progress = progress
    }

    private func markFailed(_ table: String) { failedTables.insert(table) }
    private func hasFailed(_ table: String) -> Bool { failedTables.contains(table) }

    /// Claims and loads chunks until none is left, the run is cancelled, or the task is.
    nonisolated func runWorker(owner: String) async throws {
        let store = recorder.store
        let runID = recorder.runID
        while !Task.isCancelled {
            let holdsLease = await recorder.holdsLease
            if try await store.run(id: runID)?.status == .cancelling || !holdsLease {
                await cancel()
                return
            }
            guard var chunk = try await store.claimChunk(runID: runID, owner: owner, leaseSeconds: 600) else { return }
            guard let tableWork = work[chunk.table] else {
                chunk.state = .failed
                chunk.error = "skipped: the table could not be prepared"
                try await store.finishChunk(chunk)
                continue
            }
            if await hasFailed(chunk.table) {
                chunk.state = .failed
                chunk.error = "skipped: another chunk of this table failed"
                try await store.finishChunk(chunk)
                continue
            }
            let started = Date()
            var attempt = 1
            while true {
                do {
                    let (stats, rejected) = try await loadOnce(chunk, tableWork)
                    chunk.state = .done
                    chunk.rows = stats.rows
                    chunk.bytes = stats.bytes
                    chunk.checksum = stats.checksum?.description
                    chunk.error = rejected > 0 ? "\(rejected) row(s) rejected" : nil
                    try await store.finishChunk(chunk)
                    await countLoaded()
                    if rejected > 0 {
                        await recorder.event(
                            "chunk.rejected", table: chunk.table, level: "warn",
                            "\(chunk.table) chunk \(chunk.number): \(rejected) row(s) rejected, \(Format.count(stats.rows)) loaded",
                            fields: ["rejected": String(rejected)])
                    }
                    RunMetrics.chunkLoaded(table: chunk.table, rows: stats.rows, bytes: stats.bytes, seconds: Date().timeIntervalSince(started))
                    await progress.chunkDone(
                        table: chunk.table, number: chunk.number, rows: stats.rows, bytes: stats.bytes,
                        seconds: Date().timeIntervalSince(started))
                    break
                } catch {
                    if RetryPolicy.isTransient(error), attempt < mover.options.retry.maxAttempts {
                        let delay = mover.options.retry.delay(afterAttempt: attempt)
                        RunMetrics.retried("chunk")
                        await recorder.event(
                            "chunk.retry", table: chunk.table, level: "warn",
                            "\(chunk.table) chunk \(chunk.number): attempt \(attempt) failed (\(error.redactedDescription)); retrying in \(String(format: "%.1f", delay)) s"
                        )
                        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                        attempt += 1
                        chunk.attempts += 1  // the ledger counts every try, also those within one lease
                        continue
                    }
                    await markFailed(chunk.table)
                    RunMetrics.chunkFailed(table: chunk.table)
                    chunk.state = .failed
                    chunk.error = error.redactedDescription
                    try await store.finishChunk(chunk)
                    await recorder.event(
                        "chunk.failed", table: chunk.table, level: "error",
                        "\(chunk.table) chunk \(chunk.number) (\((try? ChunkBounds.parse(chunk.bounds))?.description ?? chunk.bounds)): \(error.redactedDescription)"
                    )  // message only: the raw bounds if they do not decode
                    break
                }
            }
        }
    }

    /// One attempt at a chunk: the bulk load, or with `--on-error reject` and bad rows, the
    /// bisecting load that sets them aside. Returns the stats and the number of rejected rows.
    private nonisolated func loadOnce(_ chunk: ChunkRecord, _ work: Mover.TableWork) async throws -> (WriteStats, Int) {
        try await Failpoint.pass("move.chunk")
        do {
            return (try await mover.load(chunk, work), 0)
        } catch  where mover.options.onError == .reject && Mover.isDataError(error) {
            return try await mover.loadRejecting(chunk, work, recorder: recorder)
        }
    }

    private func cancel() { isCancelled = true }

}

/// Aggregates chunk completions into `chunk.done` events and, at most once a second, a progress
/// line for each table whose count moved since the last line (rate and ETA per table).
actor Progress {
    let recorder: RunRecorder
    let totals: [String: Int64]
    private var rows: [String: Int64] = [:]
    private var bytes: [String: Int64] = [:]
    private var started: [String: Date] = [:]
    private var latest: [String: Date] = [:]
    private var reported: [String: Int64] = [:]
    private var lastLine = Date()

    /// Rows of chunks an earlier attempt of the run loaded (a resumed run): counted as done, not in the rate.
    let previously: [String: Int64]

    init(recorder: RunRecorder, totals: [String: Int64], previously: [String: Int64] = [:]) {
        self.recorder = recorder
        self.totals = totals
        self.previously = previously
    }

    func chunkDone(table: String, number: Int, rows chunkRows: Int64, bytes chunkBytes: Int64, seconds: Double) async {
        if started[table] == nil { started[table] = Date().addingTimeInterval(-seconds) }
        latest[table] = Date()
        rows[table, default: 0] += chunkRows
        bytes[table, default: 0] += chunkBytes
        await recorder.event(
            "chunk.done", table: table, "\(table) chunk \(number): \(Format.count(chunkRows)) rows in \(Format.duration(seconds))",
            fields: ["chunk": String(number), "rows": String(chunkRows), "bytes": String(chunkBytes)], echo: false)
        if Date().timeIntervalSince(lastLine) >= 1 { await flush() }
    }

    /// When the table's first chunk started and its last finished, as far as this process saw.
    func span(_ table: String) -> (started: Date, finished: Date)? {
        guard let first = started[table], let last = latest[table] else { return nil }
        return (first, last)
    }

    func flush() async {
        lastLine = Date()
        for table in rows.keys.sorted() where rows[table] != reported[table] {
            let moved = rows[table] ?? 0, total = totals[table] ?? 0
            reported[table] = moved
            let done = moved + (previously[table] ?? 0)
            let elapsed = max(0.001, (latest[table] ?? Date()).timeIntervalSince(started[table] ?? Date()))
            let rate = Double(moved) / elapsed
            let eta = rate > 0 && total > done ? String(format: ", ETA %.0f s", Double(total - done) / rate) : ""
            await recorder.progress(
                "\(table): \(Format.count(done))/\(Format.count(total)) rows, \(Format.count(Int64(rate))) rows/s, "
                    + String(format: "%.1f MB/s", Double(bytes[table] ?? 0) / elapsed / 1e6) + eta)
        }
    }
}
