import CutoverCore
import CutoverStore
import Foundation

/// What the copilot answers: the query it chose and why, the values it filled in, the SQL, and the
/// result — or that it does not know, with the closest candidates.
public struct CopilotAnswer: Codable, Sendable {
    /// An intent the copilot weighed, with its score: the runner-up, or the closest when it does not know.
    public struct Candidate: Codable, Sendable, Hashable {
        public var intent: String
        public var title: String
        public var score: Double
        public var matched: [String]
    }

    public var question: String
    /// Whether an intent was chosen (and run, unless ``notRun`` says why not).
    public var answered: Bool
    public var intent: String?
    public var title: String?
    public var description: String?
    /// 0…1: how much of the question the chosen query explains, lowered when another came close.
    public var confidence: Double
    /// Why this query: the words that matched with their weight, the values filled in, the runner-up.
    public var why: [String]
    public var parameters: [String: String]
    /// Where the answer comes from: `store`, `connection NAME`, `ingestion`, `analysis of run ID`, `workload of run ID`.
    public var source: String?
    /// The statement run, with `?` for each bound parameter below.
    public var sql: String?
    public var sqlParameters: [String?]?
    public var columns: [String]
    public var rows: [[String?]]
    public var truncated: Bool
    /// Why a chosen query was not run (the asker's role, nothing configured).
    public var notRun: String?
    /// What to tell the asker when nothing was chosen.
    public var message: String?
    /// The closest three intents.
    public var candidates: [Candidate]
}

/// Answers questions from the query library, the store's own tables, the ingestion report and the
/// newest analysis and workload — deterministic, read-only, explained.
public struct Copilot: Sendable {
    /// Runs a library query (rendered for its environment) read-only on a connection, with the
    /// asker's rights: the server passes its SQL runner, the CLI a local connection.
    public typealias QueryRunner = @Sendable (_ sql: String, _ connection: String) async throws -> RunnerAnswer

    public var config: CutoverConfig
    public var store: any MetadataStore
    public var access: CopilotAccess
    public var runQuery: QueryRunner
    public static let rowLimit = 1000

    public init(config: CutoverConfig, store: any MetadataStore, access: CopilotAccess, runQuery: @escaping QueryRunner) {
        self.config = config
        self.store = store
        self.access = access
        self.runQuery = runQuery
    }

    /// Every intent this configuration has: the built-in ones and one per library query.
    public var intents: [CopilotIntent] { CopilotIntent.builtIn + CopilotIntent.library(config.queries) }

    /// Table names the store has seen (runs and validations) and the newest analysis has, plus
    /// the configured environments and the check names.
    public func vocabulary() async throws -> CopilotVocabulary { try await vocabulary(analysis: Self.latestAnalysis(store)) }

    /// The vocabulary with the newest analysis already read.
    func vocabulary(analysis: Analysis?) async throws -> CopilotVocabulary {
        var tables = Set<String>()
        for read in [Self.movedTables, Self.validatedTables] {
            for row in try await store.read(read) { if let name = row[0] { tables.insert(name) } }
        }
        if let analysis {
            for table in analysis.report.catalog.tables { tables.insert(table.ref.description) }
        }
        return CopilotVocabulary(
            tables: tables.sorted(), environments: config.environments.keys.sorted(), checks: CheckRegistry.all.map { $0.name }.sorted())
    }

    static let movedTables = StoreRead("SELECT table_name FROM run_tables GROUP BY table_name LIMIT 5000", columns: ["table"])
    static let validatedTables = StoreRead(
        "SELECT table_name FROM validation_results WHERE table_name IS NOT NULL GROUP BY table_name LIMIT 5000", columns: ["table"])

