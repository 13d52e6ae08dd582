import CutoverCore
import Foundation

/// A read of the store's own tables that a question may ask for (the copilot's templates).
///
/// The statement is a `StaticString`, so it is text compiled into Cutover: nothing a request
/// sends can become SQL here, only bound parameters. It must be one `SELECT`; the store refuses
/// anything else before it reaches the database. It uses only SQL the three store engines share
/// (`?` placeholders, `COALESCE(?, column)` for an optional filter, `LIMIT ?`).
public struct StoreRead: Sendable, Hashable {
    public let sql: String
    /// The names of the selected columns, in order (the statement's aliases).
    public let columns: [String]
    public var parameters: [String?]

    public init(_ sql: StaticString, columns: [String], parameters: [String?] = []) {
        self.sql = sql.description
        self.columns = columns
        self.parameters = parameters
    }

    /// The same read with these values bound to its `?`s, in order.
    public func binding(_ parameters: [String?]) -> StoreRead {
        var read = self
        read.parameters = parameters
        return read
    }

    var isOneSelect: Bool {
        let text = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.prefix(6).uppercased() == "SELECT" && !text.contains(";")
    }
}

extension SQLMetadataStore {
    public func read(_ query: StoreRead) async throws -> [[String?]] {
        guard query.isOneSelect else { throw CutoverError(.store, "a store read must be one SELECT statement") }
        let width = query.columns.count
        return try await run { db in
            // A StaticString with `?` placeholders: nothing of the question is ever spliced into it.
            try db.executeBound(query.sql, query.parameters).map { row in
                guard row.count == width else {
                    throw CutoverError(.store, "a store read named \(width) columns and selected \(row.count)")
                }
                return row
            }
        }
    }
}

extension SQLMetadataStore {
    public func saveWorkload(runID: String, _ rows: WorkloadRows) async throws {
        try await run { db in
            try db.exclusively {
                for table in rows.tables {
                    _ = try db.execute(
                        "INSERT INTO workload_tables (run_id, table_name, statements, executions, milliseconds, time_share) VALUES (\(runID), \(table.table), \(table.statements), \(table.executions), \(String(table.milliseconds)), \(String(table.timeShare)))"
                    )
                }
                for join in rows.joins {
                    _ = try db.execute(
                        "INSERT INTO workload_joins (run_id, left_side, right_side, statements, executions) VALUES (\(runID), \(join.left), \(join.right), \(join.statements), \(join.executions))"
                    )
                }
                for column in rows.columns {
                    _ = try db.execute(
                        "INSERT INTO workload_columns (run_id, column_name, filtered, grouped, joined, aggregated) VALUES (\(runID), \(column.column), \(column.filtered), \(column.grouped), \(column.joined), \(column.aggregated))"
                    )
                }
            }
        }
    }
}
