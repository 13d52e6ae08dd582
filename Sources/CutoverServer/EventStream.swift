import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Server-Sent Events of runs, read from the store's log: a run started by this server, another
/// server or a CLI run elsewhere streams the same way. Events: `run.started`, `table.started`,
/// `chunk.done`, `table.done`, `step.completed`, `step.failed`, `run.completed`, `run.failed` (and
/// the mover's other events). With `run=ID` the stream ends after that run's last event.
enum EventStream {
    static func register(_ routes: RouteTable) {
        let store = routes.state.store
        let query: [Endpoint.Parameter] = [
            .init(name: "run", kind: .string, description: "only this run's events; the stream ends after its last"), .after,
            .init(name: "access_token", kind: .string, description: "the bearer token, for EventSource, which cannot set headers"),
        ]
        routes.add(
            .get, "/api/v1/events", "Server-Sent Events of a run (run=ID) or of every run", role: .viewer, answer: .content(["text/event-stream"]),
            query: query
        ) { request, _ in
            let runID = try request.query("run")
            let after = try request.cursor("after")
            if let runID, try await store.run(id: runID) == nil {
                throw APIError(.notFound, "no run \(runID)", hint: "GET /api/v1/migrations lists runs")
            }
            return response(store: store, runID: runID, after: after)
        }
        routes.add(
            .get, "/api/v1/events/ws", "The same events over a WebSocket (run=ID, access_token=TOKEN from browsers)", role: .viewer,
            answer: .content(["application/json"]), query: query
        ) { _, _ in
            throw APIError(.upgradeRequired, "this route speaks WebSocket", hint: "connect with ws://…/api/v1/events/ws?run=ID&access_token=TOKEN")
        }
    }

    static let pollInterval: UInt64 = 250_000_000
    static let heartbeatSeconds: TimeInterval = 15

    static func response(store: any MetadataStore, runID: String?, after: Int64) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": cutover events\nretry: 2000\n\n"))
                var lastWrite = Date()
                try await follow(store: store, runID: runID, after: after) { id, entry in
                    try await writer.write(ByteBuffer(string: "id: \(id)\nevent: \(entry.event)\ndata: \(try json(id: id, entry))\n\n"))
                    lastWrite = Date()
                } idle: {
                    if Date().timeIntervalSince(lastWrite) > heartbeatSeconds {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        lastWrite = Date()
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// Events that end a run's stream.
    static let finalEvents: Set<String> = ["run.completed", "run.failed", "run.interrupted"]

    /// Sends each log line after `after` as it appears, until the task is cancelled or — with
    /// `runID` — that run's last event was sent, or the run stopped without one (its process died).
    static func follow(
        store: any MetadataStore, runID: String?, after: Int64, send: (Int64, LogEntry) async throws -> Void,
        idle: () async throws -> Void = {}
    ) async throws {
        var last = after
        var idlePolls = 0
        while !Task.isCancelled {
            let lines = try await store.logs(runID: runID, afterID: last, limit: 500)
            for (id, entry) in lines {
                last = id
                try await send(id, entry)
                if let runID, entry.runID == runID, finalEvents.contains(entry.event) { return }
            }
            if lines.isEmpty {
                idlePolls += 1
                // Every few seconds of quiet: is the run still going at all?
                if let runID, idlePolls % 8 == 0, let run = try await store.run(id: runID), !run.status.isActive {
                    if try await store.logs(runID: runID, afterID: last, limit: 1).isEmpty { return }
                    continue
                }
                try await idle()
                try await Task.sleep(nanoseconds: pollInterval)
            } else {
                idlePolls = 0
            }
        }
    }

    struct Payload: Codable {
        var id: Int64
        var event: String
        var at: String
        var run: String?
        var table: String?
        var level: String
        var message: String
        var fields: [String: String]
    }

    /// The event as JSON; `event` carries its name for WebSocket clients. (Log entries are masked
    /// when they are written.)
    static func json(id: Int64, _ entry: LogEntry) throws -> String {
        let payload = Payload(
            id: id, event: entry.event, at: entry.at, run: entry.runID, table: entry.table, level: entry.level, message: entry.message,
            fields: entry.fields)
        return String(decoding: try JSON.encoder.encode(payload), as: UTF8.self)
    }
}

/// The same events over a WebSocket (`/api/v1/events/ws?run=ID`, token as a bearer header or, from
/// a browser, `access_token=`): one JSON text message per event; the server closes the socket
/// after the run's last event. The upgrade request passes the same authenticator as every other.
enum EventSocket {
    static func router(state: ServerState) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: CallerAuthenticator(state: state))
        let store = state.store
        router.ws("/api/v1/events/ws") { request, context in
            // Not signed in: no upgrade; the HTTP route then answers 401.
            guard context.identity != nil else { return .dontUpgrade }
            _ = try request.cursor("after")
            if let runID = try request.query("run"), try await store.run(id: runID) == nil { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let runID = context.request.uri.queryParameters.get("run")
            let after = (try? context.request.cursor("after")) ?? 0  // checked before the upgrade
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for try await _ in inbound {} }  // ends when the client goes
                group.addTask {
                    try await EventStream.follow(store: store, runID: runID, after: after) { id, entry in
                        try await outbound.write(.text(EventStream.json(id: id, entry)))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
        return router
    }
}