    /// `vocabulary`: the names to recognise, when the caller keeps them (the server, for a minute);
    /// read from the store otherwise.
    public func ask(
        _ text: String, environment: String? = nil, connection: String? = nil, vocabulary known: CopilotVocabulary? = nil, now: Date = Date()
    ) async throws -> CopilotAnswer {
        let names: CopilotVocabulary
        // Read once per question: the vocabulary and an answer about the analysis need the same report.
        var analysisRead: Analysis??
        if let known {
            names = known
        } else {
            let analysis = try await Self.latestAnalysis(store)
            analysisRead = .some(analysis)
            names = try await vocabulary(analysis: analysis)
        }
        let question = CopilotQuestion(text, vocabulary: names, now: now)
        let match = CopilotMatcher(intents: intents).match(question)
        var answer = Self.describe(match)
        guard question.asksToWrite.isEmpty else {
            answer.answered = false
            answer.message =
                "The copilot only reads: it does not \(question.asksToWrite.joined(separator: ", ")). Use the SQL runner (admins may write) or the CLI."
            return answer
        }
        guard let chosen = match.chosen else { return answer }
        var slots = question.slots
        if slots.environment == nil { slots.environment = environment ?? config.defaultEnvironment }
        if slots.period == nil, let days = chosen.intent.defaultDays, chosen.intent.accepts.contains(.period) {
            slots.period = .init(from: now.addingTimeInterval(-Double(days) * 86_400), to: now, words: "the last \(days) days (default)")
            answer.why.append("no period named: the last \(days) days")
        }
        answer.parameters = Self.parameters(slots, of: chosen.intent)
        guard access >= chosen.intent.access else {
            answer.notRun = "\(chosen.intent.title) needs the \(chosen.intent.access) role; you are a \(access)."
            return answer
        }
        try await run(chosen.intent, slots: slots, connection: connection, analysis: analysisRead, into: &answer)
        return answer
    }

    /// The chosen intent (if any), the reasons and the candidates, before anything runs.
    static func describe(_ match: CopilotMatcher.Match) -> CopilotAnswer {
        let candidates = match.ranked.prefix(3).map {
            CopilotAnswer.Candidate(
                intent: $0.intent.id, title: $0.intent.title, score: (($0.score * 100).rounded() / 100), matched: $0.matched.map(\.term))
        }
        var answer = CopilotAnswer(
            question: match.question.text, answered: false, intent: nil, title: nil, description: nil,
            confidence: (match.confidence * 100).rounded() / 100, why: [], parameters: [:], source: nil, sql: nil, sqlParameters: nil,
            columns: [], rows: [], truncated: false, notRun: nil, message: nil, candidates: candidates)
        guard let chosen = match.chosen else {
            answer.message =
                candidates.isEmpty
                ? "I don't know: no query in the library or the store's questions matches these words."
                : "I don't know which query answers that (confidence \(answer.confidence)); the closest are below — rephrase with their words, or name a table, a run or a period."
            return answer
        }
        answer.answered = true
        answer.intent = chosen.intent.id
        answer.title = chosen.intent.title
        answer.description = chosen.intent.description
        answer.why.append(
            "matched " + chosen.matched.map { "'\($0.term)' (\(String(format: "%.2f", $0.weight)))" }.joined(separator: ", ")
                + " in \(chosen.intent.id)'s name, description or phrasings; \(Int((match.coverage * 100).rounded())) % of the question's word weight"
        )
        if let second = match.ranked.dropFirst().first {
            answer.why.append(
                "chosen over \(second.intent.id) (score \(String(format: "%.2f", chosen.score)) against \(String(format: "%.2f", second.score)))")
        }
        let slots = match.question.slots
        if let period = slots.period {
            answer.why.append("'\(period.words)' → \(CopilotQuestion.day(period.from)) up to (not including) \(CopilotQuestion.day(period.to))")
        }
        if let table = slots.table { answer.why.append("table \(table) (a table the store or the latest analysis knows)") }
        if let run = slots.run { answer.why.append("run \(run)") }
        answer.why += chosen.slotNotes
        return answer
    }

