import CutoverCore
import CutoverStore
import Foundation
import Yams

/// A validation pipeline file: steps, each a registered check on a table.
public struct Pipeline: Codable, Sendable {
    /// The suite name results are stored under (default: the file's name without extension).
    public var name: String?
    /// Steps run at once (default 4).
    public var parallel: Int?
    public var steps: [StepSpec]

    public static func load(path: String) throws -> Pipeline {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {  // else: an error naming the file
            throw CutoverError(.config, "cannot read the pipeline file \(path)", hint: "check the path")
        }
        return try parse(text, name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, origin: "pipeline file \(path)")
    }

    /// A pipeline from its YAML; `name` names it unless the YAML has `name:`.
    public static func parse(_ text: String, name: String, origin: String = "the pipeline") throws -> Pipeline {
        var pipeline: Pipeline
        do {
            pipeline = try YAMLDecoder().decode(Pipeline.self, from: text)
        } catch {
            throw CutoverError(.config, "\(origin) is not valid: \(error)", hint: "expected steps: [{check, table, column, ...}]")
        }
        if pipeline.name == nil { pipeline.name = name }
        try pipeline.check(origin: origin)
        return pipeline
    }

    public init(name: String?, parallel: Int? = nil, steps: [StepSpec]) {
        self.name = name
        self.parallel = parallel
        self.steps = steps
    }

    /// Every step names a registered check and gives the fields that check cannot do without.
    public func check(origin: String = "the pipeline") throws {
        for (index, step) in steps.enumerated() {
            let check = try CheckRegistry.check(named: step.check)
            guard !step.table.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw CutoverError(.config, "\(origin), step \(index + 1) (\(step.check)): no table", hint: "give each step a table")
            }
            let named = "\(origin), step \(index + 1) (\(step.check) on \(step.table))"
            // A mistyped side would run the step on the target, a mistyped severity make a warning an error.
            if let side = step.side, RuleSide(rawValue: side) == nil {
                throw CutoverError(.config, "\(named): side \(side) is not source, target or both", hint: "side: source, target or both")
            }
            if let severity = step.severity, RuleSeverity(rawValue: severity) == nil {
                throw CutoverError(.config, "\(named): severity \(severity) is not error or warn", hint: "severity: error (the default) or warn")
            }
            if let missing = check.parameters.first(where: { $0.required && !step.has($0.name) }) {
                throw CutoverError(
                    .config, "\(origin), step \(index + 1) (\(step.check) on \(step.table)): \(missing.name) is required — \(missing.description)",
                    hint: "`cutover pipeline checks` lists each check's fields")
            }
        }
    }

    /// The pipeline as YAML (what the console's builder saves; `pipeline suggest` writes its steps
    /// one per line with ``StepSpec/flowYAML()``).
    public func yaml() throws -> String { try Yams.serialize(node: try Self.readableNode(self, what: "the pipeline")) }

    /// `value` encoded as a YAML node, its numbers as a person writes them.
    static func readableNode<T: Encodable>(_ value: T, what: String) throws -> Node {
        guard let node = try Yams.compose(yaml: try YAMLEncoder().encode(value)) else {
            throw CutoverError(.io, "\(what) did not encode as YAML")
        }
        return plainNumbers(node)
    }

    /// Yams writes every Double in scientific notation (`5e-1`); a person reads `0.5` and `3`.
    static func plainNumbers(_ node: Node) -> Node {
        switch node {
        case .scalar(var scalar):
            // Only plain (unquoted) scalars in scientific notation: a quoted "5e-1" is text.
            if scalar.style == .plain, scalar.string.contains(where: { $0 == "e" || $0 == "E" }), let value = Double(scalar.string), value.isFinite {
                scalar.string = value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
            }
            return .scalar(scalar)
        case .mapping(let mapping):
            return .mapping(Node.Mapping(mapping.map { (plainNumbers($0.key), plainNumbers($0.value)) }, mapping.tag, mapping.style))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map(plainNumbers), sequence.tag, sequence.style))
        case .alias:
            return node
        }
    }
}

