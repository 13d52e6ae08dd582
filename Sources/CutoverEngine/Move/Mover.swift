import CutoverCore
import CutoverStore
import Foundation

/// Copies tables as planned, chunk by chunk through the ledger in the metadata store.
///
/// Every chunk loads in one transaction that first deletes the chunk's key range in the target,
/// so loading a chunk twice (after a crash, a retry, a resume) never duplicates rows. Chunks are
/// leased from the ledger, so `--parallel` workers here and `cutover worker` processes elsewhere
/// never load the same chunk. A table whose chunk fails for good is reported; the others go on.
public struct Mover: Sendable {
    public let source: any Connector
    public let target: any Connector
    public let plan: MigrationPlan
    public let options: MoveOptions

    public init(source: any Connector, target: any Connector, plan: MigrationPlan, options: MoveOptions = .init()) {
        self.source = source
        self.target = target
        self.plan = plan
        self.options = options
    }

    /// Identifies what this run moves and how, so a rerun of the same plan resumes it.
    public func planHash() throws -> String { try MoverPlanHash.compute(plan: plan, source: source.url, target: target.url, options: options) }

    /// Moves every table of the plan; a table that fails is reported in its result, the others go on.
    /// `resuming`: the run's ledger exists (an interrupted attempt of the same plan).
    public func run(recorder: RunRecorder, catalog: Catalog, resuming: Bool) async throws -> [TableMoveResult] {
        let store = recorder.store
        do {
            try await target.executeScript(plan.setupDDL)
        } catch {
            throw CutoverError(
                .query, "could not prepare the target (schemas and types): \(error.redactedDescription)",
                hint: "check the target user may create schemas, or create them and rerun")
        }
        var lifecycle = MoveLifecycle()
        let existingChunks = resuming ? Dictionary(grouping: try await store.chunks(runID: recorder.runID), by: \.table) : [:]
        let work = try await prepareTables(catalog, existing: existingChunks, lifecycle: &lifecycle, recorder: recorder)
        if resuming { try await repairResumedTables(work, existing: existingChunks, recorder: recorder) }

        let started = Date()
        var previously: [String: Int64] = [:]
        if resuming {
            for chunk in try await store.chunks(runID: recorder.runID) where chunk.state == .done {
                previously[chunk.table, default: 0] += chunk.rows ?? 0
            }
        }
        // Chunks leased by `cutover worker` processes elsewhere: the lifecycle says when to look again
        // and when this process's workers take over a lease that ran out.
        var action = lifecycle.startLoading()
        var firstPool: ChunkPool?
        var chunks: [ChunkRecord] = []
        while case .runWorkers(let wait) = action {
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
            let pool = try await runWorkers(work, recorder: recorder, previously: previously)
            if firstPool == nil { firstPool = pool }
            chunks = try await store.chunks(runID: recorder.runID)
            action = lifecycle.workersStopped(cancelled: await pool.isCancelled, ledger: chunks, now: Date())
        }

        // Finish each table: its chunks in the ledger the lifecycle last looked at decide its status.
        let ledger = Dictionary(grouping: chunks, by: \.table)
        var results: [String: TableMoveResult] = [:]
        for tablePlan in plan.tables {
            let name = tablePlan.source.description
            if let reason = lifecycle.refused[name] {
                results[name] = TableMoveResult(
                    source: name, target: tablePlan.target.description, status: .failed, rows: 0, bytes: 0, seconds: 0, chunks: 0, error: reason)
                continue
            }
            guard let tableWork = work[name] else { continue }
            results[name] = try await finishTable(
                tableWork, chunks: ledger[name] ?? [], lifecycle: &lifecycle, loadSpan: await firstPool?.progress.span(name), runStarted: started,
                recorder: recorder)
        }
        await addPostDataDDL(loaded: lifecycle.loadedTables, recorder: recorder)
        lifecycle.finished()
        return plan.tables.compactMap { results[$0.source.description] }
    }

