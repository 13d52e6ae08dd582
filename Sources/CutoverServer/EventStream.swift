import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
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
            var last = after
            var lastWrite = Date()
            try await writer.write(ByteBuffer(string: ": cutover events\nretry: 2000\n\n"))
            while !Task.isCancelled {
                let lines = try await store.logs(runID: runID, afterID: last, limit: 500)
                for (id, entry) in lines {
                    last = id
                    try await writer.write(ByteBuffer(string: frame(id: id, entry)))
                    lastWrite = Date()
                    if let runID, entry.runID == runID, entry.event == "run.completed" || entry.event == "run.failed" {
                        try await writer.finish(nil)
                        return
                    }
                }
                if lines.isEmpty {
                    if Date().timeIntervalSince(lastWrite) > heartbeatSeconds {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        lastWrite = Date()
                    }
                    try await Task.sleep(nanoseconds: pollInterval)
                }
            }
            try await writer.finish(nil)
        })
    }

    struct Payload: Encodable {
        var id: Int64
        var at: String
        var run: String?
        var table: String?
        var level: String
        var message: String
        var fields: [String: String]
    }

    static func frame(id: Int64, _ entry: LogEntry) -> String {
        let payload = Payload(id: id, at: entry.at, run: entry.runID, table: entry.table, level: entry.level, message: entry.message, fields: entry.fields)
        let data = (try? JSON.encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(id)\nevent: \(entry.event)\ndata: \(Redaction.redact(data))\n\n"
    }
}
