import Crypto
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import Logging

/// Batches: several migrations and validations started together and run at most `max_parallel`
/// at a time, each item becoming a run of its own; the batch and its items are kept in the store.
enum Batches {
    struct ItemSpec: Codable, Sendable {
        enum Kind: String, Codable, Sendable, CaseIterable, SchemaEnumerable { case migration, validation }
        var kind: Kind
        var source: String
        var target: String
        var mode: MoveOptions.Mode?
        var tables: [String]?
        /// Pipeline YAML for a validation (default: the row compare of every table).
        var pipeline: String?
    }

    struct NewBatch: Codable {
        var name: String?
        var maxParallel: Int?
        var items: [ItemSpec]
        /// The project the batch is for: its validations are that project's runs.
        var project: String?
    }

    struct Detail: Codable {
        var batch: BatchRecord
        var items: [BatchItemRecord]
        var done: Int
        var total: Int
        var succeeded: Int
        var failed: Int
        var cancelled: Int
        /// From its start to its end (or now, while it runs).
        var seconds: Double?
        /// Each item's run: when it started and ended, how long it took.
        var timings: [Timing]
    }

    struct Timing: Codable {
        var number: Int
        var startedAt: String?
        var finishedAt: String?
        var seconds: Double?
    }

    typealias Job = @Sendable (Jobs) async throws -> Void

