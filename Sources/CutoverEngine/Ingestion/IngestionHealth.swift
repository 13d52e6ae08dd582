import CutoverCore
import CutoverStore
import Foundation

/// The health of the pipelines that feed the warehouse, read from the team's ingestion metadata
/// (`ingestion:` in cutover.yml): how late each table's last load is against its expected frequency,
/// whether its last load failed, and whether the last load's volume is far from the usual one.
public struct IngestionHealth: Codable, Sendable {
    public var checkedAt: String
    /// The pipelines table and connection read (password masked).
    public var source: String
    public var pipelines: [PipelineHealth]

    /// Pipelines with anything to say about them.
    public var unhealthy: [PipelineHealth] { pipelines.filter { !$0.problems.isEmpty } }
}

/// One pipeline (one row of the pipelines table).
public struct PipelineHealth: Codable, Sendable, Hashable {
    /// How late a pipeline's last load is against its expected frequency.
    public enum Freshness: String, Codable, Sendable {
        /// Loaded within its expected frequency.
        case fresh
        /// Later than its frequency, within the SLA.
        case late
        /// Later than the SLA (`sla_factor` × the frequency).
        case breached
        /// Never loaded.
        case never
        /// Switched off in the metadata: not watched.
        case inactive
    }

    public var key: String
    /// The target table, `schema.table`.
    public var name: String
    public var source: String?
    public var environment: String?
    public var active: Bool
    public var expectedEverySeconds: Double
    public var lastLoadedAt: String?
    public var lagSeconds: Double?
    public var freshness: Freshness
    /// The last load's status, from the history (or the pipelines table's status column).
    public var lastStatus: String?
    public var loadsInWindow: Int
    public var failedInWindow: Int
    public var lastRows: Int64?
    /// Median and median absolute deviation of the rows of the earlier loads (at most 20).
    public var medianRows: Double?
    public var madRows: Double?
    /// How far the last load's rows are from the median, in robust standard deviations
    /// (|x − median| / (1.4826 × MAD)); nil with fewer than 5 earlier loads.
    public var rowsScore: Double?
    public var problems: [String]

    public var lastFailed: Bool { lastStatus.map(IngestionReader.isFailure) ?? false }
}

/// Reads the ingestion metadata through any connector and computes ``IngestionHealth``.
public struct IngestionReader: Sendable {
    public static let defaultExpectedEvery: TimeInterval = 86_400
    public static let defaultSLAFactor = 2.0
    public static let defaultAnomalyScore = 3.5
    /// Earlier loads the volume baseline needs, and uses at most.
    static let baselineMinimum = 5, baselineMaximum = 20

    /// Each role and the names its column usually has; `columns:` in the config names others.
    public static let roles: [(role: String, candidates: [String])] = [
        ("key", ["config_id", "pipeline_id", "pipeline", "id"]),
        ("target_schema", ["target_schema"]),
        ("target", ["target_table", "table_name", "target"]),
        ("source", ["source_table", "source"]),
        ("source_system", ["source_system"]),
        ("source_schema", ["source_schema"]),
        ("last_loaded", ["last_loaded_at", "last_load_time", "last_success_at", "last_loaded", "loaded_at"]),
        ("frequency", ["frequency", "load_frequency", "expected_frequency", "schedule"]),
        ("active", ["is_active", "active", "enabled"]),
        ("environment", ["environment", "env"]),
        ("status", ["last_status", "load_status", "status"]),
        ("rows", ["last_row_count", "last_rows", "rows_loaded", "row_count"]),
        ("history_key", ["config_id", "pipeline_id", "pipeline"]),
        ("history_target", ["target_table", "table_name"]),
        ("history_loaded_at", ["loaded_at", "load_time", "finished_at", "completed_at", "load_end", "started_at"]),
        ("history_rows", ["rows_loaded", "row_count", "rows", "records"]),
        ("history_status", ["status", "load_status", "result"]),
    ]

    let config: CutoverConfig.IngestionConfig
    let connector: any Connector

    /// Opens the configured connection (never the metadata store).
    public static func open(config: CutoverConfig, store: any MetadataStore) async throws -> IngestionReader {
        guard let ingestion = config.ingestion else {
            throw CutoverError(
                .config, "no ingestion metadata is configured",
                hint: "add `ingestion: {connection: NAME-OR-URL, pipelines: TABLE}` to cutover.yml (see README, Operations: ingestion health)")
        }
        let url = try config.resolveConnection(ingestion.connection)
        try await Connectors.refuseStore(url, store: store)
        return IngestionReader(config: ingestion, connector: try await Connectors.connect(url, role: .source))
    }

    public init(config: CutoverConfig.IngestionConfig, connector: any Connector) {
        self.config = config
        self.connector = connector
    }

