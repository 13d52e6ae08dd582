import CutoverCore
import CutoverEngine
import CutoverServer
import CutoverStore
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Testing

/// The HTTP API through Hummingbird's test client, over a real SQLite store.
@Suite struct ServerTests {
    /// A validation run imported from another tool's files (no run record) exports like any other.
    @Test func anImportedValidationRunExports() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let setup = try await ServerSetup.make(in: dir)
            let results = [
                ValidationResultRecord(
                    validationRunID: "import-1", step: 1, check: "expect_a", table: "products", status: "passed", message: "ok",
                    at: "2025-04-02T00:00:00.000Z"),
                ValidationResultRecord(
                    validationRunID: "import-1", step: 2, check: "expect_b", table: "products", status: "failed", message: "3 rows",
                    at: "2025-04-02T00:00:00.000Z"),
            ]
            try await setup.store.recordValidationRun(
                ValidationRunRecord(
                    id: "import-1", suite: "nightly", startedAt: "2025-04-02T00:00:00.000Z",
                    finishedAt: "2025-04-02T00:00:00.000Z", summarizing: results, origin: "import:x.json"))
            try await setup.store.addValidationResults(results)
            try await withServer(setup) { s in
                for (format, expected) in [("md", "2:expect_b products"), ("junit", "expect_b"), ("json", "expect_a")] {
                    let export = try await s.call(.get, "/api/v1/validations/import-1/export?format=\(format)", token: s.viewer)
                    #expect(
                        export.status == .ok && String(buffer: export.body).contains(expected),
                        "\(format): \(String(buffer: export.body).prefix(300))")
                }
                #expect(try await s.call(.get, "/api/v1/validations/nope/export", token: s.viewer).status == .notFound)
                if PDFPrinter.browser != nil {
                    let pdf = try await s.call(.get, "/api/v1/validations/import-1/export?format=pdf", token: s.viewer)
                    #expect(pdf.status == .ok && pdf.headers[.contentType] == "application/pdf" && String(buffer: pdf.body).hasPrefix("%PDF"))
                }
            }
        }
    }

    @Test func importedRegistryFailureRowsAndReportedMonthsAreServed() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let setup = try await ServerSetup.make(in: dir)
            let registry = try RulebookRegistry.entries(
                try JSONSerialization.jsonObject(
                    with: Data(
                        #"""
                        {"product_suite": [{"expectation_type": "expect_column_values_to_be_unique", "column": "id"}], "other": [{"expectation_type": "expect_x"}]}
                        """#.utf8)))
            try await setup.store.saveRegistryRules(registry)
            let csv = Data("id,problem\n1,\"a, b\"\n".utf8)
            #expect(
                try await setup.store.saveFailureSnapshot(
                    FailureSnapshotRecord(
                        suite: "product_suite", dataDate: "2024-02-10", rows: 1, columns: ["id", "problem"],
                        bytes: 0, sha256: "", cachedAt: "2024-02-10T00:00:00.000Z", origin: "f.csv"),
                    content: csv))
            try await setup.store.saveReportedMonths([
                ReportedMonth(
                    month: "2024-01", origin: "cache.json", currentTotal: 120, previousTotal: 100, delta: 20,
                    materials: 3, breakdown: [NamedCount(name: "Tools", count: 70)], logStats: nil, dataDate: nil,
                    cachedAt: "2024-02-01T00:00:00.000Z", payload: "{}")
            ])
            try await withServer(setup) { s in
                let rules = try await s.call(.get, "/api/v1/rules/registry?suite=product_suite", token: s.viewer)
                #expect(
                    rules.status == .ok && String(buffer: rules.body).contains("\"check\":\"uniqueness\"")
                        && !String(buffer: rules.body).contains("expect_x"),
                    "\(String(buffer: rules.body))")
                let listed = try await s.call(.get, "/api/v1/failure-snapshots", token: s.viewer)
                #expect(listed.status == .ok && String(buffer: listed.body).contains("2024-02-10"))
                let rows = try await s.call(.get, "/api/v1/failure-snapshots/product_suite/2024-02-10", token: s.viewer)
                #expect(rows.status == .ok && Data(buffer: rows.body) == csv && rows.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(try await s.call(.get, "/api/v1/failure-snapshots/product_suite/2024-02-11", token: s.viewer).status == .notFound)
                #expect(try await s.call(.get, "/api/v1/failure-snapshots", token: nil).status == .unauthorized)
                let overview = try await s.call(.get, "/api/v1/overview", token: s.viewer)
                #expect(String(buffer: overview.body).contains("\"current_total\":120"), "\(String(buffer: overview.body).prefix(600))")
            }
        }
    }

    @Test func authTokensRolesAndSlowedDownLogins() async throws {
        try await withServer { s in
            #expect(try await s.call(.get, "/api/v1/auth/me").status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: "not.a.token").status == .unauthorized)
            for offset in [1, 10] {  // the last character's low bits, and one in the middle of the signature
                var tampered = Array(s.viewer)
                let index = tampered.count - offset
                tampered[index] = tampered[index] == "A" ? "B" : "A"
                #expect(try await s.call(.get, "/api/v1/auth/me", token: String(tampered)).status == .unauthorized)
            }
            // A token whose payload claims admin but keeps the viewer's signature.
            let parts = s.viewer.split(separator: ".")
            let forged = Base64URL.encode(Data(#"{"sub":"vic","role":"admin","iat":0,"exp":9999999999}"#.utf8))
            #expect(try await s.call(.get, "/api/v1/users", token: parts[0] + "." + forged + "." + parts[2]).status == .unauthorized)
            let me = try await s.call(.get, "/api/v1/auth/me", token: s.viewer)
            #expect(try s.object(me)["role"] as? String == "viewer")

            // Only an admin adds users once one exists.
            #expect(try await s.call(.post, "/api/v1/auth/register", json: #"{"username": "eve", "password": "12345678"}"#).status == .unauthorized)
            #expect(
                try await s.call(.post, "/api/v1/auth/register", token: s.user, json: #"{"username": "eve", "password": "12345678"}"#).status
                    == .forbidden)
            let short = try await s.call(.post, "/api/v1/auth/register", token: s.admin, json: #"{"username": "eve", "password": "short"}"#)
            #expect(try short.status == .badRequest && s.errorMessage(short).contains("8 characters"))
            let twice = try await s.call(.post, "/api/v1/auth/register", token: s.admin, json: #"{"username": "bob", "password": "12345678"}"#)
            #expect(try twice.status == .badRequest && s.errorMessage(twice).contains("exists already"))
            let users = try await s.call(.get, "/api/v1/users", token: s.admin)
            #expect(try s.list(users).count == 3)
            #expect(!String(buffer: users.body).contains("$2b$"), "no password hash leaves the server")
            #expect(try await s.call(.get, "/api/v1/users", token: s.user).status == .forbidden)

            // Wrong passwords: the same answer for an unknown user; five in a row lock the account.
            let unknown = try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "nobody", "password": "x"}"#)
            #expect(try unknown.status == .unauthorized && s.errorMessage(unknown) == "wrong user name or password")
            for _ in 0..<5 { _ = try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "vic", "password": "wrong"}"#) }
            let locked = try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "vic", "password": "password-vic"}"#)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
            let audit = try s.list(try await s.call(.get, "/api/v1/audit?action=user.login", token: s.admin))
            #expect(audit.contains { $0["outcome"] as? String == "401" } && audit.contains { $0["outcome"] as? String == "200" })
            // A sign-in names the account tried, whether it worked or not.
            #expect(audit.contains { $0["outcome"] as? String == "429" && $0["username"] as? String == "vic" })
            #expect(audit.contains { $0["outcome"] as? String == "401" && $0["username"] as? String == "nobody" })
            #expect(audit.allSatisfy { $0["username"] is String })
        }
    }

    @Test func badRequestsGetJSONErrorsAndViewersCannotChangeAnything() async throws {
        try await withServer { s in
            let missing = try await s.call(.get, "/api/v1/no-such-thing", token: s.viewer)
            #expect(try missing.status == .notFound && s.errorMessage(missing).contains("no such route"))
            let notJSON = try await s.call(.post, "/api/v1/migrations", token: s.user, json: "{source")
            #expect(try notJSON.status == .badRequest && s.errorMessage(notJSON).contains("not valid JSON"))
            let noTarget = try await s.call(.post, "/api/v1/migrations", token: s.user, json: #"{"source": "chinook"}"#)
            #expect(try noTarget.status == .badRequest && s.errorMessage(noTarget).contains("missing field target"))
            let unknownName = try await s.call(.post, "/api/v1/migrations", token: s.user, json: #"{"source": "nope", "target": "chinook"}"#)
            #expect(unknownName.status == .badRequest)
            let badMode = try await s.call(
                .post, "/api/v1/migrations", token: s.user, json: #"{"source": "chinook", "target": "scratch", "mode": "teleport"}"#)
            #expect(try badMode.status == .badRequest && s.errorMessage(badMode).contains("mode"))
            for (method, uri, json) in [
                (HTTPRequest.Method.post, "/api/v1/migrations", #"{"source": "chinook", "target": "sqlite:x.db"}"#),
                (.post, "/api/v1/demo", "{}"), (.post, "/api/v1/rules", #"{"name": "r", "sql": "SELECT 1"}"#),
                (.post, "/api/v1/projects", #"{"name": "p"}"#), (.post, "/api/v1/sql", #"{"connection": "chinook", "sql": "SELECT 1"}"#),
                (.delete, "/api/v1/migrations/x", "{}"), (.post, "/api/v1/validations", #"{"source": "chinook", "target": "chinook"}"#),
            ] {
                let answer = try await s.call(method, uri, token: s.viewer, json: json)
                #expect(answer.status == .forbidden, "\(method) \(uri)")
                #expect((try s.errorMessage(answer)).contains("viewer"))
            }
            #expect(try await s.call(.get, "/api/v1/migrations/20990101-000000-0000", token: s.viewer).status == .notFound)
            #expect(try await s.call(.get, "/api/v1/validations/nope", token: s.viewer).status == .notFound)
            #expect(try await s.call(.get, "/api/v1/validations/history", token: s.viewer).status == .badRequest)
            #expect(try await s.call(.get, "/api/v1/audit", token: s.user).status == .forbidden)
            // A connection that fails says why, without its password.
            let broken = try await s.call(.post, "/api/v1/connections/test", token: s.user, json: #"{"connection": "broken"}"#)
            #expect(broken.status == .badGateway && !String(buffer: broken.body).contains("secretpw"))
            let connections = try await s.call(.get, "/api/v1/connections", token: s.viewer)
            #expect(try s.list(connections).count == 3 && !String(buffer: connections.body).contains("secretpw"))
            let health = try await s.call(.get, "/health")
            #expect(
                health.status == .ok && !String(buffer: health.body).contains("secretpw") && String(buffer: health.body).contains(#""status":"ok""#))
            #expect(!String(buffer: health.body).contains("connections"), "anonymous callers learn nothing about connections")
        }
    }

    @Test func projectsRulesSQLNotificationsAuditAndOpenAPI() async throws {
        try await withServer { s in
            let project = try s.object(
                try await s.call(.post, "/api/v1/projects", token: s.user, json: #"{"name": "chinook to snowflake", "source": "chinook"}"#))
            let id = try #require(project["id"] as? String)
            #expect(try await s.call(.post, "/api/v1/projects", token: s.user, json: #"{"name": "chinook to snowflake"}"#).status == .badRequest)
            let badPipeline = try await s.call(
                .post, "/api/v1/projects/\(id)/pipelines", token: s.user, json: #"{"name": "p", "content": "steps: [{check: teleport, table: x}]"}"#)
            #expect(badPipeline.status == .badRequest)
            #expect(
                try await s.call(
                    .post, "/api/v1/projects/\(id)/pipelines", token: s.user,
                    json: #"{"name": "nightly", "content": "steps:\n  - check: row_count\n    table: main.Track\n"}"#
                ).status == .created)
            let detail = try s.object(try await s.call(.get, "/api/v1/projects/\(id)", token: s.viewer))
            #expect((detail["pipelines"] as? [[String: Any]])?.first?["name"] as? String == "nightly")
            #expect(try await s.call(.delete, "/api/v1/projects/\(id)", token: s.user).status == .noContent)
            #expect(try await s.call(.delete, "/api/v1/projects/\(id)", token: s.user).status == .notFound)

            // Rules: stored once, run on a connection, with the offending rows.
            let rule =
                #"{"name": "no free tracks", "sql": "SELECT TrackId FROM {{schema}}.Track WHERE UnitPrice <= 0.99", "severity": "warn", "side": "target"}"#
            #expect(try await s.call(.post, "/api/v1/rules", token: s.user, json: rule).status == .created)
            #expect(try await s.call(.post, "/api/v1/rules", token: s.user, json: rule).status == .ok)
            let rules = try s.list(try await s.call(.get, "/api/v1/rules", token: s.viewer))
            #expect(rules.count == 1)
            let ran = try s.object(try await s.call(.post, "/api/v1/rules/run", token: s.user, json: #"{"target": "chinook", "environment": "DEV"}"#))
            let result = try #require((ran["results"] as? [[String: Any]])?.first)
            #expect(result["status"] as? String == "warning" && (result["offending_rows"] as? Int ?? 0) > 3000)
            let hash = try #require(rules.first?["content_hash"] as? String)
            #expect(try await s.call(.delete, "/api/v1/rules/\(hash)", token: s.user).status == .noContent)

            // SQL runner: reads for users, templated per environment; writes only for admins.
            let query = try await s.call(
                .post, "/api/v1/sql", token: s.user,
                json: #"{"connection": "chinook", "sql": "SELECT COUNT(*) AS n FROM {{schema}}.Genre", "environment": "DEV"}"#)
            #expect(query.status == .ok, "\(String(buffer: query.body))")
            #expect((try s.object(query)["rows"] as? [[String?]])?.first?.first == "25")
            let write = try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "DELETE FROM Genre"}"#)
            #expect(write.status == .forbidden)
            let sneaky = try await s.call(
                .post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "SELECT 1; DELETE FROM Genre"}"#)
            #expect(sneaky.status == .forbidden)
            #expect(
                try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "DELETE FROM Genre", "write": true}"#)
                    .status == .forbidden)
            let readOnlyAdmin = try await s.call(
                .post, "/api/v1/sql", token: s.admin, json: #"{"connection": "chinook", "sql": "UPDATE Genre SET Name = Name WHERE GenreId = 1"}"#)
            #expect(readOnlyAdmin.status == .forbidden, "admins' SQL is read-only too unless they ask to write")
            let admin = try await s.call(
                .post, "/api/v1/sql", token: s.admin,
                json: #"{"connection": "chinook", "sql": "UPDATE Genre SET Name = Name WHERE GenreId = 1", "write": true}"#)
            #expect(admin.status == .ok, "\(String(buffer: admin.body))")
            #expect(try s.object(admin)["affected_rows"] as? Int == 1)
            #expect(
                try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "SELECT 1", "environment": "MARS"}"#)
                    .status == .badRequest)
            // The query library, from cutover.yml.
            #expect(try s.list(try await s.call(.get, "/api/v1/queries", token: s.viewer)).first?["name"] as? String == "genres")
            let library = try await s.call(
                .post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "query": "genres", "environment": "DEV"}"#)
            #expect((try s.object(library)["rows"] as? [[String?]])?.first?.first == "Alternative")
            #expect(try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "query": "nope"}"#).status == .notFound)
            #expect(try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook"}"#).status == .badRequest)

            // Every mutating call is in the audit log, with who and how it ended.
            let audit = try s.list(try await s.call(.get, "/api/v1/audit?user=bob", token: s.admin))
            let actions = Set(audit.map { $0["action"] as? String ?? "" })
            #expect(actions.isSuperset(of: ["project.create", "project.delete", "rule.create", "rule.run", "sql.run", "pipeline.save"]))
            #expect(audit.contains { $0["action"] as? String == "sql.run" && $0["outcome"] as? String == "403" })
            let stats = try s.list(try await s.call(.get, "/api/v1/audit/stats", token: s.admin))
            #expect(stats.contains { $0["action"] as? String == "rule.delete" && $0["count"] as? Int == 1 })

            // The rules run finished: a notification for everyone, which each user marks read.
            let notes = try s.list(try await s.call(.get, "/api/v1/notifications?unread=true", token: s.viewer))
            let note = try #require(notes.first)
            #expect((note["title"] as? String)?.contains("rules") == true)
            #expect(try await s.call(.post, "/api/v1/notifications/\(note["id"] as? Int ?? 0)/read", token: s.viewer).status == .noContent)
            #expect(try await s.call(.post, "/api/v1/notifications/abc/read", token: s.viewer).status == .badRequest)
            #expect(try s.list(try await s.call(.get, "/api/v1/notifications?unread=true", token: s.viewer)).isEmpty)
            // Read for the viewer only: bob still has it unread.
            #expect(
                try s.list(try await s.call(.get, "/api/v1/notifications?unread=true", token: s.user)).contains {
                    $0["id"] as? Int == note["id"] as? Int
                })

            // The OpenAPI file lists every route with its role.
            let openapi = try s.object(try await s.call(.get, "/api/v1/openapi.json"))
            let paths = try #require(openapi["paths"] as? [String: [String: Any]])
            #expect(paths["/api/v1/migrations/{id}/artifacts/{name}"]?["get"] != nil)
            #expect(paths.count >= 25)
            #expect(((paths["/api/v1/audit"]?["get"] as? [String: Any])?["x-role"] as? String) == "admin")
        }
    }

    @Test func theDemoMigrationStreamsItsEventsInOrderAndLeavesResultsAndArtifacts() async throws {
        try await withServer { s in
            let started = try await s.call(.post, "/api/v1/demo", token: s.user)
            #expect(started.status == .accepted)
            let run = try #require(try s.object(started)["run_id"] as? String)
            // The stream ends after the run's last event; the router test client returns the whole body.
            let stream = try await s.call(.get, "/api/v1/events?run=\(run)", token: s.viewer)
            #expect(stream.headers[.contentType] == "text/event-stream")
            let events = String(buffer: stream.body).split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(events.first == "run.started")
            #expect(events.last == "run.completed")
            let firstChunk = try #require(events.firstIndex(of: "chunk.done"))
            #expect(events.filter { $0 == "table.started" }.count == 4)
            #expect(events.firstIndex(of: "table.started")! < firstChunk)
            #expect(events.filter { $0 == "chunk.done" }.count == 4)
            #expect(events.filter { $0 == "step.completed" }.count == 4)
            #expect(events.lastIndex(of: "chunk.done")! < events.firstIndex(of: "step.completed")!)
            // Resuming after an event id skips what was seen.
            let ids = String(buffer: stream.body).split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            let tail = try await s.call(.get, "/api/v1/events?run=\(run)&after=\(ids[ids.count - 2])&access_token=\(s.viewer)")
            #expect(String(buffer: tail.body).split(separator: "\n").filter { $0.hasPrefix("event: ") } == ["event: run.completed"])

            let progress = try s.object(try await s.call(.get, "/api/v1/migrations/\(run)", token: s.viewer))
            #expect((progress["run"] as? [String: Any])?["status"] as? String == "succeeded")
            let tables = try #require(progress["tables"] as? [[String: Any]])
            #expect(tables.count == 4 && tables.allSatisfy { $0["done"] as? Int == $0["chunks"] as? Int })
            #expect(try s.list(try await s.call(.get, "/api/v1/migrations", token: s.viewer)).first?["id"] as? String == run)
            let logs = try s.list(try await s.call(.get, "/api/v1/migrations/\(run)/logs", token: s.viewer))
            #expect(logs.count == events.count)

            let artifacts = try s.list(try await s.call(.get, "/api/v1/migrations/\(run)/artifacts", token: s.viewer)).compactMap {
                $0["name"] as? String
            }
            #expect(artifacts.contains("summary.md") && artifacts.contains("validation_results.json"))
            let summary = try await s.call(.get, "/api/v1/migrations/\(run)/artifacts/summary.md", token: s.viewer)
            #expect(summary.status == .ok && String(buffer: summary.body).contains("# Cutover run"))
            #expect(try await s.call(.get, "/api/v1/migrations/\(run)/artifacts/..%2Fstore.db", token: s.viewer).status == .notFound)
            // The run's files are in the store too: with its folder gone (a run made on another
            // machine), the server still lists and serves them.
            let folder = try #require((progress["run"] as? [String: Any])?["artifacts_dir"] as? String)
            try FileManager.default.removeItem(atPath: folder)
            let stored = try s.list(try await s.call(.get, "/api/v1/migrations/\(run)/artifacts", token: s.viewer))
            #expect(
                Set(stored.compactMap { $0["name"] as? String }) == Set(artifacts) && stored.allSatisfy { $0["source"] as? String == "store" },
                "\(stored)")
            let fromStore = try await s.call(.get, "/api/v1/migrations/\(run)/artifacts/summary.md", token: s.viewer)
            #expect(fromStore.status == .ok && String(buffer: fromStore.body) == String(buffer: summary.body))

            let validation = try s.object(try await s.call(.get, "/api/v1/validations/\(run)", token: s.viewer))
            let results = try #require(validation["results"] as? [[String: Any]])
            #expect(results.count == 4 && results.allSatisfy { $0["status"] as? String == "passed" && $0["match_percent"] as? Double == 100 })
            let history = try s.object(try await s.call(.get, "/api/v1/validations/history?table=call_center", token: s.viewer))
            #expect((history["results"] as? [[String: Any]])?.count == 1)
            for (format, marker) in [("html", "<html"), ("junit", "<testsuite"), ("md", "#"), ("json", "{")] {
                let export = try await s.call(.get, "/api/v1/validations/\(run)/export?format=\(format)", token: s.viewer)
                #expect(export.status == .ok && String(buffer: export.body).contains(marker), "\(format)")
            }
            let workbook = try await s.call(.get, "/api/v1/validations/\(run)/export?format=xlsx", token: s.viewer)
            #expect(workbook.status == .ok && workbook.body.readableBytesView.starts(with: [0x50, 0x4B]), "a zip file")
            let path = s.directory + "/report.xlsx"
            try Data(workbook.body.readableBytesView).write(to: URL(fileURLWithPath: path))
            let sheet = try await CLI.shell(
                "python3 -c \"import zipfile; z = zipfile.ZipFile('\(path)'); print(sorted(z.namelist())); print(z.read('xl/worksheets/sheet1.xml').decode())\"",
                in: s.directory)
            #expect(
                sheet.stdout.contains("xl/workbook.xml") && sheet.stdout.contains("call_center") && sheet.stdout.contains("<v>30"), "\(sheet.output)")
            #expect(try await s.call(.get, "/api/v1/validations/\(run)/export?format=docx", token: s.viewer).status == .badRequest)
            let overview = try s.object(try await s.call(.get, "/api/v1/overview", token: s.viewer))
            #expect((overview["months"] as? [[String: Any]])?.last?["rows_moved"] as? Int == 4192)

            #expect(try await s.call(.post, "/api/v1/migrations/\(run)/cancel", token: s.user).status == .conflict)
            #expect(try await s.call(.delete, "/api/v1/migrations/\(run)", token: s.user).status == .noContent)
            #expect(try await s.call(.get, "/api/v1/migrations/\(run)", token: s.viewer).status == .notFound)
        }
    }

    @Test func pagesAreServedWithTheirScript() async throws {
        try await withServer { s in
            for path in [
                "/", "/login", "/migrations", "/migrations/abc", "/validations", "/rules", "/sql", "/connections", "/alerts", "/audit", "/users",
                "/settings",
            ] {
                let page = try await s.call(.get, path)
                #expect(page.status == .ok, "\(path)")
                #expect(String(buffer: page.body).contains(#"<script src="/assets/app.js">"#), "\(path)")
            }
            #expect(String(buffer: try await s.call(.get, "/migrations/%3Cscript%3E").body).contains("<script>") == false)
            let script = try await s.call(.get, "/assets/app.js")
            #expect(script.status == .ok && String(buffer: script.body).contains("EventSource"))
            #expect(try await s.call(.get, "/assets/secret.txt").status == .notFound)
            let icon = try await s.call(.get, "/assets/favicon.svg")
            #expect(icon.status == .ok && icon.headers[.contentType] == "image/svg+xml" && String(buffer: icon.body).hasPrefix("<svg"))
            #expect(try await s.call(.get, "/favicon.ico").headers[.location] == "/assets/favicon.svg")
            #expect(String(buffer: try await s.call(.get, "/").body).contains(#"<link rel="icon" href="/assets/favicon.svg""#))
        }
    }
}

extension ServerTests {
    @Test func autoSetupProposesMappingsWithConfidencesAndKeepsThemInTheProject() async throws {
        try await withServer(connections: ["edited": "sqlite:{dir}/target.db"]) { s in
            // The target: Chinook with one table renamed, one column renamed and one table gone.
            let target = s.directory + "/target.db"
            try FileManager.default.copyItem(atPath: s.directory + "/chinook.sqlite", toPath: target)
            let edit = try await CLI.shell(
                """
                python3 -c "import sqlite3; c = sqlite3.connect('\(target)'); c.executescript('ALTER TABLE Track RENAME TO tracks; \
                ALTER TABLE Album RENAME COLUMN Title TO Titles; DROP TABLE PlaylistTrack;'); c.commit()"
                """, in: s.directory)
            #expect(edit.status == 0, "\(edit.output)")
            let project = try s.object(
                try await s.call(
                    .post, "/api/v1/projects", token: s.user,
                    json: #"{"name": "p", "source": "chinook", "target": "edited"}"#))
            let id = try #require(project["id"] as? String)
            let answer = try await s.call(.post, "/api/v1/projects/\(id)/auto-setup", token: s.user)
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
            let tables = try #require(try s.object(answer)["tables"] as? [[String: Any]])
            func table(_ name: String) -> [String: Any]? {
                tables.first { ($0["source"] as? String)?.split(separator: ".").last.map(String.init) == name }
            }
            #expect((table("Artist")?["confidence"] as? Double) == 1)
            #expect((table("Track")?["target"] as? String)?.hasSuffix("tracks") == true)
            #expect(((table("Track")?["confidence"] as? Double) ?? 1) < 0.9, "a renamed table needs review")
            #expect(table("PlaylistTrack") != nil && table("PlaylistTrack")?["target"] == nil, "no target: the field is left out")
            let album = try #require(table("Album")?["columns"] as? [[String: Any]])
            #expect(album.first { $0["source"] as? String == "Title" }?["target"] as? String == "Titles")
            #expect(album.first { $0["source"] as? String == "AlbumId" }?["type_fits"] as? Bool == true)
            // Kept with the project.
            let stored = try s.object(try await s.call(.get, "/api/v1/projects/\(id)", token: s.viewer))
            #expect(((stored["project"] as? [String: Any])?["settings"] as? String)?.contains("mappings") == true)
            let bare = try s.object(try await s.call(.post, "/api/v1/projects", token: s.user, json: #"{"name": "bare"}"#))
            #expect(try await s.call(.post, "/api/v1/projects/\(bare["id"] as? String ?? "")/auto-setup", token: s.user).status == .badRequest)
        }
    }
}

extension ServerTests {
    /// An event message's name and run.
    static func event(_ text: String) throws -> (name: String, run: String?) {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return (object?["event"] as? String ?? "", object?["run"] as? String)
    }

    /// Over a real socket: the demo run's events arrive in order as WebSocket messages, and the
    /// server closes the socket after the run's last event.
    @Test func webSocketStreamsARunsEventsInOrder() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/store.db"))
            let app = try await CutoverServer.application(
                store: store, config: CutoverConfig(), settings: .init(port: 0, artifactsRoot: dir + "/runs"))
            try await app.test(.live) { client in
                let session = Session(client: client, directory: dir)
                try await session.call(.post, "/api/v1/auth/register", json: #"{"username": "ada", "password": "lovelace-1815"}"#)
                let token = try await session.login("ada", "lovelace-1815")
                let noUpgrade = try await session.call(.get, "/api/v1/events/ws", token: token)
                #expect(noUpgrade.status == .upgradeRequired)
                // A personal API token is as good as a session token: one authenticator for HTTP and
                // WebSocket. It follows every event from before the run starts until that run's last.
                // (Not a replay of the finished run: that arrives whole, with its close, together with
                // the upgrade answer, and HummingbirdWSClient can then wait forever for a close it was sent.)
                let created = try session.object(try await session.call(.post, "/api/v1/auth/tokens", token: token, json: #"{"name": "ws"}"#))
                let personal = try #require(created["token"] as? String)
                let demoRun = Received()
                let everything = Received()
                let follower = Task {
                    try await client.ws("/api/v1/events/ws?access_token=\(personal)") { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message else { continue }
                            await everything.add(text)
                            let (name, run) = try Self.event(text)
                            if name == "run.completed", let run, await demoRun.all.contains(run) { break }
                        }
                    }
                }
                let run = try #require(try session.object(try await session.call(.post, "/api/v1/demo", token: token))["run_id"] as? String)
                await demoRun.add(run)
                let received = Received()
                try await client.ws("/api/v1/events/ws?run=\(run)&access_token=\(token)") { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { await received.add(text) }
                    }
                }
                let events = try await received.all.map { try Self.event($0).name }
                #expect(events.first == "run.started")
                #expect(events.last == "run.completed")
                #expect(events.filter { $0 == "chunk.done" }.count == 4 && events.filter { $0 == "step.completed" }.count == 4)
                _ = try await follower.value
                let followed = try await everything.all.map { try Self.event($0) }.filter { $0.run == run }.map(\.name)
                #expect(followed == events)
                // A bad token is not upgraded.
                await #expect(throws: (any Error).self) {
                    try await client.ws("/api/v1/events/ws?run=\(run)&access_token=forged") { _, _, _ in }
                }
            }
        }
    }
}

actor Received {
    private(set) var all: [String] = []
    func add(_ text: String) { all.append(text) }
}

extension ServerTests {
    func waitForBatch(_ s: Session, _ id: String) async throws -> [String: Any] {
        for _ in 0..<300 {
            let detail = try s.object(try await s.call(.get, "/api/v1/batches/\(id)", token: s.viewer))
            if let status = (detail["batch"] as? [String: Any])?["status"] as? String, !["running", "cancelling"].contains(status) { return detail }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CutoverError(.io, "batch \(id) did not finish")
    }

    @Test func batchesRunTheirItemsAtMostMaxParallelAndCanBeCancelled() async throws {
        try await withServer { s in
            let bad = try await s.call(
                .post, "/api/v1/batches", token: s.user,
                json:
                    #"{"items": [{"kind": "migration", "source": "chinook", "target": "scratch"}, {"kind": "validation", "source": "chinook", "target": "nowhere"}]}"#
            )
            #expect(try bad.status == .badRequest && s.errorMessage(bad).contains("item 2"))
            let raw = try await s.call(
                .post, "/api/v1/batches", token: s.user,
                json: #"{"items": [{"kind": "migration", "source": "chinook", "target": "sqlite:/tmp/anywhere.db"}]}"#)
            #expect(try raw.status == .forbidden && s.errorMessage(raw).contains("item 1"), "users name connections; URLs are for admins")
            #expect(try await s.call(.post, "/api/v1/batches", token: s.user, json: #"{"items": []}"#).status == .badRequest)
            #expect(try await s.call(.post, "/api/v1/batches", token: s.viewer, json: #"{"items": []}"#).status == .forbidden)

            let started = try await s.call(
                .post, "/api/v1/batches", token: s.user,
                json: """
                    {"name": "night", "max_parallel": 2, "items": [
                      {"kind": "migration", "source": "chinook", "target": "scratch", "tables": ["Genre", "MediaType"]},
                      {"kind": "validation", "source": "chinook", "target": "chinook", "tables": ["Artist"]},
                      {"kind": "validation", "source": "chinook", "target": "chinook", "pipeline": "steps:\\n  - check: row_count\\n    table: Album\\n"}]}
                    """)
            #expect(started.status == .accepted, "\(String(buffer: started.body))")
            let id = try #require(try s.object(started)["batch_id"] as? String)
            let detail = try await waitForBatch(s, id)
            #expect((detail["batch"] as? [String: Any])?["status"] as? String == "succeeded", "\(detail)")
            let items = try #require(detail["items"] as? [[String: Any]])
            #expect(items.map { $0["status"] as? String } == ["succeeded", "succeeded", "succeeded"], "\(items)")
            #expect(detail["done"] as? Int == 3)
            for item in items {
                let run = try #require(item["run_id"] as? String)
                #expect(try await s.call(.get, "/api/v1/migrations/\(run)", token: s.viewer).status == .ok)
            }
            #expect(try s.list(try await s.call(.get, "/api/v1/batches", token: s.viewer)).count == 1)

            // Cancelled at once: with one at a time, the items after the first are not started.
            let many = (0..<4).map { _ in #"{"kind": "validation", "source": "chinook", "target": "chinook"}"# }.joined(separator: ", ")
            let second = try s.object(try await s.call(.post, "/api/v1/batches", token: s.user, json: #"{"max_parallel": 1, "items": [\#(many)]}"#))
            let secondID = try #require(second["batch_id"] as? String)
            #expect(try await s.call(.post, "/api/v1/batches/\(secondID)/cancel", token: s.user).status == .accepted)
            let cancelled = try await waitForBatch(s, secondID)
            #expect((cancelled["batch"] as? [String: Any])?["status"] as? String == "cancelled")
            let statuses = (cancelled["items"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "" }
            #expect(statuses.filter { $0 == "cancelled" }.count >= 3, "\(statuses)")
            #expect(try await s.call(.post, "/api/v1/batches/\(secondID)/cancel", token: s.user).status == .conflict)
            let kinds = try s.list(try await s.call(.get, "/api/v1/notifications", token: s.user)).compactMap { $0["kind"] as? String }
            #expect(kinds.contains("batch.cancelled") && !kinds.contains("batch.failed"), "a stopped batch is not a failed one: \(kinds)")
            #expect(try await s.call(.get, "/api/v1/batches/nope", token: s.viewer).status == .notFound)

            // Retry: only the cancelled items run again, and the batch ends succeeded with counts and timings.
            #expect(try await s.call(.post, "/api/v1/batches/\(secondID)/retry", token: s.viewer).status == .forbidden)
            #expect(try await s.call(.post, "/api/v1/batches/\(id)/retry", token: s.user).status == .conflict)  // nothing failed
            let firstRun = (cancelled["items"] as? [[String: Any]])?.first { $0["status"] as? String == "succeeded" }?["run_id"] as? String
            #expect(try await s.call(.post, "/api/v1/batches/\(secondID)/retry", token: s.user).status == .accepted)
            let retried = try await waitForBatch(s, secondID)
            #expect((retried["batch"] as? [String: Any])?["status"] as? String == "succeeded", "\(retried)")
            #expect(retried["succeeded"] as? Int == 4 && retried["failed"] as? Int == 0 && retried["cancelled"] as? Int == 0, "\(retried)")
            let timings = try #require(retried["timings"] as? [[String: Any]])
            #expect(timings.count == 4 && timings.allSatisfy { $0["seconds"] is Double } && (retried["seconds"] as? Double ?? -1) >= 0, "\(retried)")
            if let firstRun {  // the item that had run is not run again
                #expect((retried["items"] as? [[String: Any]])?.contains { $0["run_id"] as? String == firstRun } == true)
            }

            // Delete: the batch goes, its runs stay.
            let runs = (retried["items"] as? [[String: Any]] ?? []).compactMap { $0["run_id"] as? String }
            #expect(try await s.call(.delete, "/api/v1/batches/\(secondID)", token: s.viewer).status == .forbidden)
            #expect(try await s.call(.delete, "/api/v1/batches/\(secondID)", token: s.user).status == .noContent)
            #expect(try await s.call(.get, "/api/v1/batches/\(secondID)", token: s.viewer).status == .notFound)
            #expect(try await s.call(.get, "/api/v1/migrations/\(try #require(runs.first))", token: s.viewer).status == .ok)
        }
    }
}

extension ServerTests {
    /// Every route the OpenAPI file lists: without a token 401, below its role 403, always JSON.
    @Test func everyProtectedRouteRefusesAnonymousCallersAndLowerRoles() async throws {
        try await withServer { s in
            let openapi = try s.object(try await s.call(.get, "/api/v1/openapi.json"))
            let paths = try #require(openapi["paths"] as? [String: [String: [String: Any]]])
            var checked = 0
            for (path, operations) in paths {
                let uri = path.replacingOccurrences(of: #"\{\w+\}"#, with: "x", options: .regularExpression)
                for (method, operation) in operations {
                    guard let role = operation["x-role"] as? String else { continue }
                    let httpMethod = HTTPRequest.Method(rawValue: method.uppercased())!
                    let anonymous = try await s.call(httpMethod, uri, json: "{}")
                    #expect(anonymous.status == .unauthorized, "\(method) \(path)")
                    #expect(try s.errorMessage(anonymous).contains("sign in"), "\(method) \(path)")
                    let lower = role == "admin" ? s.user : role == "user" ? s.viewer : nil
                    if let lower {
                        let refused = try await s.call(httpMethod, uri, token: lower, json: "{}")
                        #expect(refused.status == .forbidden, "\(method) \(path) as a lower role than \(role)")
                    }
                    checked += 1
                }
            }
            #expect(checked >= 40)
            let envs = try s.object(try await s.call(.get, "/api/v1/environments", token: s.viewer))
            #expect((envs["environments"] as? [[String: Any]])?.first?["schema"] as? String == "main")
        }
    }
}

extension ServerTests {
    @Test func personalAPITokensWorkUntilRevokedOrExpiredAndAreShownOnce() async throws {
        try await withServer { s in
            let created = try await s.call(.post, "/api/v1/auth/tokens", token: s.user, json: #"{"name": "ci", "expires_in_days": 30}"#)
            #expect(created.status == .created)
            let secret = try #require(try s.object(created)["token"] as? String)
            let id = try #require(try s.object(created)["id"] as? String)
            #expect(secret.hasPrefix("cut_") && secret.count > 60)
            let me = try s.object(try await s.call(.get, "/api/v1/auth/me", token: secret))
            #expect(me["username"] as? String == "bob")
            // A token acts with its owner's role.
            #expect(try await s.call(.post, "/api/v1/projects", token: secret, json: #"{"name": "from ci"}"#).status == .created)
            #expect(try await s.call(.get, "/api/v1/users", token: secret).status == .forbidden)
            let listed = try await s.call(.get, "/api/v1/auth/tokens", token: s.user)
            #expect(try s.list(listed).map { $0["name"] as? String } == ["ci"])
            #expect(!String(buffer: listed.body).contains(secret) && !String(buffer: listed.body).contains("hash"))
            // Someone else cannot revoke it; its owner can, and then it stops working.
            #expect(try await s.call(.delete, "/api/v1/auth/tokens/\(id)", token: s.viewer).status == .notFound)
            #expect(try await s.call(.delete, "/api/v1/auth/tokens/\(id)", token: s.user).status == .noContent)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: secret).status == .unauthorized)
            // An expired token does not work; a made-up one neither.
            let expired = try s.object(try await s.call(.post, "/api/v1/auth/tokens", token: s.user, json: #"{"name": "old", "expires_in_days": 0}"#))
            #expect(try await s.call(.get, "/api/v1/auth/me", token: expired["token"] as? String).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: "cut_" + String(repeating: "0", count: 64)).status == .unauthorized)
            #expect(try await s.call(.post, "/api/v1/auth/tokens", token: s.user, json: #"{"name": " "}"#).status == .badRequest)
        }
    }

    /// A migration started through the API takes per-table settings, reports phase, percent and
    /// rows (also under the replaced tool's paths), and both ends can be tested in one call.
    @Test func migrationsTakeTableSettingsAndReportProgress() async throws {
        try await withServer { s in
            let bad = try await s.call(
                .post, "/api/v1/migrations", token: s.user,
                json: #"{"source": "chinook", "target": "scratch", "table_settings": {"Track": {"mode": "teleport"}}}"#)
            #expect(bad.status == .badRequest)
            #expect(try s.errorMessage(bad).contains("table_settings.Track.mode"), "\(String(buffer: bad.body))")
            let started = try await s.call(
                .post, "/api/v1/migrations", token: s.user,
                json: #"{"source": "chinook", "target": "scratch", "chunk_rows": 100000, "table_settings": {"Track": {"chunk_rows": 1000}}}"#)
            #expect(started.status == .accepted, "\(String(buffer: started.body))")
            let id = try #require(try s.object(started)["run_id"] as? String)
            #expect(try await s.finishedRun(id)["status"] as? String == "succeeded")
            for path in ["/api/v1/migrations/\(id)", "/api/v1/migrate/\(id)/progress", "/api/v1/migrate/\(id)/status"] {
                let progress = try s.object(try await s.call(.get, path, token: s.viewer))
                #expect(progress["phase"] as? String == "succeeded" && progress["percent"] as? Double == 100, "\(path): \(progress)")
                #expect(progress["rows_moved"] as? Int == 15_607 && progress["elapsed_seconds"] as? Double != nil, "\(path): \(progress)")
                let chunks = (progress["tables"] as? [[String: Any]] ?? []).reduce(into: [String: Int]()) {
                    $0[$1["table"] as? String ?? ""] = $1["chunks"] as? Int
                }
                #expect(chunks["Track"] == 4 && chunks["Album"] == 1, "\(chunks)")
            }
            let both = try await s.call(.post, "/api/v1/test-connections", token: s.user, json: #"{"source": "chinook", "target": "broken"}"#)
            #expect(both.status == .badGateway)
            let answer = try s.object(both)
            #expect(answer["ok"] as? Bool == false && (answer["source"] as? [String: Any])?["status"] as? String == "ok", "\(answer)")
            #expect(!String(buffer: both.body).contains("secretpw"))
            let one = try await s.call(.post, "/api/v1/test-connections", token: s.user, json: #"{"source": "chinook"}"#)
            #expect(one.status == .ok)
            #expect(try await s.call(.post, "/api/v1/test-connections", token: s.viewer, json: #"{"source": "chinook"}"#).status == .forbidden)
        }
    }
}