    struct Started: Codable { var batchId: String }
    struct State: Codable {
        var batchId: String
        var status: String
    }

    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(
            .post, "/api/v1/batches", "Start a batch of migrations and validations, max_parallel at a time", role: .user, action: "batch.start",
            body: NewBatch.self, answer: .json(Started.self, status: .accepted)
        ) { request, context in
            let body = try await APIInput.body(request, as: NewBatch.self, context: context)
            guard !body.items.isEmpty, body.items.count <= 100 else { throw APIError(.badRequest, "a batch has 1 to 100 items") }
            if let parallel = body.maxParallel, !(1...16).contains(parallel) { throw APIError(.badRequest, "max_parallel must be from 1 to 16") }
            let project = try await body.project.asyncProject(store)
            // Every item is checked before anything starts.
            var jobs: [Job] = []
            for (index, spec) in body.items.enumerated() {
                do {
                    jobs.append(try await job(spec, caller: context.caller, state: state, project: project))
                } catch let error as CutoverError {
                    throw APIError(.badRequest, "item \(index + 1): \(error.message)", hint: error.hint)
                } catch let error as APIError {
                    throw APIError(error.status, "item \(index + 1): \(error.message)", hint: error.hint)
                }
            }
            let batch = BatchRecord(
                name: body.name ?? "batch", maxParallel: body.maxParallel ?? 2, createdBy: context.caller.username, projectID: project?.id)
            // Kept with connections by name, URLs masked.
            let items = try body.items.enumerated().map { index, spec in
                var kept = spec
                kept.source = ConnectionGate.shown(spec.source)
                kept.target = ConnectionGate.shown(spec.target)
                return BatchItemRecord(
                    batchID: batch.id, number: index + 1, kind: spec.kind.rawValue,
                    spec: String(decoding: try JSON.encoder.encode(kept), as: UTF8.self))
            }
            try await store.createBatch(batch, items: items)
            let caller = context.caller
            Task { await run(batch, items: items, jobs: jobs, caller: caller, state: state) }
            return try JSON.response(Started(batchId: batch.id), status: .accepted)
        }
        routes.add(
            .get, "/api/v1/batches", "Batches, newest first (project=ID: that project's)", role: .viewer,
            answer: .json([BatchRecord].self, status: .ok),
            query: [.init(name: "project", kind: .string, description: "a project's id")]
        ) { request, _ in
            try JSON.response(try await store.batches(limit: 100, projectID: try request.query("project")))
        }
        routes.add(
            .get, "/api/v1/batches/:id", "A batch: each item's run and status, and progress", role: .viewer, answer: .json(Detail.self, status: .ok)
        ) { _, context in
            let id = try context.require("id")
            guard let (batch, items) = try await store.batch(id: id) else { throw APIError(.notFound, "no batch \(id)") }
            return try JSON.response(try await detail(batch, items, store: store))
        }
        routes.add(
            .post, "/api/v1/batches/:id/retry", "Run a finished batch's failed and cancelled items again (its owner or an admin)",
            role: .user, action: "batch.retry", answer: .json(State.self, status: .accepted)
        ) { _, context in
            let (batch, items) = try await finished(try context.require("id"), by: context.caller, store: store, doing: "retry")
            let again = items.filter { ["failed", "cancelled", "interrupted"].contains($0.status) }
            guard !again.isEmpty else { throw APIError(.conflict, "batch \(batch.id) has no failed or cancelled item to retry") }
            var jobs: [Job] = []
            var reset: [BatchItemRecord] = []
            for item in again {
                let spec: ItemSpec
                do {
                    spec = try JSON.decoder.decode(ItemSpec.self, from: Data(item.spec.utf8))
                } catch {
                    throw APIError(
                        .conflict, "item \(item.number) of batch \(batch.id) is not stored in a form Cutover can run again", hint: "start a new batch"
                    )
                }
                do {
                    jobs.append(try await job(spec, caller: context.caller, state: state, project: try await batch.projectID.asyncProject(store)))
                } catch let error as CutoverError {
                    // An item started with a URL was kept masked: it cannot be started again from the store.
                    throw APIError(.badRequest, "item \(item.number): \(error.message)", hint: error.hint ?? "start a new batch")
                }
                var fresh = item
                (fresh.status, fresh.runID, fresh.message) = ("pending", nil, nil)
                reset.append(fresh)
            }
            for item in reset { try await store.updateBatchItem(item) }
            try await store.setBatchStatus(id: batch.id, status: "running", finished: false)
            let caller = context.caller
            Task { await run(batch, items: reset, jobs: jobs, caller: caller, state: state) }
            return try JSON.response(State(batchId: batch.id, status: "running"), status: .accepted)
        }
        routes.add(
            .delete, "/api/v1/batches/:id", "Delete a finished batch and its items; their runs stay (its owner or an admin)",
            role: .user, action: "batch.delete", answer: .empty(status: .noContent)
        ) { _, context in
            let (batch, _) = try await finished(try context.require("id"), by: context.caller, store: store, doing: "delete")
            guard try await store.deleteBatch(id: batch.id) else { throw APIError(.notFound, "no batch \(batch.id)") }
            return Response(status: .noContent)
        }
        routes.add(
            .post, "/api/v1/batches/:id/cancel",
            "Stop a batch (its owner or an admin): items not started are skipped, running migrations stop after their chunks",
            role: .user, action: "batch.cancel", answer: .json(State.self, status: .accepted)
        ) { _, context in
            let id = try context.require("id")
            guard let (batch, items) = try await store.batch(id: id) else { throw APIError(.notFound, "no batch \(id)") }
            guard context.caller.mayChange(ownedBy: batch.createdBy) else {
                throw APIError(.forbidden, "batch \(batch.name) is \(batch.createdBy ?? "nobody")'s; only its owner or an admin may stop it")
            }
            guard batch.status == "running" else { throw APIError(.conflict, "batch \(id) is \(batch.status), not running") }
            try await store.setBatchStatus(id: id, status: "cancelling", finished: false)
            for item in items where item.status == "running" {
                if let runID = item.runID { _ = try await store.requestCancel(runID: runID) }  // a run that already ended stays as it ended
            }
            return try JSON.response(State(batchId: id, status: "cancelling"), status: .accepted)
        }
    }

    static func detail(_ batch: BatchRecord, _ items: [BatchItemRecord], store: any MetadataStore) async throws -> Detail {
        let count = { (statuses: Set<String>) in items.filter { statuses.contains($0.status) }.count }
        var timings: [Timing] = []
        for item in items {
            var run: RunRecord?
            if let id = item.runID { run = try await store.run(id: id) }
            timings.append(Timing(number: item.number, startedAt: run?.startedAt, finishedAt: run?.finishedAt, seconds: run?.seconds))
        }
        let end = batch.finishedAt.flatMap(ISOTime.parse) ?? Date()
        return Detail(
            batch: batch, items: items, done: count(["succeeded", "failed", "cancelled", "needs_review", "interrupted"]), total: items.count,
            succeeded: count(["succeeded"]), failed: count(["failed", "interrupted"]), cancelled: count(["cancelled"]),
            seconds: ISOTime.parse(batch.createdAt).map { end.timeIntervalSince($0) }, timings: timings)
    }

    /// A batch the caller may change that is not running.
    static func finished(
        _ id: String, by caller: Caller, store: any MetadataStore, doing what: String
    ) async throws -> (BatchRecord, [BatchItemRecord]) {
        guard let (batch, items) = try await store.batch(id: id) else { throw APIError(.notFound, "no batch \(id)") }
        guard caller.mayChange(ownedBy: batch.createdBy) else {
            throw APIError(.forbidden, "batch \(batch.name) is \(batch.createdBy ?? "nobody")'s; only its owner or an admin may \(what) it")
        }
        guard !["running", "cancelling"].contains(batch.status) else {
            throw APIError(.conflict, "batch \(id) is \(batch.status)", hint: "cancel it first, or wait until it ends")
        }
        return (batch, items)
    }

    static func job(_ spec: ItemSpec, caller: Caller, state: ServerState, project: ProjectRecord? = nil) async throws -> Job {
        let source = try await state.connections.resolve(spec.source, for: caller)
        let target = try await state.connections.resolve(spec.target, for: caller)
        let scope = Scope(tables: spec.tables ?? [])
        let config = state.config
        switch spec.kind {
        case .migration:
            let mode = spec.mode ?? .copy
            return { jobs in
                _ = try await jobs.migrate(
                    source: source, target: target, scope: scope, config: config, options: MoveOptions(mode: mode, parallel: 2),
                    validate: true)
            }
        case .validation:
            if let text = spec.pipeline {
                let pipeline = try Pipeline.parse(text, name: "batch")
                // A project's batch: its validations are the project's runs, in its environment.
                let provenance = project.map {
                    PipelineProvenance(projectID: $0.id, name: "batch", hash: Hex.encode(SHA256.hash(data: Data(text.utf8))), content: text)
                }
                let environment = project?.environment
                let tolerances = try project.map(ProjectSetup.tolerances) ?? Tolerances()
                return { jobs in
                    _ = try await jobs.runPipeline(
                        pipeline, source: source, target: target, config: config, provenance: provenance, environment: environment,
                        tolerances: tolerances)
                }
            }
            return { jobs in _ = try await jobs.validate(source: source, target: target, scope: scope, config: config) }
        }
    }

    /// Runs the items, `maxParallel` at a time; a cancelled batch starts no more items.
    static let logger = Logger(label: "cutover.batches")

    /// A batch runs in the background, where no request is left to tell: what the store refuses is
    /// logged, and the batch goes on.
    static func recording(_ what: String, batch: String, _ body: () async throws -> Void) async {
        do { try await body() } catch { logger.error("batch \(batch): could not record \(what): \(error.redactedDescription)") }
    }

    static func run(_ batch: BatchRecord, items: [BatchItemRecord], jobs: [Job], caller: Caller, state: ServerState) async {
        let store = state.store
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() async {
                while next < items.count {
                    let (item, job) = (items[next], jobs[next])
                    next += 1
                    let cancelling: Bool
                    do { cancelling = try await store.batch(id: batch.id)?.0.status == "cancelling" } catch { cancelling = false }
                    if cancelling {
                        var skipped = item
                        skipped.status = "cancelled"
                        skipped.message = "not started: the batch was cancelled"
                        await recording("a skipped item", batch: batch.id) { try await store.updateBatchItem(skipped) }
                        continue
                    }
                    group.addTask { await runItem(item, job, caller: caller, state: state) }
                    return
                }
            }
            for _ in 0..<batch.maxParallel { await startNext() }
            while await group.next() != nil { await startNext() }
        }
        await recording("the outcome", batch: batch.id) {
            let final = try await store.batch(id: batch.id)
            let statuses = final?.1.map(\.status) ?? []
            let status = final?.0.status == "cancelling" ? "cancelled" : statuses.allSatisfy { $0 == "succeeded" } ? "succeeded" : "failed"
            // A batch someone stopped did not fail: the console and alerting must tell the two apart.
            // Notified first, so whoever sees the batch finished also finds its notification.
            let kind = ["succeeded": "batch.completed", "cancelled": "batch.cancelled"][status] ?? "batch.failed"
            try await store.notify(
                NotificationRecord(
                    kind: kind, title: "batch \(batch.name) \(status)",
                    message: "\(statuses.filter { $0 == "succeeded" }.count) of \(statuses.count) items succeeded"))
            try await store.setBatchStatus(id: batch.id, status: status, finished: true)
        }
    }

    /// One item: its run id as soon as the job has one, then the run's final status.
    static func runItem(_ item: BatchItemRecord, _ job: @escaping Job, caller: Caller, state: ServerState) async {
        var item = item
        let launched = await state.jobs.launch(by: caller, job)
        if let id = launched.runID {
            item.runID = id
            item.status = "running"
            await recording("item \(item.number)'s run", batch: item.batchID) { [item] in try await state.store.updateBatchItem(item) }
        }
        let result = await launched.task.result
        var run: RunRecord?
        if let id = item.runID {
            do { run = try await state.store.run(id: id) } catch { run = nil }
        }
        switch (result, run) {
        case (_, .some(let run)) where run.status != .running:
            item.status = run.status.rawValue
            item.message = run.summary ?? run.error
        case (.failure(let error), _):
            item.status = "failed"
            item.message = (error as? CutoverError)?.message ?? error.redactedDescription
        default:
            item.status = "succeeded"
        }
        await recording("item \(item.number)'s outcome", batch: item.batchID) { [item] in try await state.store.updateBatchItem(item) }
    }
}

extension Optional where Wrapped == String {
    /// The project this id names (a 404 when there is none); nil without an id.
    func asyncProject(_ store: any MetadataStore) async throws -> ProjectRecord? {
        guard let id = self else { return nil }
        return try await ProjectRoutes.find(id, store)
    }
}
