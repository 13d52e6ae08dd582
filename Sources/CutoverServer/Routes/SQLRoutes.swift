import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// The SQL runner: one statement on a named connection, `{{database}}`/`{{schema}}` from the chosen
/// environment. Everyone's SQL runs read-only by construction (see ``RunnerQuery``), on
/// connections whose role cannot reach the server's files; admins may ask to write.
enum SQLRoutes {
    static let rowLimit = 1000
    static let timeout: TimeInterval = 30

    static func register(_ routes: RouteTable) {
        let state = routes.state
        routes.add(
            .get, "/api/v1/queries", "The query library (queries: in cutover.yml)", role: .viewer,
            answer: .json([LibraryQueryInfo].self, status: .ok)
        ) { _, _ in
            try JSON.response(
                state.config.queries.sorted { $0.key < $1.key }.map {
                    LibraryQueryInfo(name: $0.key, description: $0.value.description ?? "", sql: $0.value.sql)
                })
        }
        routes.add(
            .post, "/api/v1/sql", "Run one statement on a connection (read-only; admins may set write)", role: .user, action: "sql.run",
            body: RunSQL.self, answer: .json(SQLAnswer.self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: RunSQL.self, context: context)
            return try JSON.response(try await run(body, caller: context.caller, state: state))
        }
    }

    static func run(_ body: RunSQL, caller: Caller, state: ServerState) async throws -> SQLAnswer {
        let config = state.config
        let environment = body.environment ?? config.defaultEnvironment
        let environmentConfig = try environment.map(config.environment(named:))
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
        let writing = body.write ?? false
        if writing, !caller.isAdmin { throw APIError(.forbidden, "only admins may run statements that write") }
        let sql = try Rulebook.statement(text, environment: environment, environmentConfig)
        guard !sql.isEmpty else { throw APIError(.badRequest, "there is no statement to run") }
        let url = try await state.connections.resolve(body.connection, for: caller)
        let connector = try await state.jobs.jobs(for: caller).connect(url, role: .source)
        let started = Date()
        let answer = try await connector.run(
            RunnerQuery(
                sql: sql, readOnly: !writing, maxRows: rowLimit, timeout: timeout,
                refusePrivilegedRole: !caller.isAdmin))
        return SQLAnswer(
            columns: answer.columns, rows: answer.rows.map { $0.map { $0.isNull ? nil : $0.displayText } }, truncated: answer.truncated,
            sql: sql, milliseconds: Int(Date().timeIntervalSince(started) * 1000), affectedRows: answer.affectedRows, warnings: answer.warnings)
    }
}