    /// Prepares every table of the plan and, for a new run, writes its chunks into the ledger. A
    /// table that cannot be prepared is refused in `lifecycle` and recorded failed; the others go on.
    private func prepareTables(
        _ catalog: Catalog, existing: [String: [ChunkRecord]], lifecycle: inout MoveLifecycle, recorder: RunRecorder
    ) async throws -> [String: TableWork] {
        var work: [String: TableWork] = [:]
        for tablePlan in plan.tables {
            guard let table = catalog.table(tablePlan.source) else { continue }
            let name = tablePlan.source.description
            do {
                let prepared = try await prepareTable(tablePlan, table, recorder: recorder, resumed: existing[name])
                work[name] = prepared
                if existing[name] == nil {
                    try await recorder.store.addChunks(
                        try prepared.bounds.enumerated().map {
                            ChunkRecord(runID: recorder.runID, table: name, number: $0, bounds: try $1.encoded())
                        })
                }
                await recorder.event(
                    "table.started", table: name,
                    "\(name) → \(tablePlan.target): \(prepared.bounds.count) chunk(s), about \(Format.count(prepared.estimatedRows)) rows",
                    fields: ["chunks": String(prepared.bounds.count), "rows": String(prepared.estimatedRows)], echo: false)
            } catch {
                lifecycle.refuse(name, reason: error.redactedDescription)
                await recorder.event("table.failed", table: name, level: "error", "\(name): \(error.redactedDescription)")
                // Refused before loading (a target that is not empty, …): still one of the run's tables.
                try await recorder.recordTable(
                    RunTableRecord(
                        runID: recorder.runID, table: name, status: TableMoveResult.Status.failed.rawValue, targetRows: 0,
                        finishedAt: ISOTime.now(), message: error.redactedDescription))
            }
        }
        return work
    }

    /// Before a resumed run loads: chunks whose work the target lost are made owed again.
    private func repairResumedTables(_ work: [String: TableWork], existing: [String: [ChunkRecord]], recorder: RunRecorder) async throws {
        let store = recorder.store
        try await store.releaseChunks(runID: recorder.runID)
        // A target table dropped since the run stopped: its done chunks are gone with it.
        for (name, tableWork) in work where existing[name] != nil {
            if try await target.describe(tableWork.plan.target) == nil {
                try await target.executeScript(try await creation(tableWork.plan))
                try await store.resetChunks(runID: recorder.runID, table: name)
                await recorder.event(
                    "table.recreated", table: name, level: "warn",
                    "\(tableWork.plan.target) was missing at the target: created it again, reloading all of \(name)")
            }
        }
        // Keyless tables split by row locator: a chunk that may have committed without its ledger
        // update cannot be cleared by range, so an unfinished one is reloaded from empty.
        for (name, tableWork) in work where tableWork.keyColumns.isEmpty && tableWork.bounds.count > 1 {
            if (existing[name] ?? []).contains(where: { $0.state != .done }) {
                try await target.execute(target.dialect.deleteAll(tableWork.plan.target))
                try await store.resetChunks(runID: recorder.runID, table: name)
                await recorder.event("table.reloading", table: name, level: "warn", "\(name) has no key: reloading it from empty")
            }
        }
    }

    /// Runs `options.parallel` workers on this run's ledger until no chunk can be claimed.
    /// `previously`: rows of chunks an earlier attempt of the run loaded, per table, for progress.
    @discardableResult
    func runWorkers(_ work: [String: TableWork], recorder: RunRecorder, previously: [String: Int64] = [:]) async throws -> ChunkPool {
        let progress = Progress(recorder: recorder, totals: work.mapValues { $0.estimatedRows }, previously: previously)
        let pool = ChunkPool(work: work, mover: self, recorder: recorder, progress: progress)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<options.parallel {
                group.addTask { try await pool.runWorker(owner: "\(ProcessInfo.processInfo.hostName):\(getpid()):\(worker)") }
            }
            try await group.waitForAll()
        }
        await progress.flush()
        return pool
    }

    /// `cutover worker`: helps load an existing run's chunks. Tables are prepared by the run's
    /// coordinator (`cutover migrate`); this only loads chunks and leaves finishing to it.
    /// Returns the number of chunks this process loaded.
    public func join(recorder: RunRecorder, catalog: Catalog) async throws -> Int {
        let chunks = Dictionary(grouping: try await recorder.store.chunks(runID: recorder.runID), by: \.table)
        var work: [String: TableWork] = [:]
        for tablePlan in plan.tables {
            guard let table = catalog.table(tablePlan.source), let existing = chunks[tablePlan.source.description] else { continue }
            work[tablePlan.source.description] = try await prepareTable(tablePlan, table, recorder: recorder, resumed: existing)
        }
        return try await runWorkers(work, recorder: recorder).loaded
    }
}