    /// The slots the intent uses, as text.
    static func parameters(_ slots: CopilotSlots, of intent: CopilotIntent) -> [String: String] {
        let names: [CopilotIntent.Slot: [String]] = [.period: ["from", "to"]]
        let used = Set(intent.accepts.flatMap { names[$0] ?? [$0.rawValue] })
        return slots.parameters.filter { used.contains($0.key) }
    }

    // MARK: Running

    /// `analysis`: the newest analysis when the question already read it (`.some(nil)`: there is none).
    func run(
        _ intent: CopilotIntent, slots: CopilotSlots, connection: String?, analysis read: Analysis?? = nil, into answer: inout CopilotAnswer
    ) async throws {
        func newestAnalysis() async throws -> Analysis? {
            if let read { return read }
            return try await Self.latestAnalysis(store)
        }
        switch intent.source {
        case .store(let read, let bind):
            let bound = read.binding(bind(slots))
            var rows = try await store.read(bound)
            var columns = read.columns
            if let finish = intent.finish { (columns, rows) = finish(rows, slots) }
            answer.source = "store"
            answer.sql = read.sql
            answer.sqlParameters = bound.parameters
            answer.columns = columns
            answer.rows = rows
        case .library(let name, let text):
            let environmentName = slots.environment
            let environment = try environmentName.map(config.environment(named:))
            guard
                let connectionName = environment?.connection ?? connection
                    ?? config.connections.keys.sorted().first.flatMap({ config.connections.count == 1 ? $0 : nil })
            else {
                answer.notRun = "\(name) needs a connection: choose an environment with `connection:` in cutover.yml, or name one."
                return
            }
            let sql = try Rulebook.statement(text, environment: environmentName, environment)
            let result = try await runQuery(sql, connectionName)
            answer.source = "connection \(connectionName)" + (environmentName.map { " (environment \($0))" } ?? "")
            answer.sql = sql
            answer.sqlParameters = []
            answer.columns = result.columns
            answer.rows = result.rows.map { $0.map { $0.isNull ? nil : $0.displayText } }
            answer.truncated = result.truncated
        case .ingestion(let view):
            guard config.ingestion != nil else {
                answer.notRun = "no ingestion metadata is configured (ingestion: in cutover.yml; see README, Operations)"
                return
            }
            let health = try await IngestionReader.open(config: config, store: store).health()
            let pipelines = health.pipelines.filter { pipeline in
                (slots.environment == nil || pipeline.environment == nil || pipeline.environment == slots.environment)
                    && Self.shows(pipeline, view: view, status: slots.status)
            }
            answer.source = "ingestion (\(health.source))"
            answer.columns = ["pipeline", "source", "freshness", "lag_hours", "last_loaded_at", "last_status", "last_rows", "rows_score", "problems"]
            answer.rows = pipelines.map { p in
                [
                    p.name, p.source, p.freshness.rawValue, p.lagSeconds.map { String(format: "%.1f", $0 / 3600) }, p.lastLoadedAt, p.lastStatus,
                    p.lastRows.map(String.init), p.rowsScore.map { String(format: "%.1f", $0) }, p.problems.joined(separator: "; "),
                ]
            }
        case .analysis(let view):
            guard let analysis = try await newestAnalysis() else {
                answer.notRun = "no analysis is in the store yet: run `cutover analyze --source URL` first"
                return
            }
            answer.source = "analysis of run \(analysis.runID) (\(analysis.report.source))"
            (answer.columns, answer.rows) = Self.rows(of: analysis.report.catalog, view: view, slots: slots)
        case .workload(let view):
            guard let workload = try await WorkloadSummary.latest(in: store) else {
                answer.notRun = "no workload has been imported: run `cutover workload import FILE…` first"
                return
            }
            answer.source = "workload of run \(workload.runID)"
            let catalog = try await newestAnalysis()?.report.catalog
            if catalog == nil {
                answer.notRun = "finding unused tables needs an analysis too: run `cutover analyze --source URL`"
                return
            }
            (answer.columns, answer.rows) = Self.rows(of: workload.summary, view: view, catalog: catalog, slots: slots)
        }
        if answer.rows.count > Self.rowLimit {
            answer.rows = Array(answer.rows.prefix(Self.rowLimit))
            answer.truncated = true
        }
    }

