import CutoverCore
import CutoverPostgres
import CutoverStore
import Foundation

/// Options for `cutover migrate`.
public struct MoveOptions: Sendable {
    /// How rows land in the target: copy (replace), append, or upsert by key.
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        /// Load into empty tables; a table that already has rows is refused unless `replace`.
        case copy
        /// Add rows to whatever is there.
        case append
        /// Insert new rows and update rows with the same key.
        case upsert
    }

    public var mode: Mode
    /// Drop and re-create target tables first (a fresh load).
    public var replace: Bool
    /// Empty target tables first, keeping their definition.
    public var truncate: Bool
    /// Rows per batch read from the source.
    public var batchSize: Int
    /// Target rows per chunk.
    public var rowsPerChunk: Int64
    /// Target bytes per chunk; when set, it wins over `rowsPerChunk`, using each table's average row size.
    public var bytesPerChunk: Int64?
    /// Chunks loaded at once.
    public var parallel: Int
    /// Incremental load by this watermark column (moves rows past the stored high watermark, upserting).
    public var watermark: String?
    /// Require an unfinished run of the same plan to resume.
    public var resume: Bool
    public var retry: RetryPolicy
    /// What a row the target refuses does: fail its table, or be set aside as a reject.
    public var onError: OnError
    /// After loading, delete target rows whose key no longer exists at the source.
    public var deleteMissing: Bool
    /// Drop an existing target table's secondary indexes for the load and rebuild them after.
    public var rebuildIndexes: Bool
    /// Per-table settings that win over the fields above (`table_settings:` in cutover.yml, or the API's).
    public var tables: [String: TableSettings] = [:]

    /// The options one table moves with: these, with its `tables` entry applied.
    public func forTable(_ table: TableRef) throws -> MoveOptions {
        guard let settings = TableSettings.lookup(tables, for: table) else { return self }
        var options = self
        if let text = settings.mode {
            guard let mode = Mode(rawValue: text) else {
                throw CutoverError(
                    .config, "table_settings for \(table): mode \(text) is not copy, append or upsert", context: ["table": table.description])
            }
            options.mode = mode
        }
        if let watermark = settings.watermark {
            options.watermark = watermark
            options.mode = .upsert
        }
        if let truncate = settings.truncate { options.truncate = truncate }
        if let rows = settings.chunkRows {
            guard rows > 0 else {
                throw CutoverError(.config, "table_settings for \(table): chunk_rows must be positive", context: ["table": table.description])
            }
            options.rowsPerChunk = rows
            options.bytesPerChunk = nil
        }
        return options
    }

    /// True when any table loads incrementally.
    public var isIncremental: Bool { watermark != nil || tables.values.contains { $0.watermark != nil } }

    /// What a row the target refuses does: stop its table, or be set aside as a reject.
    public enum OnError: String, Sendable, Hashable, CaseIterable {
        /// Stop the table with a message naming table, key and column.
        case fail
        /// Load every other row; rejected rows and reasons go to the store's `rejects` table.
        case reject
    }

    public init(
        mode: Mode = .copy, replace: Bool = false, truncate: Bool = false, batchSize: Int = 10_000, rowsPerChunk: Int64 = 250_000,
        parallel: Int = ProcessInfo.processInfo.activeProcessorCount, watermark: String? = nil, resume: Bool = false,
        retry: RetryPolicy = RetryPolicy(), onError: OnError = .fail, deleteMissing: Bool = false, bytesPerChunk: Int64? = nil,
        rebuildIndexes: Bool = false
    ) {
        self.rebuildIndexes = rebuildIndexes
        self.bytesPerChunk = bytesPerChunk
        self.onError = onError
        self.deleteMissing = deleteMissing
        self.mode = mode
        self.replace = replace
        self.truncate = truncate
        self.batchSize = batchSize
        self.rowsPerChunk = rowsPerChunk
        self.parallel = min(16, max(1, parallel))
        self.watermark = watermark
        self.resume = resume
        self.retry = retry
    }
}

