import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// Batches: several migrations and validations started together and run at most `max_parallel`
/// at a time, each item becoming a run of its own; the batch and its items are kept in the store.
enum Batches {
    struct ItemSpec: Codable, Sendable {
        /// migration or validation.
        var kind: String
        var source: String
        var target: String
        var mode: String?
        var tables: [String]?
        /// Pipeline YAML for a validation (default: the row compare of every table).
        var pipeline: String?
    }

    struct NewBatch: Decodable {
        var name: String?
        var maxParallel: Int?
        var items: [ItemSpec]
    }

    struct Detail: Encodable {
        var batch: BatchRecord
        var items: [BatchItemRecord]
        var done: Int
        var total: Int
    }

    typealias Job = @Sendable (Jobs) async throws -> Void

    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(.post, "/api/v1/batches", "Start a batch of migrations and validations, max_parallel at a time", role: .user, action: "batch.start") { request, context in
            let body = try await JSON.body(request, as: NewBatch.self,
                                           expected: #"{"name": "night", "max_parallel": 2, "items": [{"kind": "migration", "source": "…", "target": "…"}]}"#)
            guard !body.items.isEmpty else { throw APIError(.badRequest, "a batch needs at least one item") }
            // Every item is checked before anything starts.
            let jobs = try body.items.enumerated().map { index, spec in
                do { return try job(spec, config: state.config) } catch let error as CutoverError {
                    throw APIError(.badRequest, "item \(index + 1): \(error.message)", hint: error.hint)
                }
            }
            let batch = BatchRecord(name: body.name ?? "batch", maxParallel: max(1, min(body.maxParallel ?? 2, 16)), createdBy: context.user?.username)
            let encoder = JSONEncoder()
            let items = try body.items.enumerated().map { index, spec in
                BatchItemRecord(batchID: batch.id, number: index + 1, kind: spec.kind, spec: String(decoding: try encoder.encode(spec), as: UTF8.self))
            }
            try await store.createBatch(batch, items: items)
            Task { await run(batch, items: items, jobs: jobs, state: state) }
            return JSON.response(["batch_id": batch.id], status: .accepted)
        }
        routes.add(.get, "/api/v1/batches", "Batches, newest first", role: .viewer) { _, _ in JSON.response(try await store.batches(limit: 100)) }
        routes.add(.get, "/api/v1/batches/:id", "A batch: each item's run and status, and progress", role: .viewer) { _, context in
            let id = try context.require("id")
            guard let (batch, items) = try await store.batch(id: id) else { throw APIError(.notFound, "no batch \(id)") }
            let done = items.filter { ["succeeded", "failed", "cancelled", "needs_review"].contains($0.status) }.count
            return JSON.response(Detail(batch: batch, items: items, done: done, total: items.count))
        }
        routes.add(.post, "/api/v1/batches/:id/cancel", "Stop a batch: items not started are skipped, running migrations stop after their chunks",
                   role: .user, action: "batch.cancel") { _, context in
            let id = try context.require("id")
            guard let (batch, items) = try await store.batch(id: id) else { throw APIError(.notFound, "no batch \(id)") }
            guard batch.status == "running" else { throw APIError(.conflict, "batch \(id) is \(batch.status), not running") }
            try await store.setBatchStatus(id: id, status: "cancelling", finished: false)
            for item in items where item.status == "running" {
                if let runID = item.runID, try await store.run(id: runID)?.status == "running" { try await store.setRunStatus(id: runID, status: "cancelling") }
            }
            return JSON.response(["batch_id": id, "status": "cancelling"], status: .accepted)
        }
    }

    static func job(_ spec: ItemSpec, config: CutoverConfig) throws -> Job {
        let source = try config.resolveConnection(spec.source)
        let target = try config.resolveConnection(spec.target)
        let scope = Scope(tables: spec.tables ?? [])
        switch spec.kind {
        case "migration":
            guard let mode = MoveOptions.Mode(rawValue: spec.mode ?? "copy") else {
                throw CutoverError(.usage, "mode \(spec.mode ?? "") is not one of " + MoveOptions.Mode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return { jobs in _ = try await jobs.migrate(source: source, target: target, scope: scope, config: config, options: MoveOptions(mode: mode, parallel: 2),
                                                        validate: true) }
        case "validation":
            if let text = spec.pipeline {
                let pipeline = try Pipeline.parse(text, name: "batch")
                return { jobs in _ = try await jobs.runPipeline(pipeline, source: source, target: target, config: config) }
            }
            return { jobs in _ = try await jobs.validate(source: source, target: target, scope: scope, config: config) }
        default:
            throw CutoverError(.usage, "kind \(spec.kind) is not migration or validation")
        }
    }

    /// Runs the items, `maxParallel` at a time; a cancelled batch starts no more items.
    static func run(_ batch: BatchRecord, items: [BatchItemRecord], jobs: [Job], state: ServerState) async {
        let store = state.store
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() async {
                while next < items.count {
                    let (item, job) = (items[next], jobs[next])
                    next += 1
                    if (try? await store.batch(id: batch.id))?.0.status == "cancelling" {
                        var skipped = item
                        skipped.status = "cancelled"
                        skipped.message = "not started: the batch was cancelled"
                        try? await store.updateBatchItem(skipped)
                        continue
                    }
                    group.addTask { await runItem(item, job, state: state) }
                    return
                }
            }
            for _ in 0..<batch.maxParallel { await startNext() }
            while await group.next() != nil { await startNext() }
        }
        let final = try? await store.batch(id: batch.id)
        let statuses = final?.1.map(\.status) ?? []
        let status = final?.0.status == "cancelling" ? "cancelled" : statuses.allSatisfy { $0 == "succeeded" } ? "succeeded" : "failed"
        try? await store.setBatchStatus(id: batch.id, status: status, finished: true)
        try? await store.notify(NotificationRecord(kind: status == "succeeded" ? "batch.completed" : "batch.failed", title: "batch \(batch.name) \(status)",
                                                   message: "\(statuses.filter { $0 == "succeeded" }.count) of \(statuses.count) items succeeded"))
    }

    /// One item: its run id as soon as the job has one, then the run's final status.
    static func runItem(_ item: BatchItemRecord, _ job: @escaping Job, state: ServerState) async {
        var item = item
        let launched = await state.launch(job)
        if let id = launched.runID {
            item.runID = id
            item.status = "running"
            try? await state.store.updateBatchItem(item)
        }
        let result = await launched.task.result
        let run = item.runID == nil ? nil : try? await state.store.run(id: item.runID!)
        switch (result, run) {
        case (_, .some(let run)) where run.status != "running":
            item.status = run.status
            item.message = run.summary ?? run.error
        case (.failure(let error), _):
            item.status = "failed"
            item.message = (error as? CutoverError)?.message ?? "\(error)"
        default:
            item.status = "succeeded"
        }
        try? await state.store.updateBatchItem(item)
    }
}