/// Which project's pipeline a validation run ran, recorded with the run.
public struct PipelineProvenance: Sendable {
    public var projectID: String
    public var name: String
    public var hash: String
    public var content: String

    public init(projectID: String, name: String, hash: String, content: String) {
        self.projectID = projectID
        self.name = name
        self.hash = hash
        self.content = content
    }
}

/// One step's result.
public struct StepResult: Sendable, Codable {
    public var step: Int
    public var check: String
    public var category: String
    public var table: String
    public var status: CheckStatus
    public var severity: String
    public var message: String
    public var details: [String: String]
    public var seconds: Double
    public var sourceRows: Int64?
    public var targetRows: Int64?
    public var matchPercent: Double?
    public var affectedColumns: [String]?

    /// How the step is named among the run's tables: its number first, so steps sort by number.
    var entryName: String { "\(step):\(check):\(table)" }

    func resultRecord(runID: String) throws -> ValidationResultRecord {
        let details = String(decoding: try JSONEncoder.sorted.encode(self.details), as: UTF8.self)
        return ValidationResultRecord(
            validationRunID: runID, step: step, check: check, table: table, status: status.rawValue, severity: severity, message: message,
            durationMS: Int64(seconds * 1000), sourceRows: sourceRows, targetRows: targetRows, matchPercent: matchPercent,
            affectedColumns: affectedColumns ?? [], details: details)
    }
}

