import Crypto
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// Projects and their pipelines. Everyone reads them; their owner or an admin changes them.
enum ProjectRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(
            .get, "/api/v1/checks", "The checks a pipeline step can name, by category, with the fields each reads", role: .viewer,
            answer: .json([CheckDescription].self, status: .ok)
        ) { _, _ in
            try JSON.response(CheckRegistry.catalogue)
        }
        routes.add(.get, "/api/v1/projects", "Projects", role: .viewer, answer: .json([ProjectRecord].self, status: .ok)) { _, _ in
            try JSON.response(try await store.projects())
        }
        routes.add(
            .post, "/api/v1/projects", "Create a project", role: .user, action: "project.create", body: NewProject.self,
            answer: .json(ProjectRecord.self, status: .created)
        ) { request, context in
            let body = try await APIInput.body(request, as: NewProject.self, context: context)
            let name = body.name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 200 else { throw APIError(.badRequest, "a project needs a name of 1 to 200 characters") }
            // A project's connections must be ones its creator may use; they are kept masked.
            for reference in [body.source, body.target].compactMap({ $0 }) { _ = try await state.connections.resolve(reference, for: context.caller) }
            let project = ProjectRecord(
                name: name, description: body.description, source: body.source.map(ConnectionGate.shown),
                target: body.target.map(ConnectionGate.shown), createdBy: context.caller.username)
            try await store.saveProject(project)
            return try JSON.response(project, status: .created)
        }
        routes.add(.get, "/api/v1/projects/:id", "A project with its pipelines", role: .viewer, answer: .json(ProjectDetail.self, status: .ok)) {
            _, context in
            let project = try await find(try context.require("id"), store)
            return try JSON.response(ProjectDetail(project: project, pipelines: try await store.pipelines(projectID: project.id)))
        }
        routes.add(
            .post, "/api/v1/projects/:id/pipelines", "Add or replace a pipeline of a project (its owner or an admin)", role: .user,
            action: "pipeline.save", body: NewPipeline.self, answer: .json(PipelineRecord.self, status: .created)
        ) { request, context in
            let project = try await owned(try context.require("id"), by: context.caller, store)
            // Step keys are the YAML's (tolerance_percent), not converted from snake case.
            let body = try await APIInput.body(request, as: NewPipeline.self, context: context, snakeCase: false)
            let name = body.name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 200 else { throw APIError(.badRequest, "a pipeline needs a name of 1 to 200 characters") }
            let content: String
            switch (body.content, body.steps) {
            case (let text?, nil):
                content = text
            case (nil, let steps?):
                guard !steps.isEmpty else { throw APIError(.badRequest, "a pipeline needs at least one step") }
                if let parallel = body.parallel, !(1...32).contains(parallel) { throw APIError(.badRequest, "parallel is 1 to 32") }
                let pipeline = Pipeline(name: name, parallel: body.parallel, steps: steps)
                try pipeline.check(origin: "pipeline \(name)")
                content = try pipeline.yaml()
            default:
                throw APIError(.badRequest, "send the pipeline as content (YAML) or as steps, one of the two")
            }
            _ = try Pipeline.parse(content, name: name, origin: "pipeline \(name)")
            let record = PipelineRecord(
                projectID: project.id, name: name, content: content,
                contentHash: Hex.encode(SHA256.hash(data: Data(content.utf8))))
            try await store.savePipeline(record)
            return try JSON.response(record, status: .created)
        }
        routes.add(
            .post, "/api/v1/projects/:id/auto-setup",
            "Read both sides and propose table and column mappings with confidences (its owner or an admin)",
            role: .user, action: "project.auto_setup", answer: .json(ProjectSetup.Proposal.self, status: .ok)
        ) { _, context in
            var project = try await owned(try context.require("id"), by: context.caller, store)
            guard let sourceName = project.source, let targetName = project.target else {
                throw APIError(.badRequest, "project \(project.name) needs a source and a target first")
            }
            let jobs = state.jobs.jobs(for: context.caller)
            let source = try await state.connections.resolve(sourceName, for: context.caller)
            let target = try await state.connections.resolve(targetName, for: context.caller)
            let scope = Scope(exactCounts: false)
            async let sourceCatalog = jobs.connect(source, role: .source).catalog(scope)
            async let targetCatalog = jobs.connect(target, role: .source).catalog(scope)
            let proposal = ProjectSetup.propose(source: try await sourceCatalog, target: try await targetCatalog)
            project.settings = String(decoding: try JSON.encoder.encode(["mappings": proposal]), as: UTF8.self)
            try await store.saveProject(project)
            return try JSON.response(proposal)
        }
        routes.add(
            .post, "/api/v1/projects/:id/suggest",
            "Profile the project's source and suggest pipeline steps for its tables (accepted mappings only, once reviewed), with checks where the latest imported workload looks",
            role: .user, action: "project.suggest", answer: .json(SuggestedSteps.self, status: .ok)
        ) { _, context in
            let project = try await find(try context.require("id"), store)
            guard let sourceName = project.source, let targetName = project.target else {
                throw APIError(.badRequest, "project \(project.name) needs a source and a target first")
            }
            let source = try await state.connections.resolve(sourceName, for: context.caller)
            let target = try await state.connections.resolve(targetName, for: context.caller)
            let accepted = SignOff.acceptedTables(project)
            if accepted?.isEmpty == true { throw APIError(.badRequest, "no table of project \(project.name) is accepted in its mappings") }
            let outcome = try await state.jobs.jobs(for: context.caller)
                .suggestPipeline(
                    source: source, target: target, scope: Scope(tables: accepted ?? [], exactCounts: false), config: state.config,
                    workload: try await WorkloadSummary.latest(in: store)?.summary)
            let pipeline = try Pipeline.parse(outcome.yaml, name: "suggested")
            return try JSON.response(
                SuggestedSteps(runId: outcome.runID, steps: pipeline.steps, tables: outcome.profiles.count, profiles: outcome.profiles))
        }
        routes.add(
            .post, "/api/v1/projects/:id/analyze",
            "Extract the metadata of the project's source (tables, columns, types, keys, indexes, sizes, row counts), recorded as an analyze run",
            role: .user, action: "project.analyze", answer: .json(AnalysisReport.self, status: .ok)
        ) { _, context in
            let project = try await find(try context.require("id"), store)
            guard let sourceName = project.source else { throw APIError(.badRequest, "project \(project.name) has no source") }
            let source = try await state.connections.resolve(sourceName, for: context.caller)
            let outcome = try await state.jobs.jobs(for: context.caller).analyze(
                source: source, scope: Scope(tables: SignOff.acceptedTables(project) ?? []))
            return try JSON.response(outcome.report)
        }
        routes.add(
            .get, "/api/v1/projects/:id/runs", "A project's validation runs, newest first, each with the pipeline that ran", role: .viewer,
            answer: .json([ValidationRunRecord].self, status: .ok), query: [.limit(default: 50)]
        ) { request, context in
            let project = try await find(try context.require("id"), store)
            return try JSON.response(
                try await store.validationRuns(projectID: project.id, limit: try request.integer("limit", default: 50, in: 1...1000)))
        }
        routes.add(
            .get, "/api/v1/projects/:id/signoff",
            "The project's sign-off summary: go/no-go and why, failing checks, pass-rate trend (format=json|html|pdf)",
            role: .viewer, answer: .content(["application/json", "text/html", "application/pdf"]),
            query: [
                .init(
                    name: "format", kind: .string, description: "json (default), html or pdf (needs Chromium on the server)",
                    values: ["json", "html", "pdf"])
            ]
        ) { request, context in
            let project = try await find(try context.require("id"), store)
            let format = try request.query("format") ?? "json"
            guard ["json", "html", "pdf"].contains(format) else { throw APIError(.badRequest, "format is json, html or pdf") }
            let signOff = try await SignOff.build(project: project, store: store)
            let file = "signoff-" + project.name.replacingOccurrences(of: #"[^A-Za-z0-9._-]"#, with: "_", options: .regularExpression)
            switch format {
            case "pdf":
                guard PDFPrinter.browser != nil else {
                    throw APIError(
                        .serviceUnavailable, "PDF export needs Chromium on the server", hint: "install it there, or export format=html and print that"
                    )
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/pdf", .contentDisposition: "attachment; filename=\"\(file).pdf\""],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await PDFPrinter.pdf(html: try signOff.html))))
            case "html":
                return Response(
                    status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: try signOff.html))
                )
            default:
                return try JSON.response(signOff)
            }
        }
        routes.add(
            .patch, "/api/v1/projects/:id", "Change a project's name, description or connections (its owner or an admin)", role: .user,
            action: "project.update", body: ProjectChange.self, answer: .json(ProjectRecord.self, status: .ok)
        ) { request, context in
            var project = try await owned(try context.require("id"), by: context.caller, store)
            let body = try await APIInput.body(request, as: ProjectChange.self, context: context)
            if let name = body.name?.trimmingCharacters(in: .whitespaces) {
                guard !name.isEmpty, name.count <= 200 else { throw APIError(.badRequest, "a project needs a name of 1 to 200 characters") }
                project.name = name
            }
            if let description = body.description { project.description = description.isEmpty ? nil : description }
            for reference in [body.source, body.target].compactMap({ $0 }) { _ = try await state.connections.resolve(reference, for: context.caller) }
            if let source = body.source { project.source = ConnectionGate.shown(source) }
            if let target = body.target { project.target = ConnectionGate.shown(target) }
            if let environment = body.environment {
                if !environment.isEmpty { _ = try state.config.environment(named: environment) }
                try project.updateSettings { $0["environment"] = environment.isEmpty ? nil : environment }
            }
            try await store.saveProject(project)
            return try JSON.response(project)
        }
        routes.add(
            .put, "/api/v1/projects/:id/mappings", "Save the decisions on a project's mappings (a new version; its owner or an admin)",
            role: .user, action: "project.mappings", body: MappingDecisions.self, answer: .json(MappingVersion.self, status: .ok)
        ) { request, context in
            var project = try await owned(try context.require("id"), by: context.caller, store)
            let body = try await APIInput.body(request, as: MappingDecisions.self, context: context)
            try check(body)
            var history = project.settingsObject["mapping_history"] as? [[String: Any]] ?? []
            let version = MappingVersion(
                version: ((history.first?["version"] as? Int) ?? 0) + 1, at: ISOTime.now(), by: context.caller.username,
                accepted: body.tables.filter { $0.decision == "accepted" }.count,
                excluded: body.tables.filter { $0.decision == "excluded" }.count)
            var entry = try JSONSerialization.jsonObject(with: JSON.encoder.encode(version)) as? [String: Any] ?? [:]
            entry["tables"] = try JSONSerialization.jsonObject(with: JSON.encoder.encode(body.tables))
            history.insert(entry, at: 0)
            let mappings = try JSONSerialization.jsonObject(with: JSON.encoder.encode(body))
            try project.updateSettings { settings in
                settings["mappings"] = mappings
                settings["mapping_history"] = Array(history.prefix(20))  // the last 20 versions
            }
            try await store.saveProject(project)
            return try JSON.response(version)
        }
        routes.add(
            .delete, "/api/v1/projects/:id", "Delete a project and its pipelines (its owner or an admin)", role: .user, action: "project.delete",
            answer: .empty(status: .noContent)
        ) { _, context in
            let project = try await owned(try context.require("id"), by: context.caller, store)
            guard try await store.deleteProject(id: project.id) else { throw APIError(.notFound, "no project \(project.id)") }
            return Response(status: .noContent)
        }
    }

    /// Decisions a person could mean: known decision words, names present, tolerances Cutover reads.
    static func check(_ decisions: MappingDecisions) throws {
        guard decisions.tables.count <= 10_000 else { throw APIError(.badRequest, "at most 10,000 tables") }
        var seen: Set<String> = []
        for table in decisions.tables {
            guard !table.source.isEmpty, seen.insert(table.source).inserted else {
                throw APIError(.badRequest, "each source table once, by name (\(table.source.isEmpty ? "an empty name" : table.source + " twice"))")
            }
            guard MappingDecisions.decisions.contains(table.decision) else {
                throw APIError(.badRequest, "\(table.source): decision is accepted, excluded or proposed, not \(table.decision)")
            }
            if table.decision == "accepted", (table.target ?? "").isEmpty {
                throw APIError(.badRequest, "\(table.source) is accepted without a target table", hint: "name the target, or exclude the table")
            }
            for column in table.columns ?? [] {
                if let tolerance = column.tolerance, !tolerance.isEmpty {
                    do {
                        _ = try ColumnTolerance(parsing: tolerance)
                    } catch {
                        throw APIError(
                            .badRequest, "\(table.source).\(column.source): the tolerance \(tolerance) is not one Cutover reads",
                            hint: "a number (0.01), s, ms, us, digits=N, empty-null or case; combine with +")
                    }
                }
                if let transformation = column.transformation, transformation.count > 2000 {
                    throw APIError(.badRequest, "\(table.source).\(column.source): a transformation is at most 2,000 characters")
                }
            }
        }
    }

    static func find(_ id: String, _ store: any MetadataStore) async throws -> ProjectRecord {
        guard let project = try await store.projects().first(where: { $0.id == id }) else {
            throw APIError(.notFound, "no project \(id)", hint: "GET /api/v1/projects lists them")
        }
        return project
    }

    static func owned(_ id: String, by caller: Caller, _ store: any MetadataStore) async throws -> ProjectRecord {
        let project = try await find(id, store)
        guard caller.mayChange(ownedBy: project.createdBy) else {
            throw APIError(
                .forbidden, "project \(project.name) belongs to \(project.createdBy ?? "nobody"); only its owner or an admin may change it")
        }
        return project
    }
}
