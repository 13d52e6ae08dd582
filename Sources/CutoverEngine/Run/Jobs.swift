import CutoverCore
import CutoverStore
import Foundation

/// The commands' work, shared by the CLI and (later) the server: each job connects, runs, records
/// itself in the store and writes its artifacts. Output lines go to `say`.
public struct Jobs: Sendable {
    public var store: any MetadataStore
    /// Where run directories are created.
    public var artifactsRoot: String
    public var say: @Sendable (String) -> Void
    /// Told the run id as soon as a migrate, validate or pipeline run has one (the server answers
    /// a start request with it while the run goes on).
    public var runStarted: @Sendable (String) -> Void
    /// Who runs these jobs (the signed-in user of the server); recorded as each run's owner.
    public var startedBy: String?
    /// How the server was asked to run the job (JSON, connections by name or masked), kept with the
    /// run so it can be resumed from the console.
    public var request: String?
    /// Jobs run for someone who does not own the connections (a server user, not an admin): SQL they
    /// wrote (rules, `custom_sql` steps) never runs on a role that may read the server's files.
    public var refusePrivilegedRoles: Bool

    public init(
        store: any MetadataStore, artifactsRoot: String, say: @escaping @Sendable (String) -> Void,
        runStarted: @escaping @Sendable (String) -> Void = { _ in }, startedBy: String? = nil, request: String? = nil,
        refusePrivilegedRoles: Bool = false
    ) {
        self.refusePrivilegedRoles = refusePrivilegedRoles
        self.store = store
        self.artifactsRoot = artifactsRoot
        self.say = say
        self.runStarted = runStarted
        self.startedBy = startedBy
        self.request = request
    }

    /// A new run of `kind`, recorded as started by ``startedBy``, with the run's lease.
    func newRecorder(
        kind: String, source: ConnectionURL?, target: ConnectionURL?, planHash: String? = nil,
        echo: (@Sendable (String) -> Void)? = nil
    ) async throws -> RunRecorder {
        try await RunRecorder(
            store: store, kind: kind, source: source, target: target, artifactsRoot: artifactsRoot, planHash: planHash, echo: echo,
            startedBy: startedBy, request: request)
    }

    /// Opens a connection for a job. The metadata store is never one, whatever URL spells it.
    public func connect(_ url: ConnectionURL, role: ConnectionRole) async throws -> any Connector {
        try await Connectors.refuseStore(url, store: store)
        return try await Connectors.connect(url, role: role)
    }

    /// What an analyze run produced.
    public struct AnalyzeOutcome: Sendable {
        public var report: AnalysisReport
        public var reportPath: String
        public var runID: String
    }

