import CutoverCore
import CutoverEngine
import CutoverStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOCore

/// The REST API under /api/v1. Each route states its role; mutating routes are audited.
enum Routes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store

        // MARK: Health and OpenAPI
        routes.add(.get, "/health", "Store and configured connections", role: nil) { request, _ in
            let version = try await store.schemaVersion()
            var connections: [[String: String]] = []
            for (name, raw) in state.config.connections.sorted(by: { $0.key < $1.key }) {
                var entry = ["name": name, "url": Redaction.redact(raw)]
                if request.query("check") == "true" { entry["status"] = await Self.check(raw, config: state.config) }
                connections.append(entry)
            }
            return JSON.response(Health(status: "ok", store: .init(schemaVersion: version), connections: connections))
        }
        routes.add(.get, "/api/v1/openapi.json", "This API as OpenAPI 3.1", role: nil) { _, _ in
            let data = try JSONSerialization.data(withJSONObject: routes.openAPI(), options: [.sortedKeys, .withoutEscapingSlashes])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }

        // MARK: Auth
        routes.add(.post, "/api/v1/auth/register", "Create a user (admin only; open while there is no user yet)", role: nil, action: "user.register") { request, context in
            let body = try await JSON.body(request, as: Register.self, expected: #"{"username": "ada", "password": "at least 8 characters", "role": "user"}"#)
            let first = try await store.users().isEmpty
            if !first {
                guard let caller = context.user else { throw APIError(.unauthorized, "only an admin can add users", hint: "sign in as an admin") }
                guard caller.role == Role.admin.rawValue else { throw APIError(.forbidden, "only an admin can add users") }
            }
            guard body.username.range(of: #"^[A-Za-z0-9._@-]{2,64}$"#, options: .regularExpression) != nil else {
                throw APIError(.badRequest, "a user name is 2 to 64 letters, digits or . _ @ -")
            }
            guard body.password.count >= 8 else { throw APIError(.badRequest, "the password must have at least 8 characters") }
            let role = first ? Role.admin : (Role(rawValue: body.role ?? "user") ?? .user)
            guard Role(rawValue: body.role ?? role.rawValue) != nil else { throw APIError(.badRequest, "role must be admin, user or viewer") }
            let hash = try await Self.hash(body.password)
            try await store.saveUser(UserRecord(username: body.username, passwordHash: hash, role: role.rawValue))
            var response = JSON.response(PublicUser(try await store.user(username: body.username)!), status: .created)
            response.headers[.auditSubject] = body.username
            return response
        }
        routes.add(.post, "/api/v1/auth/login", "Sign in: a bearer token", role: nil, action: "user.login") { request, _ in
            let body = try await JSON.body(request, as: Login.self, expected: #"{"username": "ada", "password": "…"}"#)
            return try await Self.login(body, state: state)
        }
        routes.add(.get, "/api/v1/auth/me", "The signed-in user", role: .viewer) { _, context in JSON.response(PublicUser(context.user!)) }
        routes.add(.post, "/api/v1/auth/tokens", "Create a personal API token for scripts (shown once)", role: .viewer, action: "token.create") { request, context in
            let body = try await JSON.body(request, as: NewToken.self, expected: #"{"name": "ci", "expires_in_days": 90}"#)
            guard !body.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw APIError(.badRequest, "a token needs a name") }
            let secret = APITokens.newSecret()
            let expires = body.expiresInDays.map { ISOTime.string(Date().addingTimeInterval(TimeInterval($0) * 86400)) }
            let record = APITokenRecord(userID: context.user!.id, name: body.name, tokenHash: APITokens.hash(secret), expiresAt: expires)
            try await store.saveAPIToken(record)
            return JSON.response(CreatedToken(id: record.id, name: record.name, token: secret, expiresAt: expires), status: .created, redact: false)
        }
        routes.add(.get, "/api/v1/auth/tokens", "My API tokens (never their secrets)", role: .viewer) { _, context in
            JSON.response(try await store.apiTokens(userID: context.user!.id).map(PublicToken.init))
        }
        routes.add(.delete, "/api/v1/auth/tokens/:id", "Revoke one of my API tokens", role: .viewer, action: "token.revoke") { _, context in
            guard try await store.revokeAPIToken(id: try context.require("id"), userID: context.user!.id) else {
                throw APIError(.notFound, "you have no live token with that id")
            }
            return Response(status: .noContent)
        }
        routes.add(.get, "/api/v1/users", "Users", role: .admin) { _, _ in JSON.response(try await store.users().map(PublicUser.init)) }

        routes.add(.get, "/api/v1/environments", "Environments from cutover.yml (for templated SQL)", role: .viewer) { _, _ in
            JSON.response(EnvironmentList(default: state.config.defaultEnvironment,
                                          environments: state.config.environments.sorted { $0.key < $1.key }.map {
                                              EnvironmentList.Item(name: $0.key, database: $0.value.database, schema: $0.value.schema)
                                          }))
        }

        // MARK: Connections
        routes.add(.get, "/api/v1/connections", "Connections from cutover.yml (passwords masked)", role: .viewer) { _, _ in
            JSON.response(state.config.connections.sorted { $0.key < $1.key }.map { ["name": $0.key, "url": Redaction.redact($0.value)] })
        }
        routes.add(.post, "/api/v1/connections/test", "Connect to a URL or named connection", role: .user, action: "connection.test") { request, _ in
            let body = try await JSON.body(request, as: ConnectionTest.self, expected: #"{"connection": "warehouse or postgres://…"}"#)
            let status = await Self.check(body.connection, config: state.config)
            return JSON.response(["connection": Redaction.redact(body.connection), "status": status], status: status == "ok" ? .ok : .badGateway)
        }

        // MARK: Migrations
        routes.add(.post, "/api/v1/migrations", "Start a migration (plan, move, validate)", role: .user, action: "migration.start") { request, _ in
            let body = try await JSON.body(request, as: StartMigration.self, expected: #"{"source": "…", "target": "…", "mode": "copy", "tables": ["a"]}"#)
            let source = try state.config.resolveConnection(body.source)
            let target = try state.config.resolveConnection(body.target)
            guard let mode = MoveOptions.Mode(rawValue: body.mode ?? "copy") else {
                throw APIError(.badRequest, "mode must be one of " + MoveOptions.Mode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let options = MoveOptions(mode: mode, replace: body.replace ?? false, parallel: max(1, body.parallel ?? 2))
            let scope = Scope(tables: body.tables ?? [])
            let id = try await state.start { jobs in
                _ = try await jobs.migrate(source: source, target: target, scope: scope, config: state.config, options: options, validate: body.validate ?? true)
            }
            return JSON.response(["run_id": id], status: .accepted)
        }
        routes.add(.post, "/api/v1/demo", "Start the demo: sample data in SQLite, migrated and validated", role: .user, action: "migration.demo") { _, _ in
            let directory = (state.artifactsRoot as NSString).deletingLastPathComponent + "/demo"
            let id = try await state.start { jobs in _ = try await Demo(directory: directory, jobs: jobs).run() }
            return JSON.response(["run_id": id], status: .accepted)
        }
        routes.add(.get, "/api/v1/migrations", "Migrations, newest first", role: .viewer) { request, _ in
            let limit = Int(request.query("limit") ?? "") ?? 50
            return JSON.response(try await store.runs(limit: limit * 4).filter { ["migrate", "demo"].contains($0.kind) }.prefix(limit).map { $0 })
        }
        routes.add(.get, "/api/v1/migrations/:id", "A migration: status per table and chunk", role: .viewer) { _, context in
            JSON.response(try await Self.progress(try await Self.run(try context.require("id"), store), store: store))
        }
        routes.add(.get, "/api/v1/migrations/:id/logs", "A run's log lines (after=ID for the next page)", role: .viewer) { request, context in
            let run = try await Self.run(try context.require("id"), store)
            let lines = try await store.logs(runID: run.id, afterID: Int64(request.query("after") ?? "") ?? 0, limit: 500)
            return JSON.response(lines.map { LogLine(id: $0.id, entry: $0.entry) })
        }
        routes.add(.get, "/api/v1/migrations/:id/artifacts", "A run's artifact files", role: .viewer) { _, context in
            let run = try await Self.run(try context.require("id"), store)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: run.artifactsDir ?? "")) ?? []
            return JSON.response(files.sorted().map { name -> Artifact in
                let size = (try? FileManager.default.attributesOfItem(atPath: (run.artifactsDir! as NSString).appendingPathComponent(name))[.size] as? Int) ?? 0
                return Artifact(name: name, bytes: size, url: "/api/v1/migrations/\(run.id)/artifacts/\(name)")
            })
        }
        routes.add(.get, "/api/v1/migrations/:id/artifacts/:name", "Download one artifact", role: .viewer) { _, context in
            let run = try await Self.run(try context.require("id"), store)
            let name = try context.require("name")
            guard name.range(of: #"^[A-Za-z0-9._-]+$"#, options: .regularExpression) != nil, !name.hasPrefix("."), let directory = run.artifactsDir,
                  let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)) else {
                throw APIError(.notFound, "run \(run.id) has no artifact \(name)", hint: "GET /api/v1/migrations/\(run.id)/artifacts lists them")
            }
            let type = name.hasSuffix(".json") ? "application/json" : name.hasSuffix(".html") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8"
            return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(name)\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(Redaction.redact(String(decoding: data, as: UTF8.self)).utf8))))
        }
        routes.add(.post, "/api/v1/migrations/:id/cancel", "Stop a running migration after the chunks in flight", role: .user, action: "migration.cancel") { _, context in
            let run = try await Self.run(try context.require("id"), store)
            guard run.status == "running" else { throw APIError(.conflict, "run \(run.id) is \(run.status), not running") }
            try await store.setRunStatus(id: run.id, status: "cancelling")
            return JSON.response(["run_id": run.id, "status": "cancelling"], status: .accepted)
        }
        routes.add(.delete, "/api/v1/migrations/:id", "Delete a finished run with its records and artifacts", role: .user, action: "migration.delete") { _, context in
            let run = try await Self.run(try context.require("id"), store)
            guard !["running", "cancelling"].contains(run.status) else { throw APIError(.conflict, "run \(run.id) is still \(run.status)", hint: "cancel it first") }
            try await store.deleteRun(id: run.id)
            if let directory = run.artifactsDir { try? FileManager.default.removeItem(atPath: directory) }
            return Response(status: .noContent)
        }

        // MARK: Validations
        routes.add(.post, "/api/v1/validations", "Run a pipeline (or the row compare when none is given)", role: .user, action: "validation.start") { request, _ in
            let body = try await JSON.body(request, as: StartValidation.self, expected: #"{"source": "…", "target": "…", "pipeline": "steps: …"}"#)
            let source = try state.config.resolveConnection(body.source)
            let target = try state.config.resolveConnection(body.target)
            let id: String
            if let text = body.pipeline {
                let pipeline = try Pipeline.parse(text, name: body.name ?? "api")
                id = try await state.start { jobs in _ = try await jobs.runPipeline(pipeline, source: source, target: target, config: state.config) }
            } else {
                id = try await state.start { jobs in
                    _ = try await jobs.validate(source: source, target: target, scope: Scope(tables: body.tables ?? []), config: state.config)
                }
            }
            return JSON.response(["run_id": id], status: .accepted)
        }
        routes.add(.get, "/api/v1/validations", "Validation runs, newest first", role: .viewer) { request, _ in
            JSON.response(try await store.validationRuns(limit: Int(request.query("limit") ?? "") ?? 50))
        }
        routes.add(.get, "/api/v1/validations/history", "One table's results across runs, with its pass-rate trend", role: .viewer) { request, _ in
            guard let table = request.query("table") else { throw APIError(.badRequest, "say which table: ?table=schema.name") }
            let results = try await store.validationHistory(table: table, limit: Int(request.query("limit") ?? "") ?? 100)
            return JSON.response(History(table: table, results: results))
        }
        routes.add(.get, "/api/v1/validations/:id", "A validation run and its results", role: .viewer) { _, context in
            let id = try context.require("id")
            var found = try await store.validationRun(id: id)
            if found == nil { found = try await Self.runAsValidation(id, store) }
            guard let run = found else {
                throw APIError(.notFound, "no validation run \(id)", hint: "GET /api/v1/validations lists them")
            }
            return JSON.response(ValidationDetail(run: run, results: try await store.validationResults(runID: id)))
        }
        routes.add(.get, "/api/v1/validations/:id/export", "Export a run's results: format=json|md|html|junit|xlsx", role: .viewer) { request, context in
            let id = try context.require("id")
            _ = try await Self.run(id, store)
            let report = try await RunReport.build(runID: id, store: store)
            let format = request.query("format") ?? "json"
            if format == "xlsx" {
                return Response(status: .ok, headers: [.contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                                       .contentDisposition: "attachment; filename=\"report-\(id).xlsx\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try report.redactedWorkbook.data())))
            }
            let (type, body): (String, String) = switch format {
            case "md", "markdown": ("text/markdown; charset=utf-8", report.markdown)
            case "html": ("text/html; charset=utf-8", report.html)
            case "junit", "xml": ("application/xml", report.junit)
            case "json": ("application/json", String(decoding: try JSON.encoder.encode(report), as: UTF8.self))
            default: throw APIError(.badRequest, "format \(format) is not one of json, md, html, junit, xlsx")
            }
            return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(Redaction.redact(body).utf8))))
        }

        // MARK: Overview
        routes.add(.get, "/api/v1/overview", "KPIs, recent runs, monthly pass-rate trend, recent failures", role: .viewer) { _, _ in
            let overview = try await store.monthlyOverview(maxAge: 600, refresh: false)
            let failures = try await store.recentFailures(limit: 10, ttl: 60)
            return JSON.response(Overview(months: overview.months, servedFrom: overview.servedFrom, recentRuns: try await store.runs(limit: 10),
                                          recentFailures: failures.failures))
        }

        // MARK: Projects
        routes.add(.get, "/api/v1/projects", "Projects", role: .viewer) { _, _ in JSON.response(try await store.projects()) }
        routes.add(.post, "/api/v1/projects", "Create a project", role: .user, action: "project.create") { request, context in
            let body = try await JSON.body(request, as: NewProject.self, expected: #"{"name": "warehouse", "source": "…", "target": "…"}"#)
            guard !body.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw APIError(.badRequest, "a project needs a name") }
            let project = ProjectRecord(name: body.name, description: body.description, source: body.source, target: body.target, createdBy: context.user?.username)
            try await store.saveProject(project)
            return JSON.response(project, status: .created)
        }
        routes.add(.get, "/api/v1/projects/:id", "A project with its pipelines", role: .viewer) { _, context in
            let id = try context.require("id")
            let project = try await Self.project(id, store)
            return JSON.response(ProjectDetail(project: project, pipelines: try await store.pipelines(projectID: id)))
        }
        routes.add(.post, "/api/v1/projects/:id/pipelines", "Add or replace a pipeline of a project", role: .user, action: "pipeline.save") { request, context in
            let id = try context.require("id")
            _ = try await Self.project(id, store)
            let body = try await JSON.body(request, as: NewPipeline.self, expected: #"{"name": "nightly", "content": "steps: …"}"#)
            _ = try Pipeline.parse(body.content, name: body.name)
            let record = PipelineRecord(projectID: id, name: body.name, content: body.content, contentHash: Hex.encode(SHA256.hash(data: Data(body.content.utf8))))
            try await store.savePipeline(record)
            return JSON.response(record, status: .created)
        }
        routes.add(.post, "/api/v1/projects/:id/auto-setup", "Read both sides and propose table and column mappings with confidences",
                   role: .user, action: "project.auto_setup") { _, context in
            let id = try context.require("id")
            var project = try await Self.project(id, store)
            guard let source = project.source, let target = project.target else {
                throw APIError(.badRequest, "project \(project.name) needs a source and a target first")
            }
            let scope = Scope(exactCounts: false)
            async let sourceCatalog = Connectors.connect(try state.config.resolveConnection(source), role: .source).catalog(scope)
            async let targetCatalog = Connectors.connect(try state.config.resolveConnection(target), role: .source).catalog(scope)
            let proposal = ProjectSetup.propose(source: try await sourceCatalog, target: try await targetCatalog)
            project.settings = String(decoding: try JSON.encoder.encode(["mappings": proposal]), as: UTF8.self)
            try await store.saveProject(project)
            return JSON.response(proposal)
        }
        routes.add(.delete, "/api/v1/projects/:id", "Delete a project and its pipelines", role: .user, action: "project.delete") { _, context in
            let id = try context.require("id")
            guard try await store.deleteProject(id: id) else { throw APIError(.notFound, "no project \(id)") }
            return Response(status: .noContent)
        }

        // MARK: Rules
        routes.add(.get, "/api/v1/rules", "The rulebook", role: .viewer) { _, _ in JSON.response(try await store.rules()) }
        routes.add(.post, "/api/v1/rules", "Add a rule (stored once by content hash)", role: .user, action: "rule.create") { request, _ in
            let rule = try await JSON.body(request, as: Rule.self, snakeCase: false, expected: #"{"name": "no negative totals", "sql": "SELECT …", "severity": "error"}"#)
            let added = try await store.saveRules([rule.stored])
            return JSON.response(rule.stored, status: added == 1 ? .created : .ok)
        }
        routes.add(.delete, "/api/v1/rules/:hash", "Delete a rule", role: .user, action: "rule.delete") { _, context in
            let hash = try context.require("hash")
            guard try await store.deleteRule(contentHash: hash) else { throw APIError(.notFound, "no rule with hash \(hash)") }
            return Response(status: .noContent)
        }
        routes.add(.post, "/api/v1/rules/run", "Run the rulebook (or the named rules) on source and/or target", role: .user, action: "rule.run") { request, _ in
            let body = try await JSON.body(request, as: RunRules.self, expected: #"{"target": "…", "environment": "PROD", "names": ["…"]}"#)
            let rules = try await store.rules().filter { body.names == nil || body.names!.contains($0.name) }.map(Rule.init(stored:))
            guard !rules.isEmpty else { throw APIError(.badRequest, "no rules to run", hint: "add rules with POST /api/v1/rules") }
            let jobs = Jobs(store: store, artifactsRoot: state.artifactsRoot, say: { _ in })
            let outcome = try await jobs.runRules(rules, source: try body.source.map { try state.config.resolveConnection($0) },
                                                  target: try body.target.map { try state.config.resolveConnection($0) }, config: state.config,
                                                  environment: body.environment)
            return JSON.response(RulesOutcome(runId: outcome.runID, results: outcome.results))
        }

        // MARK: SQL runner
        routes.add(.get, "/api/v1/queries", "The query library (queries: in cutover.yml)", role: .viewer) { _, _ in
            JSON.response(state.config.queries.sorted { $0.key < $1.key }.map { ["name": $0.key, "description": $0.value.description ?? "", "sql": $0.value.sql] })
        }
        routes.add(.post, "/api/v1/sql", "Run one query on a connection (read-only unless admin)", role: .user, action: "sql.run") { request, context in
            let body = try await JSON.body(request, as: RunSQL.self, expected: #"{"connection": "…", "sql": "SELECT …", "environment": "DEV"}"#)
            return try await SQLRunner.run(body, user: context.user!, config: state.config)
        }

        // MARK: Audit and notifications
        routes.add(.get, "/api/v1/audit", "Audit log: since, user, action, limit", role: .admin) { request, _ in
            JSON.response(try await store.auditEntries(since: request.query("since"), username: request.query("user"), action: request.query("action"),
                                                       limit: Int(request.query("limit") ?? "") ?? 200))
        }
        routes.add(.get, "/api/v1/audit/stats", "Audit entries per action and outcome", role: .admin) { request, _ in
            JSON.response(try await store.auditStats(since: request.query("since")).map { AuditCount(action: $0.action, outcome: $0.outcome, count: $0.count) })
        }
        routes.add(.get, "/api/v1/notifications", "Notifications for me (unread=true for the unread ones)", role: .viewer) { request, context in
            JSON.response(try await store.notifications(username: context.user?.username, unreadOnly: request.query("unread") == "true", limit: 100))
        }
        routes.add(.post, "/api/v1/notifications/:id/read", "Mark a notification read", role: .viewer, action: "notification.read") { _, context in
            guard let id = Int64(try context.require("id")) else { throw APIError(.badRequest, "a notification id is a number") }
            try await store.markNotificationRead(id: id)
            return Response(status: .noContent)
        }

        // MARK: Events
        routes.add(.get, "/api/v1/events", "Server-Sent Events of a run (run=ID) or of every run", role: .viewer) { request, _ in
            EventStream.response(store: store, runID: request.query("run"), after: Int64(request.query("after") ?? "") ?? 0)
        }
        routes.add(.get, "/api/v1/events/ws", "The same events over a WebSocket (run=ID&access_token=TOKEN)", role: .viewer) { _, _ in
            throw APIError(.upgradeRequired, "this route speaks WebSocket", hint: "connect with ws://…/api/v1/events/ws?run=ID&access_token=TOKEN")
        }
    }

    // MARK: Helpers

    static func run(_ id: String, _ store: any MetadataStore) async throws -> RunRecord {
        guard let run = try await store.run(id: id) else { throw APIError(.notFound, "no run \(id)", hint: "GET /api/v1/migrations lists runs") }
        return run
    }

    static func project(_ id: String, _ store: any MetadataStore) async throws -> ProjectRecord {
        guard let project = try await store.projects().first(where: { $0.id == id }) else {
            throw APIError(.notFound, "no project \(id)", hint: "GET /api/v1/projects lists them")
        }
        return project
    }

    static func runAsValidation(_ id: String, _ store: any MetadataStore) async throws -> ValidationRunRecord? {
        guard let run = try await store.run(id: id), ["validate", "pipeline", "rules"].contains(run.kind) else { return nil }
        return ValidationRunRecord(id: run.id, suite: run.kind, source: run.source, target: run.target, startedAt: run.startedAt, status: run.status)
    }

    static func progress(_ run: RunRecord, store: any MetadataStore) async throws -> Progress {
        let chunks = try await store.chunks(runID: run.id)
        let tables = try await store.tables(runID: run.id)
        var byTable: [String: Progress.Table] = [:]
        for chunk in chunks {
            var table = byTable[chunk.table] ?? Progress.Table(table: chunk.table)
            table.chunks += 1
            table.rows += chunk.rows ?? 0
            switch chunk.state {
            case .done: table.done += 1
            case .running: table.running += 1
            case .failed: table.failed += 1
            case .pending: table.pending += 1
            }
            byTable[chunk.table] = table
        }
        for record in tables {
            var table = byTable[record.table] ?? Progress.Table(table: record.table)
            table.status = record.status
            table.message = record.message
            byTable[record.table] = table
        }
        return Progress(run: run, tables: byTable.values.sorted { $0.table < $1.table })
    }

    static func check(_ connection: String, config: CutoverConfig) async -> String {
        do {
            _ = try await Connectors.connect(try config.resolveConnection(connection), role: .source)
            return "ok"
        } catch {
            return Redaction.redact((error as? CutoverError)?.message ?? "\(error)")
        }
    }

    static func hash(_ password: String) async throws -> String {
        try await BlockingIO.run { Bcrypt.hash(password, cost: 10) }
    }

    /// Wrong names and passwords get the same answer; each failure slows the next attempt, and five
    /// in a row lock the account for a while that doubles (30 s … 15 min).
    static func login(_ body: Login, state: ServerState) async throws -> Response {
        let store = state.store
        let now = Date()
        let user = try await store.user(username: body.username)
        if let until = user?.lockedUntil, let date = ISOTime.parse(until), date > now {
            let wait = Int(date.timeIntervalSince(now).rounded(.up))
            var response = JSONErrorMiddleware.response(.tooManyRequests, "too many failed sign-ins for \(body.username); try again in \(wait) s")
            response.headers[.retryAfter] = String(wait)
            response.headers[.auditSubject] = body.username
            return response
        }
        // Without the user, verify against a fixed hash anyway so both answers take as long.
        let stored = user?.passwordHash ?? "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.0ZEvcCnFXRpgMlE3qJ5iPqsYlqWu"
        let matches = try await BlockingIO.run { Bcrypt.verify(body.password, hash: stored) }
        guard var user, matches else {
            if var user {
                user.failedLogins += 1
                if user.failedLogins >= 5 {
                    let seconds = min(900, 30 * pow(2, Double(user.failedLogins - 5)))
                    user.lockedUntil = ISOTime.string(now.addingTimeInterval(seconds))
                }
                try await store.saveUser(user)
                try await Task.sleep(nanoseconds: UInt64(min(user.failedLogins, 5)) * 200_000_000)
            }
            throw APIError(.unauthorized, "wrong user name or password", subject: body.username)
        }
        user.failedLogins = 0
        user.lockedUntil = nil
        user.lastLoginAt = ISOTime.now()
        try await store.saveUser(user)
        let (token, expires) = try state.signer.token(username: user.username, role: user.role)
        var response = JSON.response(LoginAnswer(token: token, expiresAt: ISOTime.string(expires), user: PublicUser(user)), redact: false)
        response.headers[.auditSubject] = user.username
        return response
    }
}

extension Rule {
    init(stored: StoredRule) {
        self.init(name: stored.name, description: stored.description, severity: Severity(rawValue: stored.severity) ?? .error, sql: stored.sql,
                  warnIf: stored.warnIf, errorIf: stored.errorIf, side: Side(rawValue: stored.side) ?? .target)
    }
}
