import CutoverCore
import CutoverEngine
import CutoverPostgres
import CutoverSQLite
import CutoverServer
import CutoverStore
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The server as a hostile caller tries it: each test is a hole found on an earlier version.
@Suite struct SecurityTests {
    @Test func theMetadataStoreIsNeverAConnectionHoweverItIsSpelled() async throws {
        try await withServer(connections: ["meta": "sqlite:{dir}/sub/../store.db"]) { s in
            try FileManager.default.createDirectory(atPath: s.directory + "/sub", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: s.directory + "/link.db", withDestinationPath: s.directory + "/store.db")
            let secret = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: s.directory + "/store.db")).setting(
                "token_secret", orInsert: "")
            #expect(!secret.isEmpty)
            let steal = #"{"connection": "sqlite:\#(s.directory)/store.db", "sql": "SELECT name, value FROM settings"}"#
            let asUser = try await s.call(.post, "/api/v1/sql", token: s.user, json: steal)
            #expect(asUser.status == .forbidden && !String(buffer: asUser.body).contains(secret))
            for spelling in [
                "sqlite:\(s.directory)/store.db", "sqlite:\(s.directory)/./sub/../store.db", "sqlite:\(s.directory)/link.db",
                "sqlite:\(s.directory)/store.db-wal", "meta",
            ] {
                let asAdmin = try await s.call(
                    .post, "/api/v1/sql", token: s.admin, json: #"{"connection": "\#(spelling)", "sql": "SELECT name, value FROM settings"}"#)
                #expect(asAdmin.status == .forbidden, "\(spelling)")
                #expect(try s.errorMessage(asAdmin).contains("metadata store"), "\(spelling)")
                #expect(!String(buffer: asAdmin.body).contains(secret))
            }
            let named = try await s.call(.post, "/api/v1/sql", token: s.user, json: #"{"connection": "meta", "sql": "SELECT * FROM users"}"#)
            #expect(named.status == .forbidden)

            // Rewriting roles through a migration into the store: refused for users and admins alike.
            let promote = #"{"source": "chinook", "target": "sqlite:\#(s.directory)/store.db", "mode": "upsert", "tables": ["Genre"]}"#
            #expect(try await s.call(.post, "/api/v1/migrations", token: s.user, json: promote).status == .forbidden)
            let byAdmin = try await s.call(.post, "/api/v1/migrations", token: s.admin, json: promote)
            #expect(try byAdmin.status == .forbidden && s.errorMessage(byAdmin).contains("metadata store"))
            #expect(
                try await s.call(.post, "/api/v1/migrations", token: s.admin, json: #"{"source": "meta", "target": "scratch"}"#).status == .forbidden)
            #expect(try s.object(try await s.call(.get, "/api/v1/auth/me", token: s.user))["role"] as? String == "user")
        }
    }

    @Test(arguments: [
        "/api/v1/migrations?limit=-1", "/api/v1/migrations?limit=4611686018427387904", "/api/v1/migrations?limit=abc",
        "/api/v1/validations?limit=0", "/api/v1/validations/history?table=x&limit=-5", "/api/v1/events?after=-3",
        "/api/v1/events?after=x", "/api/v1/notifications?unread=maybe",
    ])
    func numbersInTheQueryAreCheckedNotTrusted(uri: String) async throws {
        try await withServer { s in
            let answer = try await s.call(.get, uri, token: s.viewer)
            #expect(answer.status == .badRequest, "\(uri): \(String(buffer: answer.body))")
            #expect(try !s.errorMessage(answer).isEmpty)
            #expect(try await s.call(.get, "/health").status == .ok, "the server is still there")
            let audit = try await s.call(.get, "/api/v1/audit?limit=99999999999999999999", token: s.admin)
            #expect(audit.status == .badRequest)
        }
    }

    @Test func concurrentSignUpsOnAnEmptyStoreMakeOneAdmin() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let setup = try await ServerSetup.make(in: dir)
            try await withServer(setup, users: false) { s in
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for n in 0..<10 {
                        group.addTask {
                            try await s.call(.post, "/api/v1/auth/register", json: #"{"username": "racer\#(n)", "password": "password-\#(n)"}"#)
                                .status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
                #expect(statuses.filter { $0 == .unauthorized }.count == 9)
                let users = try await setup.store.users()
                #expect(users.count == 1 && users.first?.role == .admin)
            }
        }
        // A server that must not open sign-up: nobody becomes admin from the web.
        try await TestEnvironment.withTemporaryDirectory { dir in
            var closed = try await ServerSetup.make(in: dir)
            closed.settings.firstUserSignUp = false
            let setup = closed
            try await withServer(setup, users: false) { (s: Session) async throws in
                #expect(
                    try await s.call(.post, "/api/v1/auth/register", json: #"{"username": "eve", "password": "password-eve"}"#).status
                        == .unauthorized)
                #expect(try await setup.store.users().isEmpty)
            }
        }
    }

    @Test func requestInputIsNeverExpandedFromTheServersEnvironment() async throws {
        try await withServer { s in
            let home = try #require(ProcessInfo.processInfo.environment["HOME"])
            let probe = #"{"connection": "postgres://u:${HOME}@127.0.0.1:1/x"}"#
            #expect(try await s.call(.post, "/api/v1/connections/test", token: s.user, json: probe).status == .forbidden, "URLs are for admins")
            let answer = try await s.call(.post, "/api/v1/connections/test", token: s.admin, json: probe)
            #expect(!String(buffer: answer.body).contains(home))
            let audit = try await s.call(.get, "/api/v1/audit?action=connection.test", token: s.admin)
            #expect(!String(buffer: audit.body).contains(home))
        }
    }

    /// Passwords with the characters that broke text-based masking: quotes, @, /, %, backslash, unicode.
    @Test func passwordsAreMaskedWhereverAConnectionTravels() async throws {
        let passwords = [
            "it's", "p@ss/w'rd", #"qu"ote\back"#, "per%cent&x=1", "sécrét-ключ-🔑", "a b;c}d",
            String((0..<24).map { _ in "A1@/'%\"é:#?".randomElement()! }),
        ]
        try await withServer { s in
            for password in passwords {
                let encoded = try #require(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
                let url = "postgres://loader:\(encoded)@127.0.0.1:1/warehouse"
                let jsonURL = String(decoding: try JSONEncoder().encode(url), as: UTF8.self)
                var bodies: [String] = []
                let batch = try await s.call(
                    .post, "/api/v1/batches", token: s.admin,
                    json: #"{"items": [{"kind": "validation", "source": "chinook", "target": \#(jsonURL)}]}"#)
                bodies.append(String(buffer: batch.body))
                if let id = try? s.object(batch)["batch_id"] as? String {
                    for _ in 0..<100 {
                        let detail = try await s.call(.get, "/api/v1/batches/\(id)", token: s.viewer)
                        bodies.append(String(buffer: detail.body))
                        if String(buffer: detail.body).contains(#""status":"failed""#) { break }
                        try await Task.sleep(nanoseconds: 50_000_000)
                    }
                }
                bodies.append(
                    String(buffer: try await s.call(.post, "/api/v1/connections/test", token: s.admin, json: #"{"connection": \#(jsonURL)}"#).body))
                bodies.append(String(buffer: try await s.call(.get, "/api/v1/audit", token: s.admin).body))
                bodies.append(String(buffer: try await s.call(.get, "/api/v1/migrations?limit=1000", token: s.viewer).body))
                bodies.append(String(buffer: try await s.call(.get, "/api/v1/validations", token: s.viewer).body))
                for body in bodies {
                    #expect(!body.contains(encoded) && !body.contains(password), "\(password) in \(body.prefix(300))")
                    #expect(!body.contains(String(decoding: try JSONEncoder().encode(password), as: UTF8.self).dropFirst().dropLast()))
                }
            }
            // Everything the store kept, too.
            let dump = try await CLI.shell("sqlite3 store.db .dump", in: s.directory)
            for password in passwords {
                #expect(
                    !dump.stdout.contains(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password)
                        && !dump.stdout.contains(password))
            }
            // Free text that looks like a secret is the user's, and the answer stays JSON.
            let project = try await s.call(
                .post, "/api/v1/projects", token: s.user, json: #"{"name": "p1", "description": "password=hunter2 & token: 'x'"}"#)
            #expect(project.status == .created)
            let projects = try s.list(try await s.call(.get, "/api/v1/projects", token: s.viewer))
            #expect(projects.first?["description"] as? String == "password=hunter2 & token: 'x'")
        }
    }

    @Test func failedSignInsLockNamesAliveOrNotEvenInParallel() async throws {
        try await withServer { s in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "vic", "password": "guess"}"#).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= 5, "at most five guesses are checked: \(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 15)
            #expect(
                try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "vic", "password": "password-vic"}"#).status == .tooManyRequests)
            // A name that does not exist is answered the same way, so answers do not tell which names exist.
            var unknown: [HTTPResponse.Status] = []
            var known: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                unknown.append(try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "nobody-here", "password": "guess"}"#).status)
                known.append(try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "bob", "password": "guess"}"#).status)
            }
            #expect(unknown == known, "\(unknown) vs \(known)")
            #expect(unknown.last == .tooManyRequests)
        }
    }

    @Test func onlyOwnersAndAdminsChangeProjectsRunsAndRules() async throws {
        try await withServer { s in
            #expect(
                try await s.call(
                    .post, "/api/v1/auth/register", token: s.admin,
                    json: #"{"username": "carl", "password": "password-carl", "role": "user"}"#
                ).status == .created)
            let carl = try await s.login("carl", "password-carl")
            let project = try #require(
                try s.object(try await s.call(.post, "/api/v1/projects", token: s.user, json: #"{"name": "bobs"}"#))["id"] as? String)
            #expect(try await s.call(.delete, "/api/v1/projects/\(project)", token: carl).status == .forbidden)
            #expect(
                try await s.call(
                    .post, "/api/v1/projects/\(project)/pipelines", token: carl,
                    json: #"{"name": "x", "content": "steps: []"}"#
                ).status == .forbidden)
            #expect(try await s.call(.delete, "/api/v1/projects/\(project)", token: s.admin).status == .noContent)

            let run = try #require(try s.object(try await s.call(.post, "/api/v1/demo", token: s.user))["run_id"] as? String)
            _ = try await s.finishedRun(run)
            #expect(try await s.call(.delete, "/api/v1/migrations/\(run)", token: carl).status == .forbidden)
            #expect(try await s.call(.post, "/api/v1/migrations/\(run)/resume", token: carl).status == .forbidden)
            #expect(try await s.call(.delete, "/api/v1/migrations/\(run)", token: s.user).status == .noContent)

            let rule = try s.object(try await s.call(.post, "/api/v1/rules", token: s.user, json: #"{"name": "r", "sql": "SELECT 1 WHERE 1 = 0"}"#))
            // A rule is known by its name: another user cannot replace it, its owner and admins make new versions.
            #expect(
                try await s.call(.post, "/api/v1/rules", token: carl, json: #"{"name": "r", "sql": "SELECT 2 WHERE 1 = 0"}"#).status == .forbidden)
            let second = try s.object(
                try await s.call(.post, "/api/v1/rules", token: s.user, json: #"{"name": "r", "sql": "SELECT 2 WHERE 1 = 0", "category": "qa"}"#))
            #expect(second["version"] as? Int == 2 && second["category"] as? String == "qa", "\(second)")
            let third = try s.object(try await s.call(.post, "/api/v1/rules", token: s.admin, json: #"{"name": "r", "sql": "SELECT 1 WHERE 1 = 0"}"#))
            #expect(third["version"] as? Int == 3 && third["created_by"] as? String == "bob" && third["updated_by"] as? String == "ada", "\(third)")
            let versions = try s.list(try await s.call(.get, "/api/v1/rules/history?name=r", token: carl))
            #expect(versions.compactMap { $0["version"] as? Int } == [3, 2, 1])
            #expect(try s.list(try await s.call(.get, "/api/v1/rules", token: carl)).filter { $0["name"] as? String == "r" }.count == 1)
            #expect(try await s.call(.get, "/api/v1/rules/history?name=nope", token: carl).status == .notFound)
            let hash = try #require(third["content_hash"] as? String)
            #expect(try await s.call(.delete, "/api/v1/rules/\(hash)", token: carl).status == .forbidden)
            #expect(try await s.call(.delete, "/api/v1/rules/\(hash)", token: s.user).status == .noContent)
        }
    }

    @Test func limitsOnBodiesTokensAndAnonymousCallers() async throws {
        try await withServer { s in
            let big = "{\"name\": \"" + String(repeating: "x", count: 5 * 1024 * 1024) + "\"}"
            let tooLarge = try await s.call(.post, "/api/v1/projects", token: s.user, json: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try s.errorMessage(tooLarge).contains("MB"))
            // The session token works in the Authorization header only, except on the event streams.
            #expect(try await s.call(.get, "/api/v1/auth/me?access_token=\(s.user)").status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/events?run=none&after=0&access_token=\(s.user)").status == .notFound, "signed in, no such run")
            // Anonymous callers cannot make the server connect anywhere; viewers cannot either.
            #expect(try await s.call(.get, "/api/v1/connections?check=true", token: s.viewer).status == .forbidden)
            #expect(!String(buffer: try await s.call(.get, "/health?check=true").body).contains("broken"))
            // An unsigned token ("alg": "none") is no token.
            let header = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
            let claims = Base64URL.encode(Data(#"{"sub":"ada","iat":0,"exp":9999999999}"#.utf8))
            #expect(try await s.call(.get, "/api/v1/users", token: header + "." + claims + ".").status == .unauthorized)
            // A rule with a threshold nobody understands is refused when added, not when it crashes a run.
            let rule = try await s.call(.post, "/api/v1/rules", token: s.user, json: #"{"name": "r", "sql": "SELECT 1", "warn_if": "lots"}"#)
            #expect(rule.status == .badRequest)
        }
    }

    /// Rules are queries: their SQL runs read-only, so it cannot smuggle in a second statement.
    @Test func aRuleCannotWrite() async throws {
        try await withServer { s in
            let sneaky = #"{"name": "sneaky", "sql": "SELECT 1) x; DELETE FROM Genre; SELECT * FROM (SELECT 1"}"#
            #expect(try await s.call(.post, "/api/v1/rules", token: s.user, json: sneaky).status == .created)
            let ran = try s.object(try await s.call(.post, "/api/v1/rules/run", token: s.user, json: #"{"target": "chinook", "names": ["sneaky"]}"#))
            #expect((ran["results"] as? [[String: Any]])?.first?["status"] as? String == "failed")
            // Nor can a pipeline's custom_sql step.
            let pipeline = "steps:\n  - { check: custom_sql, table: Genre, sql: \"SELECT 1; DELETE FROM Genre\" }\n"
            let body = String(decoding: try JSONEncoder().encode(["source": "chinook", "target": "chinook", "pipeline": pipeline]), as: UTF8.self)
            let started = try await s.call(.post, "/api/v1/validations", token: s.user, json: body)
            let run = try #require(try s.object(started)["run_id"] as? String, "\(String(buffer: started.body))")
            _ = try await s.finishedRun(run)
            let results = try s.object(try await s.call(.get, "/api/v1/validations/\(run)", token: s.viewer))["results"] as? [[String: Any]]
            #expect(results?.first?["status"] as? String == "failed")
            let count = try await s.call(
                .post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "SELECT count(*) FROM Genre"}"#)
            #expect((try s.object(count)["rows"] as? [[String?]])?.first?.first == "25")
        }
    }

    @Test func theSQLRunnerOnSQLiteOnlyReads() async throws {
        try await withServer { s in
            for sql in [
                "ATTACH DATABASE '\(s.directory)/store.db' AS s", "PRAGMA query_only = 0", "DELETE FROM Genre", "CREATE TABLE x (a)",
                "SELECT load_extension('x')", "SELECT 1; DELETE FROM Genre",
            ] {
                let answer = try await s.call(
                    .post, "/api/v1/sql", token: s.user,
                    json: #"{"connection": "chinook", "sql": \#(String(decoding: try JSONEncoder().encode(sql), as: UTF8.self))}"#)
                #expect(answer.status == .forbidden, "\(sql): \(String(buffer: answer.body))")
            }
            let reads = try await s.call(
                .post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "SELECT name FROM pragma_table_info('Genre')"}"#)
            #expect(reads.status == .ok, "\(String(buffer: reads.body))")
            let count = try await s.call(
                .post, "/api/v1/sql", token: s.user, json: #"{"connection": "chinook", "sql": "SELECT count(*) FROM Genre"}"#)
            #expect((try s.object(count)["rows"] as? [[String?]])?.first?.first == "25")
        }
    }
}

/// The SQL runner against a real PostgreSQL: read-only whatever the statement, and never on a role
/// that can read the server's files unless an admin asks.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PostgresRunnerSecurityTests {
    @Test func readOnlyByConstructionAndTheRoleIsTheBoundary() async throws {
        try await TestEnvironment.withPostgresDatabase { pg in
            let role = "runner_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try await TestEnvironment.psql(
                pg,
                """
                CREATE SEQUENCE s; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);
                CREATE ROLE \(role) LOGIN PASSWORD 'runner-pw'; GRANT SELECT, INSERT, DELETE ON t TO \(role); GRANT USAGE, UPDATE ON SEQUENCE s TO \(role)
                """)
            defer { Task { try? await TestEnvironment.psql(try TestEnvironment.postgresURL(), "DROP ROLE IF EXISTS \(role)") } }
            let runner = "postgres://\(role):runner-pw@\(pg.host ?? "127.0.0.1"):\(pg.port ?? 5432)/\(pg.database)"
            try await withServer(connections: ["pgrunner": runner, "pgsuper": TestEnvironment.cliText(pg)]) { s in
                func sql(_ connection: String, _ text: String, token: String? = nil, write: Bool = false) async throws -> TestResponse {
                    let quoted = String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
                    return try await s.call(
                        .post, "/api/v1/sql", token: token ?? s.user,
                        json: #"{"connection": "\#(connection)", "sql": \#(quoted), "write": \#(write)}"#)
                }
                let setval = try await sql("pgrunner", "SELECT setval('s', 99)")
                #expect(setval.status == .forbidden, "\(String(buffer: setval.body))")
                _ = try await sql("pgrunner", "SELECT lo_from_bytea(0, 'x')")
                for statement in [
                    "DELETE FROM t", "SELECT 1; DELETE FROM t", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                    "SELECT 1) x; DELETE FROM t; SELECT * FROM (SELECT 1",
                ] {
                    let answer = try await sql("pgrunner", statement)
                    #expect(answer.status != .ok, "\(statement)")
                }
                let files = try await sql("pgrunner", "SELECT pg_read_file('/etc/hostname')")
                #expect(files.status != .ok)
                let superuser = try await sql("pgsuper", "SELECT pg_read_file('/etc/hostname')")
                #expect(try superuser.status == .forbidden && s.errorMessage(superuser).contains("superuser"))
                // What the role could do is said with every answer.
                let read = try await sql("pgrunner", "SELECT count(*) FROM t")
                #expect((try s.object(read)["rows"] as? [[String?]])?.first?.first == "3")
                #expect((try s.object(read)["warnings"] as? [String])?.contains { $0.contains("can write") } == true)
                // Nothing changed.
                let check = try await PostgresConnector(url: pg).execute(
                    "SELECT (SELECT count(*) FROM t), (SELECT last_value FROM s), (SELECT count(*) FROM pg_largeobject_metadata)")
                #expect(check.rows.first == [.text("3"), .text("1"), .text("0")])
                // An admin who asks to write, writes (and may use the superuser connection).
                let delete = try await sql("pgsuper", "DELETE FROM t WHERE id = 1", token: s.admin, write: true)
                #expect(try s.object(delete)["affected_rows"] as? Int == 1)
            }
        }
    }
}

/// Alerts: only admins write rules (channels are the config's, never a URL from a request), users
/// acknowledge and resolve, viewers read; bad input is a 400 that names the problem.
@Suite struct AlertRouteSecurityTests {
    @Test func rolesAndInputOfTheAlertRoutes() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            // The server's own pass (every 30 s by default) must not fire the alert before the admin's
            // evaluate does: on a loaded machine this test takes longer than 30 s.
            var setup = try await ServerSetup.make(in: dir)
            setup.config.alerts.interval = "1h"
            try await withServer(setup) { s in
                try await alertRoutes(s)
            }
        }
    }

    func alertRoutes(_ s: Session) async throws {
        let rule = #"{"name": "fails", "condition": "run_failed", "channels": ["console"], "severity": "critical"}"#
        #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.user, json: rule).status == .forbidden)
        #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.viewer, json: rule).status == .forbidden)
        #expect(try await s.call(.post, "/api/v1/alert-rules", json: rule).status == .unauthorized)
        for bad in [
            #"{"name": "x", "condition": "run_failed", "channels": ["http://evil.example/hook"]}"#,
            #"{"name": "x", "condition": "rm -rf", "channels": ["console"]}"#,
            #"{"name": "../x", "condition": "run_failed", "channels": ["console"]}"#,
            #"{"name": "x", "condition": "pass_rate_below", "threshold": 101, "channels": ["console"]}"#,
            #"{"name": "x", "condition": "run_failed", "channels": ["console"], "escalate_after": "soon"}"#,
            #"{"name": "x", "condition": "run_failed", "channels": []}"#,
        ] {
            let answer = try await s.call(.post, "/api/v1/alert-rules", token: s.admin, json: bad)
            #expect(answer.status == .badRequest, "\(bad): \(String(buffer: answer.body))")
        }
        #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.admin, json: rule).status == .created)
        #expect(try await s.list(try await s.call(.get, "/api/v1/alert-rules", token: s.viewer)).count == 1)

        // A failed run in the store; an admin evaluates now; the alert reaches everyone's notifications.
        let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: s.directory + "/store.db"))
        try await store.startRun(RunRecord(id: "20261129-000000-dead", kind: "migrate", source: nil, target: nil))
        try await store.finishRun(id: "20261129-000000-dead", status: .failed, summary: nil, error: "the target went away")
        #expect(try await s.call(.post, "/api/v1/alerts/evaluate", token: s.user).status == .forbidden)
        let outcome = try s.object(try await s.call(.post, "/api/v1/alerts/evaluate", token: s.admin))
        let fired = try #require((outcome["fired"] as? [[String: Any]])?.first)
        let id = try #require(fired["id"] as? String)
        let notes = try s.list(try await s.call(.get, "/api/v1/notifications", token: s.viewer))
        #expect(notes.contains { ($0["kind"] as? String) == "alert.fired" && ($0["title"] as? String)?.contains("20261129-000000-dead") == true })

        #expect(try await s.call(.post, "/api/v1/alerts/\(id)/acknowledge", token: s.viewer).status == .forbidden)
        #expect(try await s.call(.post, "/api/v1/alerts/al-none/acknowledge", token: s.user).status == .notFound)
        let acked = try await s.call(.post, "/api/v1/alerts/\(id)/acknowledge", token: s.user)
        #expect(try s.object(acked)["acknowledged_by"] as? String == "bob")
        #expect(try await s.call(.get, "/api/v1/alerts?state=bogus", token: s.viewer).status == .badRequest)
        let detail = try s.object(try await s.call(.get, "/api/v1/alerts/\(id)", token: s.viewer))
        #expect((detail["deliveries"] as? [[String: Any]])?.first?["status"] as? String == "delivered")
        #expect(try await s.call(.post, "/api/v1/alerts/\(id)/resolve", token: s.user).status == .ok)
        #expect(try await s.call(.post, "/api/v1/alerts/\(id)/resolve", token: s.user).status == .badRequest)
        #expect(try await s.call(.delete, "/api/v1/alert-rules/fails", token: s.user).status == .forbidden)
        #expect(try await s.call(.delete, "/api/v1/alert-rules/fails", token: s.admin).status == .noContent)
        #expect(try await s.call(.delete, "/api/v1/alert-rules/fails", token: s.admin).status == .notFound)
    }
}

/// Monitoring and ingestion health: viewers read, nobody signed out does; a connection that fails
/// says so without its password; ingestion rules need ingestion configured.
@Suite struct MonitoringRouteSecurityTests {
    @Test func monitoringAndIngestionHealthRoutes() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            // No ingestion configured.
            try await withServer(try await ServerSetup.make(in: dir)) { s in
                #expect(try await s.call(.get, "/api/v1/monitoring").status == .unauthorized)
                #expect(try await s.call(.get, "/api/v1/ingestion/health").status == .unauthorized)
                let summary = try s.object(try await s.call(.get, "/api/v1/monitoring", token: s.viewer))
                #expect(summary["ingestion_configured"] as? Bool == false && (summary["active_runs"] as? [Any])?.isEmpty == true)
                let none = try await s.call(.get, "/api/v1/ingestion/health", token: s.viewer)
                #expect(try none.status == .notFound && s.errorMessage(none).contains("no ingestion metadata"))
                let rule = #"{"name": "stale", "condition": "ingestion_stale", "channels": ["console"]}"#
                #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.admin, json: rule).status == .badRequest)
            }
        }
        try await TestEnvironment.withTemporaryDirectory { dir in
            // The latest workload import, for viewers; none yet is a 404 that says how to make one.
            let setup = try await ServerSetup.make(in: dir)
            try await withServer(setup) { s in
                #expect(try await s.call(.get, "/api/v1/workload").status == .unauthorized)
                let none = try await s.call(.get, "/api/v1/workload", token: s.viewer)
                #expect(try none.status == .notFound && s.errorMessage(none).contains("no workload"))
                let jobs = Jobs(store: setup.store, artifactsRoot: dir + "/runs", say: { _ in })
                try #"[{"query_sql_text": "SELECT * FROM a JOIN b ON b.id = a.b_id", "count_executions": 3, "avg_duration": 1000}]"#
                    .write(toFile: dir + "/qs.json", atomically: true, encoding: .utf8)
                _ = try await jobs.importWorkload(paths: [dir + "/qs.json"])
                let workload = try s.object(try await s.call(.get, "/api/v1/workload", token: s.viewer))
                #expect((workload["joins"] as? [[String: Any]])?.first?["left"] as? String == "a.b_id", "\(workload)")
                #expect((workload["tables"] as? [[String: Any]])?.count == 2)
            }
        }
        try await TestEnvironment.withTemporaryDirectory { dir in
            // Ingestion on an unreachable PostgreSQL with a password: a 502 that does not show it.
            var setup = try await ServerSetup.make(in: dir)
            setup.config.ingestion = .init(connection: "broken", pipelines: "metadata_config_table_elt")
            try await withServer(setup) { s in
                let answer = try await s.call(.get, "/api/v1/ingestion/health", token: s.viewer)
                #expect(answer.status == .badGateway, "\(String(buffer: answer.body))")
                #expect(!String(buffer: answer.body).contains("secretpw"))
            }
        }
        try await TestEnvironment.withTemporaryDirectory { dir in
            let metadata = try SQLiteSession(path: dir + "/meta.db", create: true)
            for statement in IngestionFixture.sql(now: Date()) { try metadata.executeScript(statement) }
            var setup = try await ServerSetup.make(in: dir)
            setup.config.ingestion = .init(
                connection: "sqlite:\(dir)/meta.db", pipelines: "metadata_config_table_elt", history: "elt_load_history",
                environment: "PROD")
            try await withServer(setup) { s in
                let health = try s.object(try await s.call(.get, "/api/v1/ingestion/health", token: s.viewer))
                let pipelines = try #require(health["pipelines"] as? [[String: Any]])
                #expect(pipelines.first { $0["name"] as? String == "raw.orders" }?["freshness"] as? String == "breached", "\(pipelines)")
                #expect(try await s.call(.get, "/api/v1/ingestion/health?fresh=maybe", token: s.viewer).status == .badRequest)
                #expect(try await s.call(.get, "/api/v1/ingestion/health?fresh=true", token: s.viewer).status == .ok)
                let rule = #"{"name": "stale", "condition": "ingestion_stale", "threshold": 0, "channels": ["console"]}"#
                #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.admin, json: rule).status == .badRequest)
                let good = #"{"name": "stale", "condition": "ingestion_stale", "scope": "raw.*", "channels": ["console"]}"#
                #expect(try await s.call(.post, "/api/v1/alert-rules", token: s.admin, json: good).status == .created)
                let outcome = try s.object(try await s.call(.post, "/api/v1/alerts/evaluate", token: s.admin))
                #expect(
                    (outcome["fired"] as? [[String: Any]])?.compactMap { $0["title"] as? String }.contains { $0.contains("raw.orders last loaded") }
                        == true, "\(outcome)")
                let summary = try s.object(try await s.call(.get, "/api/v1/monitoring", token: s.viewer))
                #expect(summary["alerts_firing"] as? Int == 1 && summary["ingestion_configured"] as? Bool == true, "\(summary)")
            }
        }
    }
}