    /// Analyzes a source. With `metadataMaxAge`, a catalog the store cached for this connection and
    /// scope within that many seconds is used without reading the source; every fresh read is cached.
    public func analyze(
        source url: ConnectionURL, scope: Scope, metadataMaxAge: TimeInterval? = nil, workload: WorkloadSummary? = nil
    ) async throws -> AnalyzeOutcome {
        let recorder = try await newRecorder(kind: "analyze", source: url, target: nil)
        do {
            var report: AnalysisReport
            let cacheKey = [(schema: scope.schemas.sorted().joined(separator: ","), table: "*" + scope.tables.sorted().joined(separator: ","))]
            if let maxAge = metadataMaxAge,
                let cached = try await store.columnMetadata(connection: url.description, tables: cacheKey, maxAge: maxAge)?.first,
                let catalog = try? JSONDecoder().decode(Catalog.self, from: Data(cached.payload.utf8))
            {  // an unreadable cached catalog is a miss: the source is read
                report = AnalysisReport(catalog: catalog, source: url, generatedAt: cached.fetchedAt)
                await recorder.event("analyze.cached", "using the catalog cached at \(cached.fetchedAt) (younger than \(Format.duration(maxAge)))")
            } else {
                let connector = try await connect(url, role: .source)
                report = try await Analyzer.analyze(connector, scope: scope.profiling(.all))
                let payload = String(decoding: try JSONEncoder.sorted.encode(report.catalog), as: UTF8.self)
                try await store.saveColumnMetadata([
                    ColumnMetadataRecord(
                        connection: url.description, schema: cacheKey[0].schema, table: cacheKey[0].table,
                        payload: payload)
                ])
            }
            if let workload { report.rank(by: workload) }
            let path = try recorder.writeJSONArtifact("analysis_report.json", report)
            await recorder.event("analyze.done", "analyzed \(report.totals.tables) tables", fields: ["tables": String(report.totals.tables)])
            try await recorder.finish(status: .succeeded, summary: "\(report.totals.tables) tables, \(report.totals.rows) rows")
            return AnalyzeOutcome(report: report, reportPath: path, runID: recorder.runID)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    /// What a plan run produced: the plan and the files written.
    public struct PlanOutcome: Sendable {
        public var plan: MigrationPlan
        public var files: [String]
        public var runID: String
    }

    public func plan(
        source url: ConnectionURL, targetEngine: ConnectionURL.Engine, scope: Scope, config: CutoverConfig,
        targetSchema: String? = nil, workload: WorkloadSummary? = nil
    ) async throws -> PlanOutcome {
        let recorder = try await newRecorder(kind: "plan", source: url, target: nil)
        do {
            let connector = try await connect(url, role: .source)
            let catalog = try await connector.catalog(scope.profiling(.all))
            var plan = try Planner(targetEngine: targetEngine, overrides: config.overrides, targetSchema: targetSchema)
                .plan(catalog, source: url, tables: config.tables)
            if let workload {
                var ranked = AnalysisReport(catalog: catalog, source: url, generatedAt: ISOTime.now())
                ranked.rank(by: workload)
                let heaviest = (ranked.workload ?? []).prefix(5).map { "\($0.table) (\(String(format: "%.1f", $0.timeShare))% of the time)" }
                if !heaviest.isEmpty {
                    plan.recommendations.append(
                        "Workload: the statements spend their time in \(heaviest.joined(separator: ", ")); migrate and validate these first, with row_diff."
                    )
                }
                if let unused = ranked.unusedByWorkload, !unused.isEmpty {
                    plan.recommendations.append(
                        "Not used by the workload: \(unused.joined(separator: ", ")); confirm they need migrating at all (exclude them under tables: in cutover.yml)."
                    )
                }
            }
            let files = try PlanArtifacts.write(plan, to: recorder.artifactsDirectory)
            try recorder.writeJSONArtifact("analysis_report.json", AnalysisReport(catalog: catalog, source: url, generatedAt: ISOTime.now()))
            try await recorder.finish(
                status: plan.unmappable.isEmpty ? .succeeded : .needsReview,
                summary: "\(plan.tables.count) tables planned for \(targetEngine.rawValue), \(plan.reviewCount) to review")
            return PlanOutcome(plan: plan, files: files, runID: recorder.runID)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    /// What a migrate run produced, per table.
    public struct MigrateOutcome: Sendable {
        public var runID: String
        public var directory: String
        public var results: [TableMoveResult]
        public var validation: ValidationReport?
        public var succeeded: Bool { results.allSatisfy(\.succeeded) && (validation?.allPassed ?? true) }
    }

    /// Plans, moves and (unless `validate` is false) validates, in one run. A rerun of the same plan
    /// whose last run did not finish resumes it: finished chunks are skipped.
    public func migrate(
        source sourceURL: ConnectionURL, target targetURL: ConnectionURL, scope: Scope, config: CutoverConfig,
        options: MoveOptions, validate: Bool, targetSchema: String? = nil, kind: String = "migrate"
    ) async throws -> MigrateOutcome {
        let prepared: Prepared
        do {
            prepared = try await prepare(
                source: sourceURL, target: targetURL, writingTarget: true, scope: scope, config: config, targetSchema: targetSchema)
        } catch {
            try? await recordFailure(kind: kind, source: sourceURL, target: targetURL, error: error)  // recording is best effort: the error itself is thrown
            throw error
        }
        let (source, target, catalog, plan) = (prepared.source, prepared.target, prepared.catalog, prepared.plan)
        let options = try Self.applyingTableSettings(options, config, plan)
        let mover = Mover(source: source, target: target, plan: plan, options: options)
        let planHash = try mover.planHash()
        var previous = options.replace ? nil : try await store.resumableRun(planHash: planHash)
        if let unfinished = previous, options.isIncremental, !options.resume {
            try await supersede(unfinished)
            previous = nil
        }
        if options.resume, previous == nil {
            throw CutoverError(
                .usage, "there is no unfinished run of this plan to resume",
                hint: "run without --resume to start a new one; `cutover runs list` shows earlier runs")
        }
        let recorder: RunRecorder
        if let previous {
            recorder = try await RunRecorder(store: store, resuming: previous, echo: say)
            await recorder.event("run.resumed", "resuming run \(previous.id): finished chunks are kept")
        } else {
            recorder = try await newRecorder(
                kind: kind, source: sourceURL, target: targetURL,
                planHash: planHash, echo: say)
        }
        runStarted(recorder.runID)
        do {
            try PlanArtifacts.write(plan, to: recorder.artifactsDirectory)
            try recorder.writeJSONArtifact("analysis_report.json", AnalysisReport(catalog: catalog, source: sourceURL, generatedAt: ISOTime.now()))
            await recorder.event(
                "run.started",
                "migrating \(plan.tables.count) tables from \(sourceURL) to \(targetURL) "
                    + "(mode \(options.mode.rawValue), \(options.parallel) in parallel)")
            let results = try await mover.run(recorder: recorder, catalog: catalog, resuming: previous != nil)
            var validation: ValidationReport?
            if validate, !results.contains(where: { $0.status == .cancelled }) {
                let moved = Set(results.filter(\.succeeded).map(\.source))
                var checked = plan
                checked.tables = plan.tables.filter { moved.contains($0.source.description) }
                validation = try await Validator(source: source, target: target, retry: options.retry).run(
                    plan: checked, catalog: catalog, recorder: recorder)
                try recorder.writeJSONArtifact("validation_results.json", validation)
            }
            let outcome = MigrateOutcome(runID: recorder.runID, directory: recorder.artifactsDirectory, results: results, validation: validation)
            try recorder.writeArtifact("summary.md", Summary.markdown(outcome, plan: plan, source: sourceURL, target: targetURL))
            let status: RunStatus = results.contains { $0.status == .cancelled } ? .cancelled : outcome.succeeded ? .succeeded : .failed
            try await recorder.finish(status: status, summary: Summary.line(outcome))
            return outcome
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    /// An incremental run does not resume an unfinished one (which would keep reloading its old
    /// window, or failing on it, while new changes wait): it closes it as `superseded` and loads
    /// from the stored watermarks, whose window covers the old one (rows are upserted, so loading
    /// one twice is harmless). `--resume` resumes instead.
    private func supersede(_ run: RunRecord) async throws {
        _ = try await RunLease.take(run, store: store, busyHint: "wait for it to finish or stop it with `cutover runs cancel \(run.id)`")
        try await store.finishRun(
            id: run.id, status: .superseded, summary: run.summary,
            error: "not finished; a later incremental run loaded from the stored watermarks instead")
        say("run \(run.id) did not finish: starting a new incremental run from the stored watermarks (use --resume to resume it instead)")
    }

    /// cutover.yml's table settings under `options`' own (a request's win); a setting that does not
    /// parse stops the run before it starts.
    static func applyingTableSettings(_ options: MoveOptions, _ config: CutoverConfig, _ plan: MigrationPlan) throws -> MoveOptions {
        var options = options
        options.tables = config.tableSettings.merging(options.tables) { _, requested in requested }
        for tablePlan in plan.tables { _ = try options.forTable(tablePlan.source) }
        return options
    }

    /// `cutover worker`: joins the unfinished migrate run `runID` and loads chunks from its ledger.
    /// The source and target must be the run's (checked through the plan hash).
    public func work(
        runID: String, source sourceURL: ConnectionURL, target targetURL: ConnectionURL, scope: Scope, config: CutoverConfig,
        options: MoveOptions, targetSchema: String? = nil
    ) async throws -> Int {
        guard let run = try await store.run(id: runID) else {
            throw CutoverError(.usage, "no run with id \(runID) in the store", hint: "pass the store the run lives in with --store")
        }
        guard run.status == .running else {
            throw CutoverError(.usage, "run \(runID) is \(run.status); workers join running runs only")
        }
        let prepared = try await prepare(
            source: sourceURL, target: targetURL, writingTarget: true, scope: scope, config: config, targetSchema: targetSchema)
        let mover = Mover(
            source: prepared.source, target: prepared.target, plan: prepared.plan,
            options: try Self.applyingTableSettings(options, config, prepared.plan))
        guard try mover.planHash() == run.planHash else {
            throw CutoverError(
                .usage, "this worker's source, target, tables or mode differ from run \(runID)'s plan",
                hint: "start the worker with the same --source, --target, --schema/--tables, --mode and config as the migrate command")
        }
        let recorder = try await RunRecorder(store: store, joining: run, echo: say)
        return try await mover.join(recorder: recorder, catalog: prepared.catalog)
    }

    /// Runs a rulebook on the source and/or target; rules are stored in the rulebook (by content hash).
    public func runRules(
        _ rules: [Rule], source sourceURL: ConnectionURL?, target targetURL: ConnectionURL?, config: CutoverConfig,
        environment: String?
    ) async throws -> (results: [RuleResult], newRules: Int, runID: String) {
        let name = environment ?? config.defaultEnvironment
        let environmentConfig = try name.map(config.environment(named:))
        let newRules = try await store.saveRules(try rules.map { try $0.stored() })
        let recorder = try await newRecorder(kind: "rules", source: sourceURL, target: targetURL)
        let started = ISOTime.now()
        do {
            let source = try await sourceURL.asyncMap { try await connect($0, role: .source) }
            let target = try await targetURL.asyncMap { try await connect($0, role: .source) }
            let runner = RuleRunner(
                environmentName: name, environment: environmentConfig, refusePrivilegedRole: refusePrivilegedRoles)
            var results: [RuleResult] = []
            for rule in rules {
                var sides: [(String, any Connector)] = []
                if rule.side != .target, let source { sides.append(("source", source)) }
                if rule.side != .source, let target { sides.append(("target", target)) }
                if sides.isEmpty {
                    throw CutoverError(
                        .usage, "rule \(rule.name) runs on the \(rule.side.rawValue), but no such connection was given",
                        hint: "pass --source and/or --target")
                }
                for (side, connector) in sides {
                    let result = await runner.run(rule, on: connector, side: side)
                    results.append(result)
                    try await recorder.recordTable(
                        RunTableRecord(
                            runID: recorder.runID, table: "\(rule.name)@\(side)", status: result.status.rawValue,
                            targetRows: result.offendingRows, message: result.message))
                }
            }
            try await recorder.recordValidation(
                suite: "rules", source: sourceURL?.description, target: targetURL?.description, started: started,
                results.map { $0.resultRecord(runID: recorder.runID) })
            try recorder.writeJSONArtifact("rule_results.json", results)
            let failed = results.filter { $0.status == .failed }.count
            try await recorder.finish(
                status: failed == 0 ? .succeeded : .failed,
                summary: "\(results.count - failed) of \(results.count) rule checks without errors")
            return (results, newRules, recorder.runID)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    /// Options for `cutover diff`.
    public struct DiffRequest: Sendable {
        public var table: TableRef
        /// The target table when its name differs from the planned one.
        public var targetTable: TableRef?
        /// Compare by these source columns instead of the table's key.
        public var key: [String]?
        /// Compare only these source columns (the key is always included).
        public var columns: [String]?
        public var tolerances: Tolerances
        public var strategy: TableComparer.Strategy
        public init(
            table: TableRef, targetTable: TableRef? = nil, key: [String]? = nil, columns: [String]? = nil, tolerances: Tolerances = Tolerances(),
            strategy: TableComparer.Strategy = .auto
        ) {
            self.tolerances = tolerances
            self.strategy = strategy
            self.table = table
            self.targetTable = targetTable
            self.key = key
            self.columns = columns
        }
    }

    /// Row-level diff of one table across engines, recorded as a validate run.
    public func diff(
        source sourceURL: ConnectionURL, target targetURL: ConnectionURL, _ request: DiffRequest, config: CutoverConfig
    ) async throws -> TableComparison {
        let recorder = try await newRecorder(kind: "diff", source: sourceURL, target: targetURL)
        do {
            let source = try await connect(sourceURL, role: .source)
            if let catalogOnly = source as? any CatalogOnlySource { throw catalogOnly.noRows }
            let target = try await connect(targetURL, role: .source)
            // Names read as each engine reads them, the same for source and target.
            let sourceNames = source.dialect.nameFolding, targetNames = target.dialect.nameFolding
            let scope = Scope(schemas: request.table.schema.map { [$0] } ?? [], tables: [request.table.description], profile: .risky)
            let catalog = try await source.catalog(scope)
            guard let table = catalog.tables.first(where: { sourceNames.names(request.table.description, $0.ref) }) else {
                throw CutoverError(.tableNotFound, "table \(request.table) not found at the source")
            }
            guard
                var tablePlan = try Planner(targetEngine: targetURL.engine, overrides: config.overrides).plan(catalog, source: sourceURL).tables
                    .first(where: { $0.source == table.ref })
            else {
                throw CutoverError(
                    .usage,
                    "\(table.ref) is a \(table.kind.rawValue.replacingOccurrences(of: "_", with: " ")), not a table holding data: diff compares tables",
                    hint: "diff the tables the view reads, or a table the view was materialised into")
            }
            if let targetTable = request.targetTable { tablePlan.target = targetNames.stored(targetTable) }
            func column(_ written: String) throws -> String {
                guard let found = table.columns.first(where: { sourceNames.matches(written, $0.name) }) else {
                    throw CutoverError(
                        .usage, "\(table.ref) has no column \(written)", hint: "columns: " + table.columns.map(\.name).joined(separator: ", "))
                }
                return found.name
            }
            let key = try request.key.map { try $0.map(column) }
            let columns = try request.columns.map { try $0.map(column) }
            if let key { tablePlan.key = key }
            if let columns {
                let keep = Set(columns + (tablePlan.key ?? []))
                tablePlan.columns = tablePlan.columns.filter { keep.contains($0.column) }
            }
            for name in request.tolerances.columns.keys where name != "*" { _ = try column(name) }
            var comparer = TableComparer(source: source, target: target, tolerances: request.tolerances)
            comparer.strategy = request.strategy
            let comparison: TableComparison
            do {
                comparison = try await comparer.compare(tablePlan, table)
            } catch let error as CutoverError where error.code == .valueDoesNotFit {
                // A compare query the data broke (an infinite date) is a compare that could not run, not a difference.
                throw CutoverError(.query, error.message, hint: error.hint, context: error.context)
            }
            try recorder.writeJSONArtifact("diff_\(table.ref.name).json", comparison)
            try await recorder.recordTable(
                RunTableRecord(
                    runID: recorder.runID, table: table.ref.description, status: comparison.status.rawValue,
                    sourceRows: comparison.sourceRows, targetRows: comparison.targetRows, message: comparison.message))
            try await recorder.finish(status: comparison.passed ? .succeeded : .failed, summary: comparison.message)
            return comparison
        } catch {
            await recorder.fail(error)
            throw error
        }
    }

    /// Both connectors, the source catalog and the plan for the target's engine.
    struct Prepared {
        var source: any Connector
        var target: any Connector
        var catalog: Catalog
        var plan: MigrationPlan
    }

    /// Connects both sides (a SQLite target file is only created when it will be written), reads the
    /// source catalog for `scope` and plans it for the target, honouring the config's tables and overrides.
    func prepare(
        source sourceURL: ConnectionURL, target targetURL: ConnectionURL, writingTarget: Bool, scope: Scope, config: CutoverConfig,
        targetSchema: String?, selection: TableSelection? = nil
    ) async throws -> Prepared {
        let source = try await connect(sourceURL, role: .source)
        if let catalogOnly = source as? any CatalogOnlySource { throw catalogOnly.noRows }
        let target = try await connect(targetURL, role: writingTarget ? .target : .source)
        // Profiled where declared types do not bind values, so that migrate, validate and plan
        // choose the same types: those the values need.
        let catalog = try await source.catalog(scope.profiling(.risky))
        // A schema in the target URL (snowflake://…/DB/SCHEMA) is where the tables go, unless --target-schema says otherwise.
        let plan = try Planner(targetEngine: targetURL.engine, overrides: config.overrides, targetSchema: targetSchema ?? targetURL.schema)
            .plan(catalog, source: sourceURL, tables: selection ?? config.tables)
        return Prepared(source: source, target: target, catalog: catalog, plan: plan)
    }

    /// A run that failed before it could start is still recorded, with its error.
    private func recordFailure(kind: String, source: ConnectionURL?, target: ConnectionURL?, error: any Error) async throws {
        let run = RunRecord(
            id: RunRecord.newID(), kind: kind, source: source?.description, target: target?.description, createdBy: startedBy,
            request: request)
        try await store.startRun(run)
        runStarted(run.id)
        try await store.finishRun(id: run.id, status: .failed, summary: nil, error: error.redactedDescription)
    }

    /// Compares every table of the source with the target without moving anything.
    public func validate(
        source sourceURL: ConnectionURL, target targetURL: ConnectionURL, scope: Scope, config: CutoverConfig,
        targetSchema: String? = nil, tolerances: Tolerances = Tolerances()
    ) async throws -> (ValidationReport, String) {
        let recorder = try await newRecorder(kind: "validate", source: sourceURL, target: targetURL, echo: say)
        runStarted(recorder.runID)
        do {
            let report: ValidationReport
            let source = try await connect(sourceURL, role: .source)
            if let catalogOnly = source as? any CatalogOnlySource {
                // A source without rows (a SQL Server export) is validated by the aggregates computed where the rows are.
                guard let aggregates = catalogOnly.aggregates else { throw catalogOnly.noRows }
                let target = try await connect(targetURL, role: .source)
                let catalog = try await catalogOnly.catalog(scope)
                let plan = try Planner(targetEngine: targetURL.engine, overrides: config.overrides, targetSchema: targetSchema ?? targetURL.schema)
                    .plan(catalog, source: sourceURL, tables: config.tables)
                report = try await AggregateValidator(source: catalogOnly, target: target, aggregates: aggregates).run(
                    plan: plan, catalog: catalog, recorder: recorder)
            } else {
                let p = try await prepare(
                    source: sourceURL, target: targetURL, writingTarget: false, scope: scope, config: config, targetSchema: targetSchema)
                report = try await Validator(source: p.source, target: p.target, tolerances: tolerances).run(
                    plan: p.plan, catalog: p.catalog, recorder: recorder)
            }
            let path = try recorder.writeJSONArtifact("validation_results.json", report)
            try await recorder.finish(status: report.allPassed ? .succeeded : .failed, summary: "\(report.passed) passed, \(report.failed) failed")
            return (report, path)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }
}

/// The run summary, for the terminal and for `summary.md`.
public enum Summary {
    public static func line(_ outcome: Jobs.MigrateOutcome) -> String {
        let moved = outcome.results.filter(\.succeeded)
        var text = "\(moved.count)/\(outcome.results.count) tables moved, \(Format.count(moved.reduce(0) { $0 + $1.rows })) rows"
        let partial = outcome.results.filter { !$0.succeeded }.reduce(0) { $0 + $1.rows }
        if partial > 0 { text += " (and \(Format.count(partial)) committed by tables that did not finish)" }
        let rejected = outcome.results.reduce(0) { $0 + $1.rejected }
        if rejected > 0 { text += ", \(Format.count(rejected)) rejected" }
        let deleted = outcome.results.reduce(0) { $0 + $1.deleted }
        if deleted > 0 { text += ", \(Format.count(deleted)) deleted (gone at the source)" }
        if let validation = outcome.validation { text += "; validation: \(validation.passed) passed, \(validation.failed) failed" }
        return text
    }

    public static func markdown(_ outcome: Jobs.MigrateOutcome, plan: MigrationPlan, source: ConnectionURL, target: ConnectionURL) -> String {
        var text =
            "# Cutover run \(outcome.runID)\n\n- source: \(source)\n- target: \(target)\n- result: **\(outcome.succeeded ? "succeeded" : "failed")** — \(line(outcome))\n\n"
        text += "| table | target | rows | time | load | validation |\n|---|---|---:|---:|---|---|\n"
        for result in outcome.results {
            let check = outcome.validation?.tables.first { $0.table == result.source }
            text +=
                "| \(result.source) | \(result.target) | \(Format.count(result.rows)) | \(Format.duration(result.seconds)) | "
                + (result.succeeded ? "moved" : "FAILED: \(result.error ?? "")" + (result.aftermath.map { " — " + $0 } ?? "")) + " | "
                + (check.map { ($0.passed ? "passed: " : "FAILED: ") + $0.message } ?? "-") + " |\n"
        }
        if plan.reviewCount > 0 { text += "\n\(plan.reviewCount) column mapping(s) need review: see mapping_decisions.yml.\n" }
        return text
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