    public func health(now: Date = Date()) async throws -> IngestionHealth {
        let defaultEvery = try config.expectedEvery.map { try Age.seconds($0, option: "ingestion.expected_every") } ?? Self.defaultExpectedEvery
        let window = try config.historyWindow.map { try Age.seconds($0, option: "ingestion.history_window") } ?? 30 * 86_400
        let slaFactor = config.slaFactor ?? Self.defaultSLAFactor
        guard slaFactor >= 1, slaFactor.isFinite else {
            throw CutoverError(
                .config, "ingestion.sla_factor \(slaFactor) must be 1 or more", hint: "e.g. sla_factor: 2 (an SLA breach at twice the frequency)")
        }
        let pipelinesTable = try await table(config.pipelines, what: "ingestion.pipelines")
        let columns = try resolve(pipelinesTable, roles: Self.roles.filter { !$0.role.hasPrefix("history_") })
        guard columns["target"] != nil || columns["key"] != nil else {
            throw CutoverError(
                .config, "\(config.pipelines) has no column that names the pipeline's table (\(Self.candidates("target")))",
                hint: "name it in cutover.yml: ingestion.columns.target: COLUMN")
        }
        guard columns["last_loaded"] != nil || config.history != nil else {
            throw CutoverError(
                .config, "\(config.pipelines) has no last-load time column (\(Self.candidates("last_loaded"))) and no history table is configured",
                hint: "name it with ingestion.columns.last_loaded, or configure ingestion.history")
        }
        var pipelines: [PipelineHealth] = []
        try await each(row: pipelinesTable, columns: Array(Set(columns.values)).sorted(), filter: nil) { row in
            let environment = columns["environment"].flatMap { row[$0] }.map(\.displayText)
            if let wanted = config.environment, let environment, environment.caseInsensitiveCompare(wanted) != .orderedSame { return }
            let target = columns["target"].flatMap { row[$0] }.map(\.displayText)
            let name = [columns["target_schema"].flatMap { row[$0] }.map(\.displayText), target].compactMap { $0 }.joined(separator: ".")
            let key = columns["key"].flatMap { row[$0] }.map(\.displayText) ?? name
            let source = [columns["source_system"], columns["source_schema"], columns["source"]].compactMap { $0.flatMap { row[$0] }?.displayText }
            let every = try columns["frequency"].flatMap { row[$0] }.flatMap { try Self.frequency($0, pipeline: key) } ?? defaultEvery
            pipelines.append(
                PipelineHealth(
                    key: key, name: name.isEmpty ? key : name, source: source.isEmpty ? nil : source.joined(separator: "."), environment: environment,
                    active: columns["active"].flatMap { row[$0] }.map(Self.isTrue) ?? true, expectedEverySeconds: every,
                    lastLoadedAt: columns["last_loaded"].flatMap { row[$0] }.flatMap(Self.time).map(ISOTime.string), lagSeconds: nil,
                    freshness: .never,
                    lastStatus: columns["status"].flatMap { row[$0] }.flatMap { $0.isNull ? nil : $0.displayText }, loadsInWindow: 0,
                    failedInWindow: 0,
                    lastRows: columns["rows"].flatMap { row[$0] }.flatMap(Self.integer), medianRows: nil, madRows: nil, rowsScore: nil, problems: []))
        }
        if let history = config.history {
            try await readHistory(history, into: &pipelines, since: now.addingTimeInterval(-window))
        }
        for index in pipelines.indices { Self.judge(&pipelines[index], now: now, slaFactor: slaFactor) }
        return IngestionHealth(
            checkedAt: ISOTime.string(now), source: "\(config.pipelines) on \(connector.url)",
            pipelines: pipelines.sorted { ($0.problems.isEmpty ? 1 : 0, $0.name) < ($1.problems.isEmpty ? 1 : 0, $1.name) })
    }

    /// Freshness, failure and volume, in words.
    static func judge(_ pipeline: inout PipelineHealth, now: Date, slaFactor: Double) {
        guard pipeline.active else {
            pipeline.freshness = .inactive
            return
        }
        var problems: [String] = []
        if let last = pipeline.lastLoadedAt.flatMap(ISOTime.parse) {
            let lag = max(0, now.timeIntervalSince(last))
            pipeline.lagSeconds = lag
            pipeline.freshness = lag <= pipeline.expectedEverySeconds ? .fresh : lag <= slaFactor * pipeline.expectedEverySeconds ? .late : .breached
            if pipeline.freshness != .fresh {
                problems.append(
                    "last loaded \(Format.span(lag)) ago, expected every \(Format.span(pipeline.expectedEverySeconds))"
                        + (pipeline.freshness == .breached ? " (SLA breached)" : ""))
            }
        } else {
            pipeline.freshness = .never
            problems.append("never loaded")
        }
        if pipeline.lastFailed { problems.append("last load \(pipeline.lastStatus ?? "failed")") }
        if let score = pipeline.rowsScore, score > defaultAnomalyScore, let rows = pipeline.lastRows, let median = pipeline.medianRows {
            problems.append(
                "last load moved \(rows) rows; usually \(Int64(median.rounded())) (\(score.isInfinite ? "every earlier load had exactly that" : String(format: "%.1f robust deviations", score)))"
            )
        }
        pipeline.problems = problems
    }

