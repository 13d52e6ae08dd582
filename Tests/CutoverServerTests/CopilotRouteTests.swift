import CutoverCore
import CutoverStore
import CutoverTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CutoverServer

/// The copilot over HTTP: what a viewer, a user and an anonymous caller can make it do.
@Suite struct CopilotRouteTests {
    func ask(_ s: Session, _ question: String, token: String?, extra: String = "") async throws -> TestResponse {
        let body = String(decoding: try JSONEncoder().encode(["question": question]), as: UTF8.self)
        return try await s.call(.post, "/api/v1/copilot/ask", token: token, json: extra.isEmpty ? body : String(body.dropLast()) + ", " + extra + "}")
    }

    @Test func answersWithTheAskersRights() async throws {
        try await withServer { s in
            #expect(try await ask(s, "failed runs", token: nil).status == .unauthorized)
            // A viewer reads the store's questions; the SQL is shown with its bound values.
            let runs = try s.object(try await ask(s, "which migrations failed last week?", token: s.viewer))
            #expect(runs["intent"] as? String == "failed_runs" && runs["answered"] as? Bool == true)
            #expect((runs["sql"] as? String)?.contains("FROM runs") == true && (runs["sql_parameters"] as? [Any])?.count == 4)
            // … but not a library query on a connection (the SQL runner needs a user), nor the audit log.
            let genres = try s.object(try await ask(s, "genres by name", token: s.viewer, extra: #""environment": "DEV", "connection": "chinook""#))
            #expect(genres["intent"] as? String == "query:genres" && (genres["not_run"] as? String)?.contains("user") == true)
            #expect((genres["rows"] as? [Any])?.isEmpty == true)
            let audit = try s.object(try await ask(s, "who did what in the audit log", token: s.viewer))
            #expect((audit["not_run"] as? String)?.contains("admin") == true)
            // A user runs the library query read-only, rendered for the environment.
            let ran = try s.object(try await ask(s, "genres by name", token: s.user, extra: #""environment": "DEV", "connection": "chinook""#))
            #expect((ran["rows"] as? [[String?]])?.count == 25 && (ran["sql"] as? String)?.contains("main.Genre") == true)
            #expect((ran["source"] as? String) == "connection chinook (environment DEV)")
            // Quotes and SQL in a question are words, never SQL.
            let sneaky = try s.object(try await ask(s, "failed checks on Genre'; DROP TABLE runs; --", token: s.user))
            #expect(sneaky["answered"] as? Bool == false)
            #expect(try await s.call(.get, "/api/v1/migrations", token: s.viewer).status == .ok)
            let tricky = try s.object(try await ask(s, "failed checks on x' OR '1'='1", token: s.user))
            #expect((tricky["rows"] as? [Any])?.isEmpty == true)
            // Bad input: empty, too long, an unknown environment, a connection the server does not name.
            #expect(try await ask(s, "  ", token: s.viewer).status == .badRequest)
            #expect(try await ask(s, String(repeating: "runs ", count: 200), token: s.viewer).status == .badRequest)
            #expect(try await s.call(.post, "/api/v1/copilot/ask", token: s.viewer, json: "{}").status == .badRequest)
            #expect(try await ask(s, "genres by name", token: s.user, extra: #""environment": "NOPE""#).status == .badRequest)
            let elsewhere = try await ask(
                s, "genres by name", token: s.user, extra: #""environment": "DEV", "connection": "postgres://x:y@10.0.0.1/db""#)
            #expect(elsewhere.status != .ok && !String(buffer: elsewhere.body).contains("x:y@"))
            let intents = try s.list(try await s.call(.get, "/api/v1/copilot/intents", token: s.viewer))
            #expect(intents.contains { $0["id"] as? String == "query:genres" } && intents.count > 30)
        }
    }

    @Test func explainsFailedChecksAndThePassRate() async throws {
        try await withServer { s in
            let explain = { (json: String) in try await s.call(.post, "/api/v1/copilot/explain", token: s.viewer, json: json) }
            #expect(try await explain(#"{"validation_run": "nope"}"#).status == .notFound)
            #expect(try await explain(#"{}"#).status == .badRequest)
            #expect(try await explain(#"{"kpi": "pass_rate", "period": "whenever"}"#).status == .badRequest)
            #expect(try await s.call(.post, "/api/v1/copilot/explain", json: #"{"kpi": "pass_rate"}"#).status == .unauthorized)
            // A pipeline whose row_diff finds a changed row: explained by column, row and the SQL to see it.
            try FileManager.default.copyItem(atPath: s.directory + "/chinook.sqlite", toPath: s.directory + "/scratch.db")
            let changed = try await s.call(
                .post, "/api/v1/sql", token: s.admin,
                json: #"{"connection": "scratch", "sql": "UPDATE Genre SET Name = 'Rock!' WHERE GenreId = 1", "write": true}"#)
            #expect(changed.status == .ok, "\(String(buffer: changed.body))")
            let pipeline = "steps:\n  - { check: row_diff, table: Genre, key: [GenreId] }\n"
            let body = String(decoding: try JSONEncoder().encode(["source": "chinook", "target": "scratch", "pipeline": pipeline]), as: UTF8.self)
            let started = try await s.call(.post, "/api/v1/validations", token: s.user, json: body)
            let run = try #require(try s.object(started)["run_id"] as? String, "\(String(buffer: started.body))")
            _ = try await s.finishedRun(run)
            let explained = try s.list(try await explain(#"{"validation_run": "\#(run)"}"#))
            let first = try #require(explained.first)
            #expect((first["drivers"] as? [[String: Any]])?.first?["name"] as? String == "Name")
            #expect((first["rows"] as? [String])?.first?.contains("Rock!") == true)
            #expect((first["queries"] as? [[String: Any]])?.contains { ($0["sql"] as? String)?.contains("GenreId") == true } == true)
            let rate = try s.list(try await explain(#"{"kpi": "pass_rate", "period": "today"}"#))
            #expect((rate.first?["status"] as? String)?.hasPrefix("0.0 % of 1 checks passed") == true)
        }
    }
}
