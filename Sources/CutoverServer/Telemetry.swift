import CutoverCore
import CutoverEngine
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus

/// The process's metrics registry, exported in Prometheus' text format by `GET /metrics` on
/// `serve` and by ``MetricsEndpoint`` for `migrate`/`worker --metrics-port`.
public enum Telemetry {
    public static let registry = PrometheusCollectorRegistry()

    /// Makes swift-metrics report into ``registry``; idempotent (swift-metrics takes one backend per
    /// process, and tests build many servers in one process).
    public static func bootstrap() { _ = bootstrapped }

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Chunks take seconds to minutes, not the milliseconds of the default buckets.
        factory.durationHistogramBuckets[RunMetrics.chunkDuration] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600].map {
            .milliseconds(Int64($0 * 1000))
        }
        MetricsSystem.bootstrap(factory)
    }()

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func exposition() -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

/// `--metrics-port` of `migrate` and `worker`: `GET /metrics` alone, for a Prometheus that scrapes a
/// long run. Bound to loopback unless told otherwise; it shows table names and counts, nothing else.
public enum MetricsEndpoint {
    /// Runs `body` while `/metrics` is served on `host:port`; the endpoint stops when `body` returns.
    /// A port that cannot be bound fails before `body` starts.
    public static func serving<T: Sendable>(host: String, port: Int, _ body: () async throws -> T) async throws -> T {
        Telemetry.bootstrap()
        let router = Router()
        router.get("/metrics") { _, _ in Telemetry.exposition() }
        let started = AsyncStream<Void>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Cutover"),
            onServerRunning: { _ in started.continuation.yield() }, logger: Logger(label: "cutover.metrics"))
        let server = Task {
            defer { started.continuation.finish() }
            try await app.run()
        }
        defer { server.cancel() }
        var running = started.stream.makeAsyncIterator()
        guard await running.next() != nil else {
            do {
                try await server.value
            } catch {
                throw CutoverError(.usage, "cannot serve metrics on \(host):\(port): \(error)", hint: "pick a free port with --metrics-port")
            }
            throw CutoverError(
                .usage, "the metrics endpoint on \(host):\(port) stopped before it started", hint: "pick a free port with --metrics-port")
        }
        return try await body()
    }
}

/// One log record per request: method, route, path (never the query, which may carry an
/// `access_token`), status, duration, caller and Hummingbird's request id (in the logger's metadata).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = JSONErrorMiddleware.response(for: error, request: request)
        }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        var metadata: Logger.Metadata = [
            "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
            "duration_ms": "\(String(format: "%.1f", milliseconds))",
        ]
        if let route = context.endpointPath { metadata["route"] = "\(route)" }
        if let caller = context.identity { metadata["user"] = "\(caller.username)" }
        let level: Logger.Level = response.status.code >= 500 ? .error : response.status.code >= 400 ? .notice : .info
        context.logger.log(level: level, "\(request.method) \(request.uri.path) \(response.status.code)", metadata: metadata)
        return response
    }
}