    /// Streams the history table's loads within the window into each pipeline: counts, the latest
    /// load's status and rows, and the volume baseline of the loads before it.
    private func readHistory(_ name: String, into pipelines: inout [PipelineHealth], since: Date) async throws {
        let table = try await table(name, what: "ingestion.history")
        let columns = try resolve(table, roles: Self.roles.filter { $0.role.hasPrefix("history_") })
        guard let loadedAt = columns["history_loaded_at"] else {
            throw CutoverError(
                .config, "\(name) has no load time column (\(Self.candidates("history_loaded_at")))",
                hint: "name it in cutover.yml: ingestion.columns.history_loaded_at: COLUMN")
        }
        guard let link = columns["history_key"] ?? columns["history_target"] else {
            throw CutoverError(
                .config, "\(name) has no column that names the pipeline (\(Self.candidates("history_key")) or \(Self.candidates("history_target")))",
                hint: "name it in cutover.yml: ingestion.columns.history_key: COLUMN")
        }
        let byKey = columns["history_key"] != nil
        var index: [String: Int] = [:]
        for (position, pipeline) in pipelines.enumerated() {
            index[byKey ? pipeline.key : pipeline.name.split(separator: ".").last.map(String.init) ?? pipeline.name] = position
        }
        struct Load { var at: Date; var rows: Int64?; var status: String? }
        // The latest loads per pipeline, at most the baseline and the last one: bounded by pipelines, not by history.
        var recent: [Int: [Load]] = [:]
        let isTimestamp =
            table.column(named: loadedAt).map {
                switch $0.canonical {
                case .timestamp, .date: true;
                default: false
                }
            } ?? false
        let filter = RowFilter(terms: [
            .init(column: loadedAt, .greaterOrEqual, isTimestamp ? Self.literal(since) : ISOTime.string(since), isNumeric: false)
        ])
        try await each(row: table, columns: Array(Set(columns.values)).sorted(), filter: filter) { row in
            guard let linked = row[link].map(\.displayText), let position = index[linked], let at = row[loadedAt].flatMap(Self.time) else { return }
            let load = Load(
                at: at, rows: columns["history_rows"].flatMap { row[$0] }.flatMap(Self.integer),
                status: columns["history_status"].flatMap { row[$0] }.flatMap { $0.isNull ? nil : $0.displayText })
            pipelines[position].loadsInWindow += 1
            if load.status.map(Self.isFailure) == true { pipelines[position].failedInWindow += 1 }
            var loads = recent[position, default: []]
            loads.append(load)
            if loads.count > 2 * (Self.baselineMaximum + 1) {
                loads.sort { $0.at > $1.at }
                loads.removeLast(loads.count - (Self.baselineMaximum + 1))
            }
            recent[position] = loads
        }
        for (position, loads) in recent {
            let ordered = loads.sorted { $0.at > $1.at }
            guard let latest = ordered.first else { continue }
            pipelines[position].lastStatus = latest.status ?? pipelines[position].lastStatus
            if let rows = latest.rows { pipelines[position].lastRows = rows }
            let latestSuccess = ordered.first { !($0.status.map(Self.isFailure) ?? false) }
            if let success = latestSuccess, (pipelines[position].lastLoadedAt.flatMap(ISOTime.parse).map { $0 < success.at } ?? true) {
                pipelines[position].lastLoadedAt = ISOTime.string(success.at)
            }
            let earlier = ordered.dropFirst().filter { !($0.status.map(Self.isFailure) ?? false) }.prefix(Self.baselineMaximum).compactMap(\.rows)
            guard earlier.count >= Self.baselineMinimum, let rows = latest.rows, !(latest.status.map(Self.isFailure) ?? false) else { continue }
            let (median, mad) = Self.medianAndMAD(earlier.map(Double.init))
            pipelines[position].medianRows = median
            pipelines[position].madRows = mad
            pipelines[position].rowsScore = Self.robustScore(Double(rows), median: median, mad: mad)
        }
    }

    static func medianAndMAD(_ values: [Double]) -> (median: Double, mad: Double) {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let center = median(values)
        return (center, median(values.map { abs($0 - center) }))
    }

    /// |x − median| in robust standard deviations; infinite when every earlier value was the same
    /// and this one differs.
    static func robustScore(_ value: Double, median: Double, mad: Double) -> Double {
        let distance = abs(value - median)
        guard mad > 0 else { return distance == 0 ? 0 : .infinity }
        return distance / (1.4826 * mad)
    }

