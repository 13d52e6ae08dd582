import CutoverCore
import CutoverStore
import Foundation

// MARK: Preparing a table: its target, its window, what the load owes it
extension Mover {
    /// One prepared table: what every chunk load of it needs.
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

    /// Everything one table's chunks need: its columns and key on both sides, its incremental window,
    /// its target created or checked (and emptied when asked), what the load owes it, and its chunks
    /// (from the ledger when `resumed`, planned otherwise).
    func prepareTable(_ tablePlan: TablePlan, _ table: Table, recorder: RunRecorder, resumed: [ChunkRecord]?) async throws -> TableWork {
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
            (target as? any PassThroughTarget)?.canPassThrough(from: source) == true && plan.sourceEngine == plan.targetEngine
            && tablePlan.columns.allSatisfy { $0.override == nil && $0.targetType == $0.sourceType }
        var estimated = table.rowCount ?? 0
        let bounds: [ChunkBounds]
        if let resumed {
            bounds = try resumed.sorted { $0.number < $1.number }.map { try ChunkBounds.parse($0.bounds, chunk: $0) }
        } else {
            let window = incremental.map { $0.filter(of: watermarkColumn) }
            (bounds, estimated) = try await chunkBounds(
                tablePlan, table, sourceColumns: sourceColumns, keyColumns: keyColumns, options: options, window: window,
                delta: incremental?.low != nil, recorder: recorder)
        }
        return TableWork(
            plan: tablePlan, sourceColumns: sourceColumns, targetColumns: targetColumns, keyColumns: keyColumns, bounds: bounds,
            estimatedRows: estimated, incremental: incremental, watermarkColumn: watermarkColumn, writeMode: writeMode,
            passThrough: passThrough, restore: restore, options: options)
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
                try await target.execute(dialect.deleteAll(tablePlan.target))
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
    func creation(_ tablePlan: TablePlan) async throws -> [String] {
        var statements = tablePlan.createDDL
        for column in tablePlan.columns where column.identity != nil {
            guard let start = target.dialect.identityStart(column: column.targetColumn, in: statements) else { continue }
            let answer =
                try await source.execute("SELECT max(\(source.dialect.quote(column.column))) FROM \(source.dialect.qualified(tablePlan.source))")
                .rows.first?.first ?? .null
            // NULL is an empty table (the identity starts at 1); a maximum that is not a whole number is an error, not 0.
            guard answer.isNull || answer.wholeNumber != nil else {
                throw CutoverError(
                    .query, "the largest \(column.column) of \(tablePlan.source) is \(answer.displayText), not a whole number",
                    hint: "an identity column holds whole numbers; check the source's type for it")
            }
            let maximum = answer.wholeNumber ?? 0
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
            try await target.execute(dialect.dropIndex(TableRef(schema: tablePlan.target.schema, name: index.name), on: tablePlan.target))
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