    static func shows(_ pipeline: PipelineHealth, view: CopilotIntent.IngestionView, status: String?) -> Bool {
        let late = [.late, .breached, .never].contains(pipeline.freshness)
        switch view {
        case .all: return status == "late" ? late : status == "failed" ? pipeline.lastFailed : true
        case .late: return late
        case .failedLoads: return pipeline.lastFailed || pipeline.failedInWindow > 0
        case .anomalies: return (pipeline.rowsScore ?? 0) >= IngestionReader.defaultAnomalyScore
        }
    }

    static func rows(of catalog: Catalog, view: CopilotIntent.AnalysisView, slots: CopilotSlots) -> ([String], [[String?]]) {
        let tables = catalog.tables.filter { table in
            slots.table.map { $0 == table.ref.description || $0 == table.ref.name } ?? true
        }
        let limit = slots.limit ?? 50
        switch view {
        case .largestTables:
            let sorted = tables.sorted { ($0.rowCount ?? -1, $0.sizeBytes ?? -1) > ($1.rowCount ?? -1, $1.sizeBytes ?? -1) }.prefix(limit)
            return (
                ["table", "rows", "exact", "bytes"],
                sorted.map { [$0.ref.description, $0.rowCount.map(String.init), String($0.rowCountIsExact), $0.sizeBytes.map(String.init)] }
            )
        case .withoutPrimaryKey:
            return (
                ["table", "rows", "unique_keys"],
                tables.filter { $0.primaryKey == nil && $0.kind != .view }.prefix(limit).map {
                    [$0.ref.description, $0.rowCount.map(String.init), String($0.uniqueKeys.count)]
                }
            )
        case .columns:
            return (
                ["table", "column", "type", "nullable", "default", "identity"],
                tables.flatMap { table in
                    table.columns.map {
                        [table.ref.description, $0.name, $0.nativeType, String($0.isNullable), $0.defaultExpression, $0.identity?.rawValue]
                    }
                }
            )
        case .foreignKeys:
            let keys = catalog.tables.flatMap { table in table.foreignKeys.map { (table: table.ref, key: $0) } }.filter { pair in
                slots.table.map {
                    [pair.table.description, pair.table.name, pair.key.referencedTable.description, pair.key.referencedTable.name].contains($0)
                } ?? true
            }
            return (
                ["table", "columns", "references", "referenced_columns"],
                keys.prefix(limit).map {
                    [
                        $0.table.description, $0.key.columns.joined(separator: ", "), $0.key.referencedTable.description,
                        $0.key.referencedColumns.joined(separator: ", "),
                    ]
                }
            )
        }
    }

    /// Analyzed tables no statement of the workload uses.
    static func rows(of summary: WorkloadSummary, view: CopilotIntent.WorkloadView, catalog: Catalog?, slots: CopilotSlots) -> ([String], [[String?]])
    {
        let unused = (catalog?.tables ?? []).filter { $0.kind != .view && summary.weight(of: $0.ref) == nil }
        return (["table", "rows"], unused.prefix(slots.limit ?? 20).map { [$0.ref.description, $0.rowCount.map(String.init)] })
    }

    /// An analysis report and the run that wrote it.
    typealias Analysis = (runID: String, report: AnalysisReport)

    /// The newest analysis report in the store, with the run that wrote it.
    static func latestAnalysis(_ store: any MetadataStore) async throws -> Analysis? {
        try await store.latestArtifact("analysis_report.json", as: AnalysisReport.self) {
            ["analyze", "plan", "migrate", "demo"].contains($0.kind) && $0.status != .failed
        }.map { ($0.runID, $0.value) }
    }
}
