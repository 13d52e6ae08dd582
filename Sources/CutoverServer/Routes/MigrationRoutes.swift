import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import NIOCore

/// Migrations: start, watch, stop, resume, delete — the last three for the run's owner or an admin.
enum MigrationRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(
            .post, "/api/v1/migrations", "Start a migration (plan, move, validate)", role: .user, action: "migration.start",
            body: StartMigration.self, answer: .json(RunStarted.self, status: .accepted)
        ) { request, context in
            let body = try await APIInput.body(request, as: StartMigration.self, context: context)
            let id = try await start(body, caller: context.caller, state: state)
            return try JSON.response(RunStarted(runId: id), status: .accepted)
        }
        routes.add(
            .post, "/api/v1/demo", "Start the demo: sample data in SQLite, migrated and validated", role: .user, action: "migration.demo",
            answer: .json(RunStarted.self, status: .accepted)
        ) { _, context in
            let directory = (state.artifactsRoot as NSString).deletingLastPathComponent + "/demo"
            let id = try await state.jobs.start(by: context.caller) { jobs in _ = try await Demo(directory: directory, jobs: jobs).run() }
            return try JSON.response(RunStarted(runId: id), status: .accepted)
        }
        routes.add(
            .get, "/api/v1/migrations", "Migrations, newest first", role: .viewer, answer: .json([RunRecord].self, status: .ok),
            query: [.limit(default: 50)]
        ) { request, _ in
            let limit = try request.integer("limit", default: 50, in: 1...1000)
            return try JSON.response(Array(try await store.runs(limit: limit * 4).filter { ["migrate", "demo"].contains($0.kind) }.prefix(limit)))
        }
        routes.add(
            .get, "/api/v1/migrations/:id", "A migration: status per table and chunk", role: .viewer, answer: .json(Progress.self, status: .ok)
        ) { _, context in
            try JSON.response(try await progress(try await run(try context.require("id"), store), store: store))
        }
        // The paths of the tool Cutover replaces (reference 001), for its scripts and dashboards.
        for alias in ["progress", "status"] {
            routes.add(
                .get, "/api/v1/migrate/:id/\(alias)", "The same as GET /api/v1/migrations/{id} (the replaced tool's path)", role: .viewer,
                answer: .json(Progress.self, status: .ok)
            ) { _, context in
                try JSON.response(try await progress(try await run(try context.require("id"), store), store: store))
            }
        }
        routes.add(
            .get, "/api/v1/migrations/:id/logs", "A run's log lines (after=ID for the next page)", role: .viewer,
            answer: .json([LogLine].self, status: .ok), query: [.after, .limit(default: 500)]
        ) { request, context in
            let run = try await run(try context.require("id"), store)
            let lines = try await store.logs(
                runID: run.id, afterID: try request.cursor("after"), limit: try request.integer("limit", default: 500, in: 1...1000))
            return try JSON.response(lines.map { LogLine(id: $0.id, entry: $0.entry) })
        }
        routes.add(
            .get, "/api/v1/migrations/:id/artifacts", "A run's artifact files (from the store, and this server's copy of the run folder)",
            role: .viewer, answer: .json([Artifact].self, status: .ok)
        ) { _, context in
            let run = try await run(try context.require("id"), store)
            var byName: [String: Artifact] = [:]
            for record in try await store.artifacts(runID: run.id) where record.stored {
                byName[record.name] = Artifact(
                    name: record.name, bytes: Int(record.bytes), url: "/api/v1/migrations/\(run.id)/artifacts/\(record.name)", source: "store")
            }
            if let directory = run.artifactsDir, FileManager.default.fileExists(atPath: directory) {
                for name in try FileManager.default.contentsOfDirectory(atPath: directory) where byName[name] == nil {
                    let size =
                        try FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name))[.size] as? Int ?? 0
                    byName[name] = Artifact(name: name, bytes: size, url: "/api/v1/migrations/\(run.id)/artifacts/\(name)", source: "folder")
                }
            }
            return try JSON.response(byName.values.sorted { $0.name < $1.name })
        }
        routes.add(
            .get, "/api/v1/migrations/:id/artifacts/:name", "Download one artifact", role: .viewer,
            answer: .content(["application/json", "text/plain", "text/html"])
        ) { _, context in
            let run = try await run(try context.require("id"), store)
            let name = try context.require("name")
            let notFound = APIError(.notFound, "run \(run.id) has no artifact \(name)", hint: "GET /api/v1/migrations/\(run.id)/artifacts lists them")
            guard name.range(of: #"^[A-Za-z0-9._-]+$"#, options: .regularExpression) != nil, !name.hasPrefix(".") else { throw notFound }
            // The folder's copy while the run may still be writing it; the store's once it is there.
            let data: Data
            if let directory = run.artifactsDir, let file = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
            {
                data = file
            } else if let stored = try await store.artifact(runID: run.id, name: name)?.content {
                data = stored
            } else {
                throw notFound
            }
            let type =
                name.hasSuffix(".json") ? "application/json" : name.hasSuffix(".html") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8"
            return Response(
                status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(name)\""],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        routes.add(
            .post, "/api/v1/migrations/:id/cancel", "Stop a running migration after the chunks in flight (its owner or an admin)", role: .user,
            action: "migration.cancel", answer: .json(RunState.self, status: .accepted)
        ) { _, context in
            let run = try await owned(try context.require("id"), by: context.caller, store)
            guard try await store.requestCancel(runID: run.id) else {
                throw APIError(.conflict, "run \(run.id) is \((try await store.run(id: run.id)?.status ?? run.status).rawValue), not running")
            }
            return try JSON.response(RunState(runId: run.id, status: "cancelling"), status: .accepted)
        }
        routes.add(
            .post, "/api/v1/migrations/:id/resume", "Continue an interrupted, failed or cancelled migration from its ledger (its owner or an admin)",
            role: .user, action: "migration.resume", answer: .json(RunStarted.self, status: .accepted)
        ) { _, context in
            let run = try await owned(try context.require("id"), by: context.caller, store)
            guard run.status.isResumable else {
                throw APIError(.conflict, "run \(run.id) is \(run.status.rawValue); only interrupted, failed or cancelled runs are resumed")
            }
            guard run.kind == "migrate", let text = run.request else {
                throw APIError(
                    .conflict, "run \(run.id) was not started through this API: rerun the same `cutover migrate` command to resume it",
                    hint: "a rerun of the same command resumes from the ledger")
            }
            let original: StartMigration
            do {
                original = try JSON.decoder.decode(StartMigration.self, from: Data(text.utf8))
            } catch {
                throw APIError(
                    .conflict, "run \(run.id)'s start request is not readable (\(APIInput.describe(error)))",
                    hint: "start the migration again with the same source, target and tables: it resumes from the ledger")
            }
            var again = original
            again.replace = false
            let id = try await start(again, caller: context.caller, state: state)
            return try JSON.response(RunStarted(runId: id), status: .accepted)
        }
        routes.add(
            .delete, "/api/v1/migrations/:id", "Delete a finished run with its records and artifacts (its owner or an admin)", role: .user,
            action: "migration.delete", answer: .empty(status: .noContent)
        ) { _, context in
            let run = try await owned(try context.require("id"), by: context.caller, store)
            guard !run.status.isActive else {
                throw APIError(.conflict, "run \(run.id) is still \(run.status.rawValue)", hint: "cancel it first")
            }
            try await store.deleteRun(id: run.id)
            if let directory = run.artifactsDir, FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.removeItem(atPath: directory)
            }
            return Response(status: .noContent)
        }
    }

    /// Checks and starts a migration; returns its run id.
    static func start(_ body: StartMigration, caller: Caller, state: ServerState) async throws -> String {
        let source = try await state.connections.resolve(body.source, for: caller)
        let target = try await state.connections.resolve(body.target, for: caller)
        if let parallel = body.parallel, !(1...16).contains(parallel) { throw APIError(.badRequest, "parallel must be from 1 to 16") }
        if let rows = body.chunkRows, rows <= 0 { throw APIError(.badRequest, "chunk_rows must be positive") }
        if body.replace == true, body.truncate == true { throw APIError(.badRequest, "replace and truncate exclude each other") }
        if body.replace == true, body.resume == true { throw APIError(.badRequest, "replace starts over, resume continues: pick one") }
        for (table, settings) in body.tableSettings ?? [:] {
            if let mode = settings.mode, MoveOptions.Mode(rawValue: mode) == nil {
                throw APIError(.badRequest, "table_settings.\(table).mode must be copy, append or upsert, not \(mode)")
            }
            if let rows = settings.chunkRows, rows <= 0 { throw APIError(.badRequest, "table_settings.\(table).chunk_rows must be positive") }
        }
        var options = MoveOptions(
            mode: body.watermark != nil ? .upsert : body.mode ?? .copy, replace: body.replace ?? false, truncate: body.truncate ?? false,
            rowsPerChunk: body.chunkRows ?? 250_000, parallel: body.parallel ?? 2, watermark: body.watermark, resume: body.resume ?? false)
        options.tables = body.tableSettings ?? [:]
        let requested = options
        var kept = body
        kept.source = ConnectionGate.shown(body.source)
        kept.target = ConnectionGate.shown(body.target)
        let request = String(decoding: try JSON.encoder.encode(kept), as: UTF8.self)
        let scope = Scope(tables: body.tables ?? [])
        let config = state.config
        return try await state.jobs.start(by: caller, request: request) { jobs in
            _ = try await jobs.migrate(
                source: source, target: target, scope: scope, config: config, options: requested, validate: body.validate ?? true,
                targetSchema: body.targetSchema)
        }
    }

    static func run(_ id: String, _ store: any MetadataStore) async throws -> RunRecord {
        guard let run = try await store.run(id: id) else { throw APIError(.notFound, "no run \(id)", hint: "GET /api/v1/migrations lists runs") }
        return run
    }

    /// The run, when `caller` may change it: its owner or an admin.
    static func owned(_ id: String, by caller: Caller, _ store: any MetadataStore) async throws -> RunRecord {
        let run = try await run(id, store)
        guard caller.mayChange(ownedBy: run.createdBy) else {
            throw APIError(.forbidden, "run \(run.id) is \(run.createdBy.map { "\($0)'s" } ?? "not yours"); only its owner or an admin may change it")
        }
        return run
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
        for (name, table) in byTable where table.chunks > 0 { byTable[name]?.percent = Self.percent(table.done, of: table.chunks) }
        let total = chunks.count, done = chunks.filter { $0.state == .done }.count
        let active = run.status.isActive
        let phase =
            !active
            ? run.status.rawValue
            : total == 0 ? "planning" : chunks.allSatisfy({ $0.state == .done || $0.state == .failed }) ? "finishing" : "loading"
        let started = ISOTime.parse(run.startedAt)
        let ended = run.finishedAt.flatMap(ISOTime.parse) ?? Date()
        let elapsed = started.map { max(0, ended.timeIntervalSince($0)) }
        var eta: Double?
        if phase == "loading", done > 0, let elapsed { eta = elapsed / Double(done) * Double(total - done) }
        return Progress(
            run: run, phase: phase, percent: run.status == .succeeded ? 100 : Self.percent(done, of: total),
            rowsMoved: chunks.reduce(0) { $0 + ($1.rows ?? 0) }, elapsedSeconds: elapsed, etaSeconds: eta,
            tables: byTable.values.sorted { $0.table < $1.table })
    }

    static func percent(_ done: Int, of total: Int) -> Double {
        total == 0 ? 0 : (Double(done) / Double(total) * 1000).rounded() / 10
    }
}
