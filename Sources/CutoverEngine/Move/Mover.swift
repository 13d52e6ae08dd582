import CutoverCore
import CutoverStore
import Foundation

/// Options for `cutover migrate`.
public struct MoveOptions: Sendable {
    /// Drop and re-create target tables that already hold rows.
    public var replace: Bool
    /// Rows per batch read from the source.
    public var batchSize: Int

    public init(replace: Bool = false, batchSize: Int = 10_000) {
        self.replace = replace
        self.batchSize = batchSize
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
    public var error: String?

    public var succeeded: Bool { status == "moved" }
}

/// Copies tables from source to target as planned: creates each table, streams its rows in
/// batches through the target's bulk path, then adds foreign keys and indexes.
///
/// Each table loads in one transaction (one COPY on PostgreSQL, one transaction on SQLite), so a
/// failure leaves that target table empty, never half-filled; a rerun loads it again. A failing
/// table does not stop the others.
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

    public func run(recorder: RunRecorder, catalog: Catalog) async throws -> [TableMoveResult] {
        let dialect = target.dialect
        do {
            try await target.executeScript(plan.setupDDL)
        } catch {
            throw CutoverError(.query, "could not prepare the target (schemas and types): \(error.redactedDescription)",
                               hint: "check the target user may create schemas, or create them and rerun")
        }
        var results: [TableMoveResult] = []
        for tablePlan in plan.tables {
            guard let table = catalog.table(tablePlan.source) else { continue }
            results.append(await moveTable(tablePlan, table, dialect: dialect, recorder: recorder))
        }
        let loaded = Set(results.filter(\.succeeded).map(\.source))
        for tablePlan in plan.tables where loaded.contains(tablePlan.source.description) {
            for statement in tablePlan.postDataDDL {
                do {
                    try await target.execute(statement)
                } catch {
                    await recorder.event("table.post_load_failed", table: tablePlan.source.description, level: "warn",
                                         "\(tablePlan.target): could not add a foreign key or index: \(error.redactedDescription)",
                                         fields: ["statement": statement])
                }
            }
        }
        return results
    }

    private func moveTable(_ tablePlan: TablePlan, _ table: Table, dialect: any Dialect, recorder: RunRecorder) async -> TableMoveResult {
        let started = Date()
        let startedAt = ISOTime.now()
        let name = tablePlan.source.description
        var result = TableMoveResult(source: name, target: tablePlan.target.description, status: "failed", rows: 0, bytes: 0, seconds: 0)
        await recorder.event("table.started", table: name, "\(name) → \(tablePlan.target): started")
        do {
            if let bad = tablePlan.unmappableColumns.first {
                throw CutoverError(.typeNotMappable, "column \(name).\(bad.column) has type \(bad.sourceType), which Cutover cannot map to \(plan.targetEngine.rawValue)",
                                   hint: "add to cutover.yml:  overrides: { columns: { \"\(name).\(bad.column)\": <target type> } }  and rerun",
                                   context: ["table": name, "column": bad.column])
            }
            try await prepareTarget(tablePlan, dialect: dialect)
            let sourceColumns = tablePlan.columns.compactMap { table.column(named: $0.column) }
            var targetColumns = sourceColumns
            for index in targetColumns.indices { targetColumns[index].name = tablePlan.columns[index].targetColumn }
            let keyColumns = (tablePlan.key ?? []).compactMap { table.column(named: $0) }
            let stream = source.read(ReadRequest(table: tablePlan.source, columns: sourceColumns, orderBy: keyColumns, batchSize: options.batchSize))
            let stats: WriteStats
            do {
                stats = try await target.write(stream, to: tablePlan.target, columns: targetColumns)
            } catch let error as CutoverError {
                throw await explain(error, tablePlan: tablePlan, keyColumns: keyColumns)
            }
            for column in tablePlan.columns where column.identity != nil {
                if let sql = dialect.resetIdentity(tablePlan.target, column: column.targetColumn) { try await target.execute(sql) }
            }
            result.rows = stats.rows
            result.bytes = stats.bytes
            result.status = "moved"
        } catch {
            result.error = error.redactedDescription
        }
        result.seconds = Date().timeIntervalSince(started)
        let rate = result.seconds > 0 ? Double(result.rows) / result.seconds : 0
        if result.succeeded {
            await recorder.event("table.done", table: name, "\(name): \(Format.count(result.rows)) rows, \(Format.bytes(result.bytes)) in \(Format.duration(result.seconds)) (\(Format.count(Int64(rate))) rows/s)",
                                 fields: ["rows": String(result.rows), "bytes": String(result.bytes), "seconds": String(format: "%.3f", result.seconds)])
        } else {
            await recorder.event("table.failed", table: name, level: "error", "\(name): failed: \(result.error ?? "")")
        }
        try? await recorder.recordTable(RunTableRecord(runID: recorder.runID, table: name, status: result.status, targetRows: result.rows,
                                                       bytes: result.bytes, startedAt: startedAt, finishedAt: ISOTime.now(), message: result.error))
        return result
    }

    /// Creates the target table; a table that already holds rows is only replaced when asked.
    private func prepareTarget(_ tablePlan: TablePlan, dialect: any Dialect) async throws {
        if let existing = try? await target.rowCount(tablePlan.target), existing > 0 {
            guard options.replace else {
                throw CutoverError(.targetNotEmpty, "target table \(tablePlan.target) already has \(Format.count(existing)) rows; nothing was written",
                                   hint: "rerun with --replace to drop and reload it", context: ["table": tablePlan.source.description])
            }
            try await target.execute(dialect.dropTable(tablePlan.target))
        }
        try await target.executeScript(tablePlan.createDDL)
    }

    /// Adds the failing row's key to a load error when the engine says which input line failed.
    private func explain(_ error: CutoverError, tablePlan: TablePlan, keyColumns: [Column]) async -> CutoverError {
        var error = error.adding(["table": tablePlan.source.description])
        guard let where_ = error.context["where"], let range = where_.range(of: "line "),
              let line = Int(where_[range.upperBound...].prefix { $0.isNumber }), !keyColumns.isEmpty else { return error }
        let dialect = source.dialect
        let order = keyColumns.map { dialect.byteOrder(dialect.quote($0.name), type: $0.canonical) }.joined(separator: ", ")
        let sql = "SELECT \(keyColumns.map { dialect.quote($0.name) }.joined(separator: ", ")) FROM \(dialect.qualified(tablePlan.source)) ORDER BY \(order) LIMIT 1 OFFSET \(line - 1)"
        if let row = try? await source.execute(sql).rows.first {
            error.context["key"] = zip(keyColumns, row).map { "\($0.name)=\($1.displayText)" }.joined(separator: ",")
        }
        error.context["row"] = String(line)
        error.hint = error.hint ?? "fix the value at the source, or widen the target column with an override in cutover.yml, then rerun"
        return error
    }
}
