import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// `POST /api/v1/sql`: one statement on a connection, `{{database}}`/`{{schema}}` filled from the
/// chosen environment. Users other than admins may only read: one SELECT/WITH statement, run
/// wrapped in a row limit so an answer never holds a whole table.
enum SQLRunner {
    static let rowLimit = 1000

    struct Answer: Encodable {
        var columns: [String]
        var rows: [[String?]]
        var truncated: Bool
        var sql: String
        var milliseconds: Int
    }

    static func run(_ body: RunSQL, user: UserRecord, config: CutoverConfig) async throws -> Response {
        let environment = body.environment ?? config.defaultEnvironment
        if let environment, config.environments[environment] == nil {
            throw APIError(.badRequest, "environment \(environment) is not in cutover.yml",
                           hint: "environments there: " + config.environments.keys.sorted().joined(separator: ", "))
        }
        let text: String
        switch (body.sql, body.query) {
        case (let sql?, nil): text = sql
        case (nil, let name?):
            guard let query = config.queries[name] else {
                throw APIError(.notFound, "the query library has no \(name)", hint: "GET /api/v1/queries lists it (queries: in cutover.yml)")
            }
            text = query.sql
        default: throw APIError(.badRequest, "send either sql or query (a library query's name)")
        }
        let sql = try Rulebook.render(text, environment: environment, environment.flatMap { config.environments[$0] })
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        let readOnly = isReadOnly(sql)
        if user.role != "admin", !readOnly {
            throw APIError(.forbidden, "only admins may run statements that are not a single SELECT or WITH query")
        }
        let connector = try await Connectors.connect(try config.resolveConnection(body.connection), role: .source)
        let started = Date()
        let result = try await connector.execute(readOnly ? "SELECT * FROM (\(sql)) cutover_query LIMIT \(rowLimit + 1)" : sql)
        let rows = result.rows.prefix(rowLimit).map { $0.map { $0.isNull ? nil : $0.displayText } }
        return JSON.response(Answer(columns: result.columns, rows: Array(rows), truncated: result.rows.count > rowLimit, sql: sql,
                                    milliseconds: Int(Date().timeIntervalSince(started) * 1000)))
    }

    /// One statement whose first word is SELECT or WITH (comments and literals aside, no `;` inside).
    static func isReadOnly(_ sql: String) -> Bool {
        let first = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).first?.uppercased() ?? ""
        return ["SELECT", "WITH"].contains(first) && !sql.contains(";")
    }
}