/// The outcome of moving one table.
public struct TableMoveResult: Sendable, Codable {
    public var source: String
    public var target: String
    public var status: String
    public var rows: Int64
    public var bytes: Int64
    public var seconds: Double
    public var chunks: Int
    public var error: String?
    /// Rows the target refused and `--on-error reject` set aside.
    public var rejected: Int64 = 0
    /// Target rows deleted by `--delete-missing`.
    public var deleted: Int64 = 0
    /// Chunks committed (for a table that failed part way: what stays in the target).
    public var chunksDone: Int = 0

    public var succeeded: Bool { status == "moved" }

    /// For a table that did not finish: what it left in the target and what a rerun does.
    public var aftermath: String? {
        guard !succeeded else { return nil }
        if chunks == 0 { return "nothing was loaded into \(target)" }
        if chunksDone == 0 { return "\(target) holds none of its rows; a rerun of the same command loads all \(chunks) chunk(s)" }
        if chunksDone == chunks {
            return "all \(Format.count(rows)) row(s) are committed in \(target); a rerun of the same command finishes the table"
        }
        return "\(Format.count(rows)) row(s) in \(chunksDone) of \(chunks) chunk(s) were committed and stay in \(target); "
            + "a rerun of the same command resumes with the \(chunks - chunksDone) chunk(s) left"
    }
}

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

    public func run(recorder: RunRecorder, catalog: Catalog, resuming: Bool) async throws -> [TableMoveResult] {
        let store = recorder.store
        do {
            try await target.executeScript(plan.setupDDL)
        } catch {
            throw CutoverError(
                .query, "could not prepare the target (schemas and types): \(error.redactedDescription)",
                hint: "check the target user may create schemas, or create them and rerun")
        }
        var results: [String: TableMoveResult] = [:]
        var work: [String: TableWork] = [:]
        let existingChunks = resuming ? Dictionary(grouping: try await store.chunks(runID: recorder.runID), by: \.table) : [:]
        for tablePlan in plan.tables {
            guard let table = catalog.table(tablePlan.source) else { continue }
            let name = tablePlan.source.description
            do {
                let prepared = try await prepareTable(tablePlan, table, recorder: recorder, resumed: existingChunks[name])
                work[name] = prepared
                if existingChunks[name] == nil {
                    try await store.addChunks(
                        try prepared.bounds.enumerated().map {
                            ChunkRecord(runID: recorder.runID, table: name, number: $0, bounds: try $1.encoded())
                        })
                }
                await recorder.event(
                    "table.started", table: name,
                    "\(name) → \(tablePlan.target): \(prepared.bounds.count) chunk(s), about \(Format.count(prepared.estimatedRows)) rows",
                    fields: ["chunks": String(prepared.bounds.count), "rows": String(prepared.estimatedRows)], echo: false)
            } catch {
                results[name] = TableMoveResult(
                    source: name, target: tablePlan.target.description, status: "failed", rows: 0, bytes: 0, seconds: 0,
                    chunks: 0, error: error.redactedDescription)
                await recorder.event("table.failed", table: name, level: "error", "\(name): \(error.redactedDescription)")
                // Refused before loading (a target that is not empty, …): still one of the run's tables.
                try await recorder.recordTable(
                    RunTableRecord(
                        runID: recorder.runID, table: name, status: "failed", targetRows: 0, finishedAt: ISOTime.now(),
                        message: error.redactedDescription))
            }
        }
        if resuming {
            try await store.releaseChunks(runID: recorder.runID)
            // A target table dropped since the run stopped: its done chunks are gone with it.
            for (name, tableWork) in work where existingChunks[name] != nil {
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
                let chunks = existingChunks[name] ?? []
                if chunks.contains(where: { $0.state != .done }) {
                    try await target.execute("DELETE FROM \(target.dialect.qualified(tableWork.plan.target))")
                    try await store.resetChunks(runID: recorder.runID, table: name)
                    await recorder.event("table.reloading", table: name, level: "warn", "\(name) has no key: reloading it from empty")
                }
            }
        }

        let started = Date()
        var previously: [String: Int64] = [:]
        if resuming {
            for chunk in try await store.chunks(runID: recorder.runID) where chunk.state == .done {
                previously[chunk.table, default: 0] += chunk.rows ?? 0
            }
        }
        let pool = try await runWorkers(work, recorder: recorder, previously: previously)
        // Chunks leased by `cutover worker` processes elsewhere: wait until they are finished or their lease ran out.
        while try await store.chunks(runID: recorder.runID).contains(where: { $0.state == .running || $0.state == .pending }),
            !(await pool.isCancelled)
        {
            try await Task.sleep(nanoseconds: 500_000_000)
            _ = try await runWorkers(work, recorder: recorder, previously: previously)  // takes over expired leases
        }

        // Finish each table: its chunks from the ledger decide its status.
        let ledger = Dictionary(grouping: try await store.chunks(runID: recorder.runID), by: \.table)
        for tablePlan in plan.tables {
            let name = tablePlan.source.description
            guard results[name] == nil, let tableWork = work[name] else { continue }
            let chunks = ledger[name] ?? []
            // The key first: the indexes and the foreign keys after every table may need it.
            var keyFailure: String?
            if let statement = tableWork.restore.primaryKey {
                do {
                    _ = try await finishing("building the primary key", table: name, recorder: recorder) { try await target.execute(statement) }
                } catch {
                    keyFailure =
                        "the primary key could not be built after the load (\(error.redactedDescription)); the rows are loaded: "
                        + "remove the duplicate keys and run \(statement.split(separator: ";").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? statement), "
                        + "or rerun with --replace"
                }
            }
            for statement in tableWork.restore.indexes {
                do {
                    _ = try await finishing(statement, table: name, recorder: recorder) { try await target.execute(statement) }
                } catch {
                    await recorder.event(
                        "table.index_restore_failed", table: name, level: "error",
                        "\(name): could not rebuild an index: \(error.redactedDescription); run it by hand: \(statement)")
                }
            }
            let done = chunks.filter { $0.state == .done }
            // The table's own load time (its chunks interleave with other tables'); the whole load's when only workers elsewhere loaded it.
            let span = await pool.progress.span(name)
            var result = TableMoveResult(
                source: name, target: tablePlan.target.description, status: "moved", rows: done.reduce(0) { $0 + ($1.rows ?? 0) },
                bytes: done.reduce(0) { $0 + ($1.bytes ?? 0) },
                seconds: span.map { $0.finished.timeIntervalSince($0.started) } ?? Date().timeIntervalSince(started), chunks: chunks.count)
            result.chunksDone = done.count
            if let keyFailure {
                result.status = "failed"
                result.error = keyFailure
            } else if done.count < chunks.count {
                result.status = await pool.isCancelled ? "cancelled" : "failed"
                result.error =
                    chunks.first { $0.state == .failed && !($0.error ?? "").hasPrefix("skipped") }?.error
                    ?? "\(chunks.count - done.count) of \(chunks.count) chunks not loaded"
            } else {
                do {
                    try await finishing("closing steps", table: name, recorder: recorder) { try await finalizeTable(tablePlan, tableWork) }
                    try await finishing("recording the watermark", table: name, recorder: recorder) {
                        try await advanceWatermark(tableWork, recorder: recorder)
                    }
                    if options.deleteMissing {
                        result.deleted = try await finishing("deleting rows gone at the source", table: name, recorder: recorder) {
                            try await deleteMissing(tableWork)
                        }
                        if result.deleted > 0 {
                            await recorder.event(
                                "table.deleted_missing", table: name, "\(name): deleted \(result.deleted) target row(s) gone at the source")
                        }
                    }
                } catch {
                    result.status = "failed"
                    result.error = error.redactedDescription
                }
            }
            result.rejected = Int64(try await store.rejects(runID: recorder.runID).filter { $0.table == name }.count)
            results[name] = result
            if result.succeeded {
                await recorder.event(
                    "table.done", table: name, "\(name): \(Format.count(result.rows)) rows in \(chunks.count) chunk(s)",
                    fields: ["rows": String(result.rows), "bytes": String(result.bytes), "chunks": String(chunks.count)])
            } else {
                await recorder.event(
                    "table.failed", table: name, level: "error",
                    "\(name): \(result.status): \(result.error ?? "")"
                        + (result.aftermath.map { " — " + $0 } ?? ""))
            }
            // A key that could not be built stays owed: the rerun that resumes the run builds it.
            var owed = LoadRestore()
            owed.primaryKey = keyFailure.flatMap { _ in tableWork.restore.primaryKey }
            try await recorder.recordTable(
                RunTableRecord(
                    runID: recorder.runID, table: name, status: result.status, targetRows: result.rows,
                    bytes: result.bytes, startedAt: span.map { ISOTime.string($0.started) }, finishedAt: ISOTime.now(),
                    message: result.error.map { $0 + (result.aftermath.map { " — " + $0 } ?? "") },
                    details: owed.primaryKey == nil ? nil : String(decoding: try JSONEncoder.sorted.encode(owed), as: UTF8.self)))
        }
        let loaded = Set(results.values.filter(\.succeeded).map(\.source))
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
        return plan.tables.compactMap { results[$0.source.description] }
    }

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

    /// Runs `options.parallel` workers on this run's ledger until no chunk can be claimed.
    @discardableResult
    /// `previously`: rows of chunks an earlier attempt of the run loaded, per table, for progress.
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

    // MARK: Tables

    struct TableWork: Sendable {
        var plan: TablePlan
        var sourceColumns: [Column]
        var targetColumns: [Column]
        var keyColumns: [Column]
        var bounds: [ChunkBounds]
        var estimatedRows: Int64
        /// Incremental: the run's window on the watermark column.
        var incremental: RunWindow?
        var watermarkColumn: Column?
        var writeMode: WriteOptions.Mode
        /// Binary COPY pass-through: PostgreSQL → PostgreSQL with identical types.
        var passThrough: Bool
        /// What the load dropped and owes the table afterwards, whatever happened.
        var restore: LoadRestore
        /// The run's options with this table's settings applied.
        var options: MoveOptions

        var window: RowFilter.Window? { incremental.map { $0.filter(of: watermarkColumn) } }
    }

    private func prepareTable(_ tablePlan: TablePlan, _ table: Table, recorder: RunRecorder, resumed: [ChunkRecord]?) async throws -> TableWork {
        let name = tablePlan.source.description
        let options = try self.options.forTable(tablePlan.source)
        if let bad = tablePlan.unmappableColumns.first {
            throw CutoverError(
                .typeNotMappable,
                "column \(name).\(bad.column) has type \(bad.sourceType), which Cutover cannot map to \(plan.targetEngine.rawValue)",
                hint: "add to cutover.yml:  overrides: { columns: { \"\(name).\(bad.column)\": <target type> } }  and rerun",
                context: ["table": name, "column": bad.column])
        }
        let sourceColumns = tablePlan.columns.compactMap { table.column(named: $0.column) }
        var targetColumns = sourceColumns
        for index in targetColumns.indices { targetColumns[index].name = tablePlan.columns[index].targetColumn }
        let keyColumns = (tablePlan.key ?? []).compactMap { table.column(named: $0) }
        let targetKey = keyColumns.compactMap { key in tablePlan.columns.first { $0.column == key.name }?.targetColumn }

        var writeMode: WriteOptions.Mode = .insert
        var incremental: RunWindow?
        var watermarkColumn: Column?
        if options.mode == .upsert || options.watermark != nil {
            guard !targetKey.isEmpty else {
                throw CutoverError(
                    .usage, "\(name) has no primary key, so rows cannot be upserted or loaded incrementally",
                    hint: "add a key to the table, or load it with --mode copy", context: ["table": name])
            }
            writeMode = .upsert(key: targetKey)
        }
        if let watermark = options.watermark {
            guard let column = table.column(named: watermark) else {
                throw CutoverError(
                    .usage, "\(name) has no column \"\(watermark)\" to use as the watermark",
                    hint: "columns: " + table.columns.map(\.name).joined(separator: ", "), context: ["table": name])
            }
            watermarkColumn = column
            incremental = try await incrementalWindow(column, tablePlan, options, recorder: recorder, resumed: resumed != nil)
        }

        var restore = LoadRestore()
        if resumed == nil {
            if try await prepareTarget(tablePlan, options) {
                // What an attempt of this run that stopped before its chunks existed still owes the table.
                restore = try await savedRestore(tablePlan, recorder: recorder)
                if let existing = try await target.describe(tablePlan.target) {
                    try checkTargetColumns(tablePlan, existing)
                    if options.rebuildIndexes { restore = try await dropSecondaryIndexes(tablePlan, existing, restore, recorder: recorder) }
                }
            } else if options.mode == .copy, options.watermark == nil, options.onError != .reject, keyColumns.count == (tablePlan.key ?? []).count,
                let deferral = target.dialect.primaryKeyDeferral(tablePlan.target, key: targetKey)
            {
                // Rows with duplicate keys are then found when the key is built, not row by row:
                // `--on-error reject` keeps the key during the load to set such rows aside.
                restore.primaryKey = deferral.restore
                try await save(restore, tablePlan, recorder: recorder)
                try await target.execute(deferral.drop)
                await recorder.event(
                    "table.primary_key_deferred", table: name, "\(tablePlan.target): its primary key is built after the load")
            }
        } else {
            restore = try await savedRestore(tablePlan, recorder: recorder)
        }
        let passThrough =
            source is PostgresConnector && target is PostgresConnector && plan.sourceEngine == plan.targetEngine
            && tablePlan.columns.allSatisfy { $0.override == nil && $0.targetType == $0.sourceType }
        var bounds = try resumed?.sorted { $0.number < $1.number }.map { try ChunkBounds.parse($0.bounds, chunk: $0) } ?? [.all]
        var estimated = table.rowCount ?? 0
        let rowsPerChunk = Self.rowsPerChunk(options, table)
        let window = incremental.map { $0.filter(of: watermarkColumn) }
        // A delta (a window with a lower bound) is split by the key range of its own rows only.
        let fullLoad = incremental?.low == nil
        if resumed == nil, keyColumns.count == 1, keyColumns[0].canonical.isWholeNumber {
            let key = source.dialect.quote(keyColumns[0].name)
            let inWindow = window.map { RowFilter(terms: [], window: $0) }.map { " WHERE " + $0.sql(source.dialect) } ?? ""
            let row = try await source.execute(
                "SELECT min(\(key)), max(\(key)), count(*) FROM \(source.dialect.qualified(tablePlan.source))\(inWindow)"
            ).rows.first
            if let row, row.count == 3 {
                estimated = Int64(row[2].displayText) ?? estimated
                if let min = Int64(row[0].displayText), let max = Int64(row[1].displayText) {
                    bounds = ChunkPlanner(rowsPerChunk: rowsPerChunk).integerRanges(column: keyColumns[0].name, min: min, max: max, rows: estimated)
                }
            }
        } else if resumed == nil, fullLoad, keyColumns.count == 1, plan.sourceEngine != .sqlite, !keyColumns[0].canonical.isText,
            (table.rowCount ?? 0) > rowsPerChunk
        {
            // uuid and date keys compare by value in PostgreSQL and Snowflake; (SQLite text may not sort like the values it spells.)
            bounds = try await literalRanges(keyColumns[0], tablePlan.source, rows: table.rowCount ?? 0, rowsPerChunk: rowsPerChunk) ?? bounds
        } else if resumed == nil, fullLoad, keyColumns.count == 1, case .text = keyColumns[0].canonical, (table.rowCount ?? 0) > rowsPerChunk {
            // Not CHAR(n): its padding compares differently on engines that keep it and those that do not.
            bounds = try await textRanges(keyColumns[0], tablePlan.source, rows: table.rowCount ?? 0, rowsPerChunk: rowsPerChunk) ?? bounds
        } else if resumed == nil, fullLoad, keyColumns.isEmpty, (table.rowCount ?? 0) > rowsPerChunk,
            let locator = source.dialect.rowLocator(tablePlan.source)
        {
            bounds = try await locatorRanges(locator, rows: table.rowCount ?? 0, rowsPerChunk: rowsPerChunk) ?? bounds
            await recorder.event(
                "table.warning", table: name, level: "warn",
                "\(name) has no key: split into \(bounds.count) chunks by its physical row order (\(locator.column)); "
                    + "if the run is interrupted, resuming reloads the whole table. Add a key for per-chunk resume and row-level validation.")
        } else if resumed == nil, fullLoad, keyColumns.isEmpty, (table.rowCount ?? 0) > rowsPerChunk,
            source.dialect.hashBucket([], count: 1) != nil
        {
            bounds = ChunkPlanner(rowsPerChunk: rowsPerChunk).hashBuckets(columns: sourceColumns.map(\.name), rows: table.rowCount ?? 0)
            await recorder.event(
                "table.warning", table: name, level: "warn",
                "\(name) has no key: split into \(bounds.count) chunks by a hash of each row; each chunk scans the table at the source, "
                    + "and if the run is interrupted, resuming reloads the whole table. Add a key for range chunks and row-level validation.")
        } else if resumed == nil, !fullLoad, let window {
            // The delta's own size, so progress and ETA are about the rows this run moves.
            let count = try await source.execute(
                "SELECT count(*) FROM \(source.dialect.qualified(tablePlan.source)) WHERE "
                    + RowFilter(terms: [], window: window).sql(source.dialect)
            ).rows.first?.first
            estimated = count.flatMap { Int64($0.displayText) } ?? estimated
        }
        return TableWork(
            plan: tablePlan, sourceColumns: sourceColumns, targetColumns: targetColumns, keyColumns: keyColumns, bounds: bounds,
            estimatedRows: estimated, incremental: incremental, watermarkColumn: watermarkColumn, writeMode: writeMode,
            passThrough: passThrough, restore: restore, options: options)
    }

    private func locatorRanges(_ locator: RowLocator, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
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
    private func textRanges(_ key: Column, _ table: TableRef, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
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

    private func literalRanges(_ key: Column, _ table: TableRef, rows: Int64, rowsPerChunk: Int64) async throws -> [ChunkBounds]? {
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

    /// Creates the target table; one that already holds rows is only touched when asked.
    /// Returns true when the load goes into a table that existed before (not created by this run).
    private func prepareTarget(_ tablePlan: TablePlan, _ options: MoveOptions) async throws -> Bool {
        let incremental = options.watermark != nil
        let dialect = target.dialect
        let existing: Int64
        do {
            existing = try await target.rowCount(tablePlan.target)
        } catch let error as CutoverError where error.code == .tableNotFound {
            try await target.executeScript(try await creation(tablePlan))
            return false
        }
        // --replace re-creates even an empty table: its definition may be an older plan's.
        if options.replace {
            try await target.execute(dialect.dropTable(tablePlan.target))
            try await target.executeScript(try await creation(tablePlan))
            return false
        }
        if existing > 0 {
            if options.truncate {
                try await target.execute("DELETE FROM \(dialect.qualified(tablePlan.target))")
            } else if options.mode == .copy && !incremental {
                throw CutoverError(
                    .targetNotEmpty, "target table \(tablePlan.target) already has \(Format.count(existing)) rows; nothing was written",
                    hint: "rerun with --replace (drop and reload), --truncate (empty it), --mode append or --mode upsert",
                    context: ["table": tablePlan.source.description])
            }
        }
        return true
    }

    /// The table's CREATE statements; where the target cannot move an identity after the load, with
    /// each identity starting past the source's largest value.
    private func creation(_ tablePlan: TablePlan) async throws -> [String] {
        var statements = tablePlan.createDDL
        for column in tablePlan.columns where column.identity != nil {
            guard let start = target.dialect.identityStart(column: column.targetColumn, in: statements) else { continue }
            let maximum =
                try await source.execute("SELECT max(\(source.dialect.quote(column.column))) FROM \(source.dialect.qualified(tablePlan.source))")
                .rows.first?.first.flatMap { Int64($0.displayText) } ?? 0
            let (next, overflow) = maximum.addingReportingOverflow(1)
            guard !overflow else { continue }
            statements = start(max(next, 1))
        }
        return statements
    }

    /// An existing target table must have every column the plan writes, or the load fails deep in
    /// the engine (a staging or COPY error naming no table); say which and what to do instead.
    private func checkTargetColumns(_ tablePlan: TablePlan, _ table: Table) throws {
        let present = Set(table.columns.map(\.name))
        let missing = tablePlan.columns.map(\.targetColumn).filter { !present.contains($0) }
        guard !missing.isEmpty else { return }
        throw CutoverError(
            .usage,
            "target table \(tablePlan.target) has no column \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) for \(tablePlan.source); nothing was written",
            hint: "rerun with --replace to re-create it from the plan, or add the column(s) to the target table; it has: "
                + table.columns.map(\.name).joined(separator: ", "),
            context: ["table": tablePlan.source.description])
    }

    /// `--rebuild-indexes`: drops an existing target table's secondary indexes before the load and
    /// adds the statements that recreate them to `restore`. They are saved in the store first, so a
    /// crash before they are restored is repaired by the resumed run.
    private func dropSecondaryIndexes(
        _ tablePlan: TablePlan, _ table: Table, _ restore: LoadRestore, recorder: RunRecorder
    ) async throws
        -> LoadRestore
    {
        let dialect = target.dialect
        let definitions = table.indexes.compactMap(\.definition)
        guard dialect.supportsIndexes, !definitions.isEmpty else { return restore }
        var restore = restore
        restore.indexes += definitions
        try await save(restore, tablePlan, recorder: recorder)
        for index in table.indexes where index.definition != nil {
            try await target.execute("DROP INDEX IF EXISTS \(dialect.qualified(TableRef(schema: tablePlan.target.schema, name: index.name)))")
        }
        await recorder.event(
            "table.indexes_dropped", table: tablePlan.source.description,
            "\(tablePlan.target): dropped \(definitions.count) secondary index(es) for the load; they are rebuilt after it")
        return restore
    }

    /// Keeps what the load owes the table in the store before anything is dropped.
    private func save(_ restore: LoadRestore, _ tablePlan: TablePlan, recorder: RunRecorder) async throws {
        let details = String(decoding: try JSONEncoder.sorted.encode(restore), as: UTF8.self)
        try await recorder.recordTable(
            RunTableRecord(runID: recorder.runID, table: tablePlan.source.description, status: "loading", details: details))
    }

    /// What an interrupted attempt of this run saved and did not get to restore.
    private func savedRestore(_ tablePlan: TablePlan, recorder: RunRecorder) async throws -> LoadRestore {
        guard let record = try await recorder.store.tables(runID: recorder.runID).first(where: { $0.table == tablePlan.source.description }),
            ["loading", "failed"].contains(record.status), let details = record.details
        else { return LoadRestore() }
        do {
            return try JSONDecoder().decode(LoadRestore.self, from: Data(details.utf8))
        } catch {
            throw CutoverError(
                .store, "the index statements the interrupted run saved for \(tablePlan.target) do not decode",
                hint: "recreate its primary key and secondary indexes by hand after the load", context: ["table": tablePlan.source.description])
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

    // MARK: Chunks

    /// Loads one chunk atomically; returns rows and bytes.
    func load(_ chunk: ChunkRecord, _ work: TableWork) async throws -> WriteStats {
        let (request, writeOptions) = try chunkRequest(chunk, work)
        do {
            if work.passThrough, let pgSource = source as? PostgresConnector, let pgTarget = target as? PostgresConnector {
                return try await pgTarget.transfer(request, from: pgSource, to: work.plan.target, columns: work.targetColumns, options: writeOptions)
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
        let sql =
            "SELECT \(work.keyColumns.map { dialect.quote($0.name) }.joined(separator: ", ")) FROM \(dialect.qualified(work.plan.source))"
            + (filter.map { " WHERE " + $0.sql(dialect) } ?? "") + " ORDER BY \(order) LIMIT 1 OFFSET \(line - 1)"
        // Only to name the row in the message: the load's own error is what is reported either way.
        if let row = try? await source.execute(sql).rows.first {
            error.context["key"] = zip(work.keyColumns, row).map { "\($0.name)=\($1.displayText)" }.joined(separator: ",")
        }
        error.context["row"] = String(line)
        error.hint = error.hint ?? "fix the value at the source, or widen the target column with an override in cutover.yml, then rerun"
        return error
    }

    /// The rows of `table` this incremental run loads. A new run takes the source's maximum of the
    /// watermark column now, before reading, and loads from the stored watermark (inclusive: rows
    /// written later with the same value are not skipped) up to it; rows changed while it runs
    /// are past that maximum and left to the next run. `--truncate`/`--replace` load everything.
    /// A resumed run, and a worker joining it, load the window the run chose first.
    private func incrementalWindow(
        _ column: Column, _ tablePlan: TablePlan, _ options: MoveOptions, recorder: RunRecorder,
        resumed: Bool
    ) async throws -> RunWindow {
        let name = tablePlan.source.description
        let store = recorder.store
        let chosen: RunWindow
        if resumed, let saved = try await store.runWindow(runID: recorder.runID, table: name), saved.column == column.name {
            chosen = saved
        } else {
            var low: String?
            if !options.truncate, !options.replace,
                let stored = try await store.watermark(source: source.url.description, target: target.url.description, table: name)
            {
                if stored.column == column.name {
                    low = stored.value
                } else {
                    await recorder.event(
                        "table.watermark_column_changed", table: name, level: "warn",
                        "\(name): the stored watermark is on \(stored.column), not \(column.name): loading every row")
                }
            }
            let dialect = source.dialect
            let maximum = try await source.execute("SELECT max(\(dialect.quote(column.name))) FROM \(dialect.qualified(tablePlan.source))").rows
                .first?.first
            chosen = RunWindow(column: column.name, low: low, high: try watermarkText(maximum, column, table: name))
            try await store.setRunWindow(runID: recorder.runID, table: name, window: chosen)
        }
        return chosen
    }

    /// A watermark value as a literal both the source and the store keep exactly.
    private func watermarkText(_ value: Value?, _ column: Column, table: String) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard CanonicalForm.text(value, as: column.canonical) != nil else {
            throw CutoverError(
                .usage, "\(table).\(column.name) holds \(value.displayText.prefix(40)), which cannot serve as a watermark",
                hint: "pick a timestamp, date or integer column that grows with every change", context: ["table": table, "column": column.name])
        }
        return value.displayText
    }

    /// After an incremental table finished: its watermark becomes the top of the window it loaded.
    func advanceWatermark(_ work: TableWork, recorder: RunRecorder) async throws {
        guard let column = work.watermarkColumn, let window = work.incremental else { return }
        try await recorder.store.setWatermark(
            source: source.url.description, target: target.url.description, table: work.plan.source.description,
            column: column.name, value: window.high ?? window.low, runID: recorder.runID)
    }
}

extension RunWindow {
    /// The window's rows (and those whose watermark is NULL) as a filter on `column`.
    func filter(of column: Column?) -> RowFilter.Window {
        let numeric = column?.canonical.storage == .int
        var terms: [RowFilter.Term] = []
        if let low { terms.append(.init(column: self.column, .greaterOrEqual, low, isNumeric: numeric)) }
        if let high { terms.append(.init(column: self.column, .lessOrEqual, high, isNumeric: numeric)) }
        return RowFilter.Window(column: self.column, terms: terms)
    }
}

/// What a table's load dropped and owes it afterwards: secondary indexes (`--rebuild-indexes`) and a
/// fresh table's primary key; kept in the store (the run's table record) while the load runs.
struct LoadRestore: Codable, Sendable {
    var indexes: [String] = []
    var primaryKey: String?

    enum CodingKeys: String, CodingKey {
        case indexes = "restore_indexes"
        case primaryKey = "restore_primary_key"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        indexes = try container.decodeIfPresent([String].self, forKey: .indexes) ?? []
        primaryKey = try container.decodeIfPresent(String.self, forKey: .primaryKey)
    }
}