extension Jobs {
    /// Runs a pipeline's steps against source and target, `parallel` at a time; a failing step
    /// does not stop the others. Returns the results in step order.
    public func runPipeline(
        _ pipeline: Pipeline, source sourceURL: ConnectionURL, target targetURL: ConnectionURL, config: CutoverConfig,
        targetSchema: String? = nil, provenance: PipelineProvenance? = nil,
        environment: String? = nil, tolerances: Tolerances = Tolerances()
    ) async throws -> (results: [StepResult], runID: String, path: String) {
        let environmentConfig = try environment.map(config.environment(named:))
        let recorder = try await newRecorder(kind: "pipeline", source: sourceURL, target: targetURL, echo: say)
        let started = ISOTime.now()
        runStarted(recorder.runID)
        do {
            // Parents of relationship checks are read too, so they are found wherever they live.
            let names = Array(Set(pipeline.steps.map(\.table) + pipeline.steps.compactMap(\.parentTable)))
            // The steps name their tables: the config's include/exclude patterns do not apply here.
            let prepared = try await prepare(
                source: sourceURL, target: targetURL, writingTarget: false, scope: Scope(tables: names, exactCounts: false),
                config: config, targetSchema: targetSchema, selection: TableSelection())
            let (source, target, catalog, plan) = (prepared.source, prepared.target, prepared.catalog, prepared.plan)
            var contexts: [CheckContext] = []
            for spec in pipeline.steps {
                guard let table = catalog.table(TableRef(parsing: spec.table)), var tablePlan = plan.table(table.ref) else {
                    throw CutoverError(.tableNotFound, "pipeline step \(spec.check) names table \(spec.table), which the source does not have")
                }
                if let targetTable = spec.targetTable { tablePlan.target = TableRef(parsing: targetTable) }
                var context = CheckContext(
                    source: source, target: target, plan: tablePlan, table: table, spec: spec, catalog: catalog, migration: plan)
                context.refusePrivilegedRole = refusePrivilegedRoles
                (context.environmentName, context.environment, context.tolerances) = (environment, environmentConfig, tolerances)
                contexts.append(context)
            }
            await recorder.event(
                "pipeline.started", "pipeline \(pipeline.name ?? "pipeline"): \(contexts.count) step(s)",
                fields: ["steps": String(contexts.count)])
            let limit = max(1, pipeline.parallel ?? 4)
            var results: [StepResult?] = Array(repeating: nil, count: contexts.count)
            var cancelled = false
            let store = self.store, runID = recorder.runID
            try await withThrowingTaskGroup(of: StepResult.self) { group in
                var next = 0
                // `cutover runs cancel ID` marks the run; steps not yet started are skipped, running ones finish.
                func start() async throws {
                    guard next < contexts.count else { return }
                    if !cancelled, try await store.run(id: runID)?.status == .cancelling { cancelled = true }
                    let index = next, context = contexts[index]
                    next += 1
                    if cancelled {
                        let skipped = StepResult(
                            step: index + 1, check: context.spec.check, category: "", table: context.spec.table, status: .cancelled,
                            severity: context.spec.severity ?? "error", message: "not run: the run was cancelled", details: [:], seconds: 0)
                        results[index] = skipped
                        try await recorder.recordTable(
                            RunTableRecord(
                                runID: recorder.runID, table: skipped.entryName, status: skipped.status.rawValue,
                                message: skipped.message))
                        try await start()
                        return
                    }
                    await recorder.event(
                        "step.started", table: context.spec.table, "step \(index + 1) \(context.spec.check) on \(context.spec.table)",
                        fields: ["step": String(index + 1), "check": context.spec.check])
                    group.addTask { await Self.runStep(index, context) }
                }
                for _ in 0..<limit { try await start() }
                while let result = try await group.next() {
                    results[result.step - 1] = result
                    await recorder.event(
                        result.status == .failed ? "step.failed" : "step.completed", table: result.table,
                        level: result.status == .failed ? "error" : "info",
                        "step \(result.step) \(result.check) on \(result.table): \(result.status) — \(result.message)",
                        fields: ["step": String(result.step), "check": result.check, "status": result.status.rawValue])
                    try await recorder.recordTable(
                        RunTableRecord(
                            runID: recorder.runID, table: result.entryName, status: result.status.rawValue,
                            sourceRows: result.sourceRows, targetRows: result.targetRows, message: result.message))
                    try await start()
                }
            }
            let final = results.compactMap { $0 }
            try await recorder.recordValidation(
                suite: pipeline.name ?? "pipeline", source: sourceURL.description, target: targetURL.description,
                started: started, try final.map { try $0.resultRecord(runID: runID) }, provenance: provenance)
            let path = try recorder.writeJSONArtifact("pipeline_results.json", final)
            let failed = final.filter { $0.status == .failed }.count
            let skipped = final.filter { $0.status == .cancelled }.count
            let status: RunStatus = skipped > 0 ? .cancelled : failed == 0 ? .succeeded : .failed
            try await recorder.finish(
                status: status,
                summary: "\(final.count - failed - skipped) of \(final.count) steps without errors"
                    + (skipped > 0 ? ", \(skipped) not run (cancelled)" : ""))
            return (final, recorder.runID, path)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    private static func runStep(_ index: Int, _ context: CheckContext) async -> StepResult {
        let started = Date()
        let severity = context.spec.severity ?? "error"
        var result = StepResult(
            step: index + 1, check: context.spec.check, category: "", table: context.spec.table, status: .failed,
            severity: severity, message: "", details: [:], seconds: 0)
        do {
            let type = try CheckRegistry.check(named: context.spec.check)
            result.category = type.category
            let outcome = try await type.init().run(context)
            result.status = outcome.passed ? .passed : (severity == "warn" ? .warning : .failed)
            result.message = outcome.message
            result.details = outcome.details
            result.sourceRows = outcome.sourceRows
            result.targetRows = outcome.targetRows
            result.matchPercent = outcome.matchPercent
            result.affectedColumns = outcome.affectedColumns ?? (context.spec.columns ?? context.spec.column.map { [$0] } ?? [])
        } catch {
            result.message = "the check could not run: \(error.redactedDescription)"
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
