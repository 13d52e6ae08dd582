import Crypto
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import NIOCore

/// Validation runs: start one, read results, history and exports.
enum ValidationRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(
            .post, "/api/v1/validations", "Run a pipeline (or the row compare when none is given)", role: .user, action: "validation.start",
            body: StartValidation.self, answer: .json(RunStarted.self, status: .accepted)
        ) { request, context in
            var body = try await APIInput.body(request, as: StartValidation.self, context: context)
            // A project's run: its connections unless others are named, and the pipeline it names.
            var provenance: PipelineProvenance?
            var tolerances = Tolerances()
            if let projectID = body.project {
                let project = try await ProjectRoutes.find(projectID, store)
                tolerances = try ProjectSetup.tolerances(project)
                body.environment = body.environment ?? project.environment
                body.source = body.source ?? project.source
                body.target = body.target ?? project.target
                if let name = body.pipelineName {
                    guard body.pipeline == nil else { throw APIError(.badRequest, "send pipeline (YAML) or pipeline_name, one of the two") }
                    guard let saved = try await store.pipelines(projectID: project.id).first(where: { $0.name == name }) else {
                        throw APIError(.notFound, "project \(project.name) has no pipeline \(name)")
                    }
                    body.pipeline = saved.content
                    body.name = body.name ?? saved.name
                    provenance = PipelineProvenance(projectID: project.id, name: saved.name, hash: saved.contentHash, content: saved.content)
                } else if let text = body.pipeline {
                    provenance = PipelineProvenance(
                        projectID: project.id, name: body.name ?? "api", hash: Hex.encode(SHA256.hash(data: Data(text.utf8))), content: text)
                }
            } else if body.pipelineName != nil {
                throw APIError(.badRequest, "pipeline_name names a pipeline of a project: send project too")
            }
            guard let sourceName = body.source, let targetName = body.target else {
                throw APIError(.badRequest, "say which connections to compare: source and target (or a project that has them)")
            }
            let source = try await state.connections.resolve(sourceName, for: context.caller)
            let target = try await state.connections.resolve(targetName, for: context.caller)
            let config = state.config
            var kept = body
            kept.source = ConnectionGate.shown(sourceName)
            kept.target = ConnectionGate.shown(targetName)
            let request = String(decoding: try JSON.encoder.encode(kept), as: UTF8.self)
            let tables = body.tables ?? []
            let environment = body.environment
            if let environment { _ = try config.environment(named: environment) }  // a 400 now, not a run that fails
            let id: String
            if let text = body.pipeline {
                let pipeline = try Pipeline.parse(text, name: body.name ?? "api")
                id = try await state.jobs.start(by: context.caller, request: request) { [provenance, tolerances] jobs in
                    _ = try await jobs.runPipeline(
                        pipeline, source: source, target: target, config: config, provenance: provenance, environment: environment,
                        tolerances: tolerances)
                }
            } else {
                id = try await state.jobs.start(by: context.caller, request: request) { jobs in
                    _ = try await jobs.validate(source: source, target: target, scope: Scope(tables: tables), config: config)
                }
            }
            return try JSON.response(RunStarted(runId: id), status: .accepted)
        }
        routes.add(
            .get, "/api/v1/failure-snapshots", "Failing rows imported from <suite>_failures_YYYY-MM-DD.csv files, newest date first",
            role: .viewer, answer: .json([FailureSnapshotRecord].self, status: .ok),
            query: [.init(name: "suite", kind: .string, description: "only this suite")]
        ) { request, _ in
            try JSON.response(try await store.failureSnapshots(suite: try request.query("suite")))
        }
        routes.add(
            .get, "/api/v1/failure-snapshots/:suite/:date", "One suite's failing rows of one date, as the CSV imported", role: .viewer,
            answer: .content(["text/csv"])
        ) { _, context in
            let suite = try context.require("suite"), date = try context.require("date")
            guard let (_, content) = try await store.failureSnapshot(suite: suite, dataDate: date) else {
                throw APIError(.notFound, "no failing rows of \(suite) on \(date)", hint: "GET /api/v1/failure-snapshots lists them")
            }
            let file = "\(suite)_failures_\(date).csv".replacingOccurrences(of: #"[^A-Za-z0-9._-]"#, with: "_", options: .regularExpression)
            return Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(file)\""],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: content)))
        }
        routes.add(
            .get, "/api/v1/validations", "Validation runs, newest first", role: .viewer, answer: .json([ValidationRunRecord].self, status: .ok),
            query: [.limit(default: 50)]
        ) { request, _ in
            try JSON.response(try await store.validationRuns(limit: try request.integer("limit", default: 50, in: 1...1000)))
        }
        routes.add(
            .get, "/api/v1/validations/history", "One table's results across runs, with its pass-rate trend", role: .viewer,
            answer: .json(History.self, status: .ok),
            query: [.init(name: "table", kind: .string, description: "schema.name or name", required: true), .limit(default: 100)]
        ) { request, _ in
            guard let table = try request.query("table"), !table.isEmpty else { throw APIError(.badRequest, "say which table: ?table=schema.name") }
            let results = try await store.validationHistory(table: table, limit: try request.integer("limit", default: 100, in: 1...1000))
            return try JSON.response(History(table: table, results: results))
        }
        routes.add(
            .get, "/api/v1/validations/:id", "A validation run and its results", role: .viewer, answer: .json(ValidationDetail.self, status: .ok)
        ) { _, context in
            let id = try context.require("id")
            var found = try await store.validationRun(id: id)
            if found == nil { found = try await runAsValidation(id, store) }
            guard let run = found else {
                throw APIError(.notFound, "no validation run \(id)", hint: "GET /api/v1/validations lists them")
            }
            return try JSON.response(ValidationDetail(run: run, results: try await store.validationResults(runID: id)))
        }
        routes.add(
            .get, "/api/v1/validations/:id/export", "Export a run's results: format=json|md|html|junit|xlsx|pdf", role: .viewer,
            answer: .content([
                "application/json", "text/markdown", "text/html", "application/xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf",
            ]),
            query: [
                .init(
                    name: "format", kind: .string, description: "json (default), md, html, junit, xlsx or pdf (needs Chromium on the server)",
                    values: ["json", "md", "markdown", "html", "junit", "xml", "xlsx", "pdf"])
            ]
        ) { request, context in
            let id = try context.require("id")
            if try await store.validationRun(id: id) == nil { _ = try await MigrationRoutes.run(id, store) }  // imported runs have no run record
            let format = try request.query("format") ?? "json"
            guard ["json", "md", "markdown", "html", "junit", "xml", "xlsx", "pdf"].contains(format) else {
                throw APIError(.badRequest, "format \(format.prefix(40)) is not one of json, md, html, junit, xlsx, pdf")
            }
            let report = try await RunReport.build(runID: id, store: store)
            if format == "pdf" {
                guard PDFPrinter.browser != nil else {
                    throw APIError(
                        .serviceUnavailable, "PDF export needs Chromium on the server", hint: "install it there, or export format=html and print that"
                    )
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/pdf", .contentDisposition: "attachment; filename=\"report-\(id).pdf\""],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await PDFPrinter.pdf(html: try report.html))))
            }
            if format == "xlsx" {
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        .contentDisposition: "attachment; filename=\"report-\(id).xlsx\"",
                    ],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try report.redactedWorkbook.data())))
            }
            let (type, body): (String, String) =
                switch format {
                case "md", "markdown": ("text/markdown; charset=utf-8", report.markdown)
                case "html": ("text/html; charset=utf-8", try report.html)
                case "junit", "xml": ("application/xml", report.junit)
                default: ("application/json", String(decoding: try JSON.encoder.encode(report), as: UTF8.self))
                }
            return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func runAsValidation(_ id: String, _ store: any MetadataStore) async throws -> ValidationRunRecord? {
        guard let run = try await store.run(id: id), ["validate", "pipeline", "rules"].contains(run.kind) else { return nil }
        return ValidationRunRecord(
            id: run.id, suite: run.kind, source: run.source, target: run.target, startedAt: run.startedAt, status: run.status.rawValue)
    }
}
