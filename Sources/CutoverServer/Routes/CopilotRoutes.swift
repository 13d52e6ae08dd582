import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// The copilot: questions answered by the query library and the store's own tables, with the
/// asker's rights (viewers read the store; library queries run through the SQL runner, which needs
/// a user; the audit questions need an admin), and explanations of failed checks and the pass rate.
enum CopilotRoutes {
    struct Ask: Codable {
        var question: String
        var environment: String?
        /// For library queries when the environment names no connection.
        var connection: String?
    }

    struct Explain: Codable {
        /// A validation run: explain its results that did not pass (or those of `table`/`check`).
        var validationRun: String?
        var table: String?
        var check: String?
        /// `pass_rate`: explain the figure for `period` (words, e.g. "last month") and `table`.
        var kpi: String?
        var period: String?
    }

    struct IntentInfo: Codable {
        var id: String
        var title: String
        var description: String
        var slots: [String]
        var role: String
    }

    static let maxQuestionLength = 500

    /// The names a question may use are read from the store at most once a minute.
    static let vocabularySeconds: TimeInterval = 60

    static func register(_ routes: RouteTable) {
        let state = routes.state
        let names = TTLCache()
        routes.add(
            .get, "/api/v1/copilot/intents", "What the copilot can answer: built-in questions and the query library", role: .viewer,
            answer: .json([IntentInfo].self, status: .ok)
        ) { _, _ in
            try JSON.response(
                (CopilotIntent.builtIn + CopilotIntent.library(state.config.queries)).map {
                    IntentInfo(
                        id: $0.id, title: $0.title, description: $0.description, slots: $0.accepts.map(\.rawValue).sorted(),
                        role: "\($0.access)")
                })
        }
        routes.add(
            .post, "/api/v1/copilot/ask", "Answer a question with the chosen query, why, its parameters, SQL and result (or the closest three)",
            role: .viewer, action: "copilot.ask", body: Ask.self, answer: .json(CopilotAnswer.self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: Ask.self, context: context)
            let question = body.question.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !question.isEmpty, question.count <= maxQuestionLength else {
                throw APIError(.badRequest, "ask a question of 1 to \(maxQuestionLength) characters")
            }
            let caller = context.caller
            let copilot = Copilot(config: state.config, store: state.store, access: access(of: caller)) { sql, connection in
                let url = try await state.connections.resolve(connection, for: caller)
                let connector = try await state.jobs.jobs(for: caller).connect(url, role: .source)
                return try await connector.run(
                    RunnerQuery(
                        sql: sql, readOnly: true, maxRows: Copilot.rowLimit, timeout: SQLRoutes.timeout, refusePrivilegedRole: !caller.isAdmin))
            }
            let vocabulary: CopilotVocabulary
            if let cached = names.value("vocabulary", as: CopilotVocabulary.self) {
                vocabulary = cached
            } else {
                vocabulary = try await copilot.vocabulary()
                names.store("vocabulary", vocabulary, for: vocabularySeconds)
            }
            return try JSON.response(
                try await copilot.ask(question, environment: body.environment, connection: body.connection, vocabulary: vocabulary))
        }
        routes.add(
            .post, "/api/v1/copilot/explain", "Explain a validation run's failed checks, or the pass rate: driving columns and rows, SQL to see them",
            role: .viewer, body: Explain.self, answer: .json([Explanation].self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: Explain.self, context: context)
            switch (body.validationRun, body.kpi) {
            case (let id?, nil):
                guard try await state.store.validationRun(id: id) != nil else { throw APIError(.notFound, "no validation run \(id)") }
                return try JSON.response(try await Explainer.explain(validationRunID: id, table: body.table, check: body.check, store: state.store))
            case (nil, "pass_rate"):
                let period = body.period.flatMap { CopilotQuestion($0, vocabulary: CopilotVocabulary(), now: Date()).slots.period }
                if let words = body.period, period == nil {
                    throw APIError(
                        .badRequest, "period \(words) is not a period", hint: "e.g. today, last week, last 30 days, in October, since 2026-11-01")
                }
                return try JSON.response([try await Explainer.passRate(period: period, table: body.table, store: state.store)])
            default:
                throw APIError(.badRequest, "send validation_run, or kpi: pass_rate (with period and table if you like)")
            }
        }
    }

    static func access(of caller: Caller) -> CopilotAccess {
        switch caller.role {
        case .viewer: .viewer
        case .user: .user
        case .admin: .admin
        }
    }
}
