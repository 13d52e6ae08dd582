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
    static let pollInterval: UInt64 = 250_000_000
    static let heartbeatSeconds: TimeInterval = 15

    static func response(store: any MetadataStore, runID: String?, after: Int64) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": cutover events\nretry: 2000\n\n"))
            var lastWrite = Date()
            try await follow(store: store, runID: runID, after: after) { id, entry in
                try await writer.write(ByteBuffer(string: "id: \(id)\nevent: \(entry.event)\ndata: \(json(id: id, entry))\n\n"))
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

    /// Sends each log line after `after` as it appears, until the task is cancelled or — with
    /// `runID` — that run's last event was sent. `idle` runs between empty polls.
    static func follow(store: any MetadataStore, runID: String?, after: Int64, send: (Int64, LogEntry) async throws -> Void,
                       idle: () async throws -> Void = {}) async throws {
        var last = after
        while !Task.isCancelled {
            let lines = try await store.logs(runID: runID, afterID: last, limit: 500)
            for (id, entry) in lines {
                last = id
                try await send(id, entry)
                if let runID, entry.runID == runID, entry.event == "run.completed" || entry.event == "run.failed" { return }
            }
            if lines.isEmpty {
                try await idle()
                try await Task.sleep(nanoseconds: pollInterval)
            }
        }
    }

    struct Payload: Encodable {
        var id: Int64
        var event: String
        var at: String
        var run: String?
        var table: String?
        var level: String
        var message: String
        var fields: [String: String]
    }

    /// The event as JSON (redacted); `event` carries its name for WebSocket clients.
    static func json(id: Int64, _ entry: LogEntry) -> String {
        let payload = Payload(id: id, event: entry.event, at: entry.at, run: entry.runID, table: entry.table, level: entry.level, message: entry.message,
                              fields: entry.fields)
        return Redaction.redact((try? JSON.encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
    }
}

/// The same events over a WebSocket (`/api/v1/events/ws?run=ID&access_token=…`): one JSON text
/// message per event; the server closes the socket after the run's last event.
enum EventSocket {
    static func shouldUpgrade(_ request: HTTPRequest, state: ServerState) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard let path = request.path, path.hasPrefix("/api/v1/events/ws") else { return .dontUpgrade }
        let query = URLComponents(string: path)?.queryItems ?? []
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        // Without a valid token the request is not upgraded and the HTTP route answers 401.
        guard let token = value("access_token"), let claims = state.signer.verify(token), try await state.store.user(username: claims.sub) != nil else {
            return .dontUpgrade
        }
        let (store, runID, after) = (state.store, value("run"), Int64(value("after") ?? "") ?? 0)
        return .upgrade([:]) { inbound, outbound, _ in
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
    }
}