    /// `1h`, `15m`, `hourly`, `daily`, `weekly`, `monthly`, or a number of minutes.
    static func frequency(_ value: Value, pipeline: String) throws -> TimeInterval? {
        if value.isNull { return nil }
        let text = value.displayText.trimmingCharacters(in: .whitespaces).lowercased()
        if text.isEmpty { return nil }
        let words: [String: TimeInterval] = ["hourly": 3600, "daily": 86_400, "nightly": 86_400, "weekly": 604_800, "monthly": 31 * 86_400]
        if let seconds = words[text] { return seconds }
        if let minutes = Double(text), minutes > 0, minutes.isFinite { return minutes * 60 }
        do {
            let seconds = try Age.seconds(text, option: "frequency")
            guard seconds > 0 else { throw CutoverError(.config, "zero", hint: nil) }
            return seconds
        } catch {
            throw CutoverError(
                .config, "pipeline \(pipeline): the frequency '\(value.displayText)' is not one Cutover reads",
                hint: "write 15m, 1h, 1d, hourly, daily, weekly, monthly or a number of minutes")
        }
    }

    static func isTrue(_ value: Value) -> Bool {
        switch value {
        case .null: return true
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        default: return !["false", "f", "n", "no", "0", "inactive", "disabled"].contains(value.displayText.lowercased())
        }
    }

    static func isFailure(_ status: String) -> Bool {
        ["failed", "failure", "error", "errored", "aborted", "timeout", "timed_out"].contains(status.lowercased())
    }

    static func integer(_ value: Value) -> Int64? {
        switch value {
        case .int(let number): return number
        case .double(let number) where number.isFinite: return Int64(number)
        case .text(let text): return Int64(text) ?? Double(text).flatMap { $0.isFinite ? Int64($0) : nil }
        default: return nil
        }
    }

    /// A stored time; one without a zone is UTC (as every engine's canonical text is).
    static func time(_ value: Value) -> Date? {
        if value.isNull { return nil }
        return ISOTime.parse(value.displayText)
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC: what a timestamp column compares with on every engine.
    static func literal(_ date: Date) -> String {
        String(ISOTime.string(date).replacingOccurrences(of: "T", with: " ").prefix(19))
    }

    static func candidates(_ role: String) -> String {
        (roles.first { $0.role == role }?.candidates ?? []).joined(separator: ", ")
    }

    private func table(_ name: String, what: String) async throws -> Table {
        let ref = TableRef(parsing: name)
        let missing = CutoverError(
            .tableNotFound, "\(what) in cutover.yml: no table \(name) on \(connector.url)",
            hint: "check the table name and the connection in cutover.yml")
        do {
            let catalog = try await connector.catalog(Scope(schemas: ref.schema.map { [$0] } ?? [], tables: [name], exactCounts: false))
            guard let table = catalog.table(ref) else { throw missing }
            return table
        } catch let error as CutoverError where error.code == .tableNotFound {
            throw missing
        }
    }

    /// Each role's column: the one `columns:` names (which must exist), else the first usual name present.
    private func resolve(_ table: Table, roles: [(role: String, candidates: [String])]) throws -> [String: String] {
        var found: [String: String] = [:]
        for (role, candidates) in roles {
            if let named = config.columns[role] {
                guard let column = table.columns.first(where: { $0.name.caseInsensitiveCompare(named) == .orderedSame }) else {
                    throw CutoverError(
                        .config, "ingestion.columns.\(role): \(table.ref) has no column \(named)",
                        hint: "its columns: " + table.columns.map(\.name).joined(separator: ", "))
                }
                found[role] = column.name
            } else if let column = candidates.lazy.compactMap({ candidate in
                table.columns.first { $0.name.caseInsensitiveCompare(candidate) == .orderedSame }
            }).first {
                found[role] = column.name
            }
        }
        if let unknown = config.columns.keys.first(where: { key in !Self.roles.contains { $0.role == key } }) {
            throw CutoverError(
                .config, "ingestion.columns.\(unknown) is not a column role", hint: "roles: " + Self.roles.map(\.role).joined(separator: ", "))
        }
        return found
    }

    /// Calls `body` with each row as column → value, streaming in batches.
    private func each(row table: Table, columns names: [String], filter: RowFilter?, _ body: ([String: Value]) throws -> Void) async throws {
        let columns = names.compactMap(table.column(named:))
        for try await batch in connector.read(ReadRequest(table: table.ref, columns: columns, batchSize: 5_000, filter: filter)) {
            for rowIndex in 0..<batch.rowCount {
                var row: [String: Value] = [:]
                for (position, column) in columns.enumerated() { row[column.name] = batch[rowIndex, position] }
                try body(row)
            }
        }
    }
}
