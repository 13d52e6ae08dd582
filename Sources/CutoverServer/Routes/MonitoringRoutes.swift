import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// What the Monitoring page shows: runs in flight, recent throughput, open alerts, and the health
/// of the ingestion pipelines.
enum MonitoringRoutes {
    struct ActiveRun: Codable, Sendable {
        var run: RunRecord
        var chunksDone: Int
        var chunksTotal: Int
        var rowsMoved: Int64
    }

    struct Throughput: Codable, Sendable {
        var runID: String
        var startedAt: String
        var seconds: Double
        var rows: Int64
        var rowsPerSecond: Double
    }

    struct Summary: Codable, Sendable {
        var activeRuns: [ActiveRun]
        /// The last 30 completed migrations, oldest first.
        var throughput: [Throughput]
        var alertsFiring: Int
        var alertsAcknowledged: Int
        var ingestionConfigured: Bool
    }

    /// Every page view would read the ingestion source otherwise.
    static let healthSeconds: TimeInterval = 15

    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        let cache = TTLCache()
        routes.add(
            .get, "/api/v1/monitoring", "Runs in flight, recent migration throughput and open alert counts", role: .viewer,
            answer: .json(Summary.self, status: .ok)
        ) { _, _ in
            let runs = try await store.runs(limit: 500)
            var active: [ActiveRun] = []
            for run in runs where run.status == .running {
                let chunks = try await store.chunks(runID: run.id)
                active.append(
                    ActiveRun(
                        run: run, chunksDone: chunks.filter { $0.state == .done }.count, chunksTotal: chunks.count,
                        rowsMoved: chunks.reduce(0) { $0 + ($1.state == .done ? $1.rows ?? 0 : 0) }))
            }
            var throughput: [Throughput] = []
            for run in runs where ["migrate", "demo"].contains(run.kind) && run.status == .succeeded {
                guard throughput.count < 30, let seconds = run.seconds, seconds > 0 else { continue }
                let rows = try await store.tables(runID: run.id).reduce(Int64(0)) { $0 + ($1.targetRows ?? 0) }
                throughput.append(
                    Throughput(runID: run.id, startedAt: run.startedAt, seconds: seconds, rows: rows, rowsPerSecond: Double(rows) / seconds))
            }
            let open = try await store.alerts(state: "open", limit: 1000)
            return try JSON.response(
                Summary(
                    activeRuns: active, throughput: throughput.reversed(), alertsFiring: open.filter { $0.state == "firing" }.count,
                    alertsAcknowledged: open.filter { $0.state == "acknowledged" }.count,
                    ingestionConfigured: state.config.ingestion != nil))
        }
        routes.add(
            .get, "/api/v1/workload", "The latest workload import (`cutover workload import`): tables by time, join pairs, columns, temp tables",
            role: .viewer, answer: .json(WorkloadSummary.self, status: .ok)
        ) { _, _ in
            if let latest = try await WorkloadSummary.latest(in: store) { return try JSON.response(latest.summary) }
            throw APIError(
                .notFound, "no workload has been imported", hint: "cutover workload import FILE… (Query Store, pg_stat_statements, QUERY_HISTORY)")
        }
        routes.add(
            .get, "/api/v1/ingestion/health",
            "Freshness, failed loads and volume anomalies of the ingestion pipelines (cached 15 s; fresh=true reads now)",
            role: .viewer, answer: .json(IngestionHealth.self, status: .ok),
            query: [.init(name: "fresh", kind: .boolean, description: "read the metadata now instead of the last 15 s")]
        ) { request, _ in
            guard state.config.ingestion != nil else {
                throw APIError(
                    .notFound, "no ingestion metadata is configured", hint: "add `ingestion: {connection, pipelines}` to the server's cutover.yml")
            }
            if !(try request.flag("fresh")), let cached = cache.value("health", as: IngestionHealth.self) { return try JSON.response(cached) }
            let health = try await IngestionReader.open(config: state.config, store: store).health()
            cache.store("health", health, for: healthSeconds)
            return try JSON.response(health)
        }
    }
}
