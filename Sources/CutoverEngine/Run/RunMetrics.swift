import Metrics

/// What an operator watches while runs go, through the swift-metrics API: `cutover serve` exports
/// it at /metrics and `migrate`/`worker --metrics-port` on their own port (Prometheus text format);
/// a library user can bootstrap any other backend. Without a backend every call is a no-op.
///
/// Each name always carries the same label names (Prometheus requires it).
public enum RunMetrics {
    public static let chunkDuration = "cutover_chunk_duration_seconds"

    static func chunkLoaded(table: String, rows: Int64, bytes: Int64, seconds: Double) {
        Counter(label: "cutover_rows_moved_total", dimensions: [("table", table)]).increment(by: Int(rows))
        Counter(label: "cutover_bytes_moved_total", dimensions: [("table", table)]).increment(by: Int(bytes))
        Timer(label: chunkDuration, dimensions: [("table", table)]).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// `scope` is what was retried: a chunk, or a table-level statement (create, index, finish).
    static func retried(_ scope: String) {
        Counter(label: "cutover_retries_total", dimensions: [("scope", scope)]).increment()
    }

    static func chunkFailed(table: String) {
        Counter(label: "cutover_chunks_failed_total", dimensions: [("table", table)]).increment()
    }

    static func runStarted() { activeRuns.increment() }

    static func runEnded(kind: String, status: String) {
        activeRuns.decrement()
        Counter(label: "cutover_runs_finished_total", dimensions: [("kind", kind), ("status", status)]).increment()
    }

    static func checks(_ statuses: [String]) {
        for (status, count) in Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count) {
            Counter(label: "cutover_validation_checks_total", dimensions: [("status", status)]).increment(by: count)
        }
    }

    private static var activeRuns: Meter { Meter(label: "cutover_active_runs") }
}
