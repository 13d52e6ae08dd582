import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// The audit log (admins) and each user's notifications.
enum TeamRoutes {
    static func register(_ routes: RouteTable) {
        let store = routes.state.store
        routes.add(
            .get, "/api/v1/audit", "Audit log: since, user, action, limit", role: .admin, answer: .json([AuditRecord].self, status: .ok),
            query: [
                .init(name: "since", kind: .string, description: "ISO time"), .init(name: "user", kind: .string, description: "a user name"),
                .init(name: "action", kind: .string, description: "e.g. user.login"), .limit(default: 200),
            ]
        ) { request, _ in
            try JSON.response(
                try await store.auditEntries(
                    since: try request.query("since"), username: try request.query("user"),
                    action: try request.query("action"), limit: try request.integer("limit", default: 200, in: 1...1000)))
        }
        routes.add(
            .get, "/api/v1/audit/export", "The audit log as a file: format=csv|json, since, user, action (at most 100,000 entries, newest first)",
            role: .admin, answer: .content(["text/csv", "application/json"]),
            query: [
                .init(name: "format", kind: .string, description: "csv or json", values: ["csv", "json"]),
                .init(name: "since", kind: .string, description: "ISO time"), .init(name: "user", kind: .string, description: "a user name"),
                .init(name: "action", kind: .string, description: "e.g. user.login"),
            ]
        ) { request, _ in
            let format = try request.query("format") ?? "csv"
            guard ["csv", "json"].contains(format) else { throw APIError(.badRequest, "format is csv or json") }
            let entries = try await store.auditEntries(
                since: try request.query("since"), username: try request.query("user"),
                action: try request.query("action"), limit: AuditExport.maxEntries + 1)
            let (body, type) =
                format == "csv"
                ? (AuditExport.csv(entries.prefix(AuditExport.maxEntries)), "text/csv; charset=utf-8")
                : (try JSON.encoder.encode(Array(entries.prefix(AuditExport.maxEntries))), "application/json")
            var headers: HTTPFields = [.contentType: type, .contentDisposition: "attachment; filename=\"cutover-audit.\(format)\""]
            if entries.count > AuditExport.maxEntries { headers[.truncated] = "true" }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        routes.add(
            .get, "/api/v1/audit/stats", "Audit entries per action and outcome", role: .admin, answer: .json([AuditCount].self, status: .ok),
            query: [.init(name: "since", kind: .string, description: "ISO time")]
        ) { request, _ in
            try JSON.response(
                try await store.auditStats(since: try request.query("since")).map {
                    AuditCount(action: $0.action, outcome: $0.outcome, count: $0.count)
                })
        }
        routes.add(
            .get, "/api/v1/notifications", "My notifications (unread=true for the ones I have not read)", role: .viewer,
            answer: .json([NotificationRecord].self, status: .ok),
            query: [.init(name: "unread", kind: .boolean, description: "only the unread ones")]
        ) { request, context in
            try JSON.response(try await store.notifications(username: context.caller.username, unreadOnly: try request.flag("unread"), limit: 100))
        }
        routes.add(
            .post, "/api/v1/notifications/:id/read", "Mark a notification read (for me)", role: .viewer, action: "notification.read",
            answer: .empty(status: .noContent)
        ) { _, context in
            guard let id = Int64(try context.require("id")) else { throw APIError(.badRequest, "a notification id is a number") }
            guard try await store.markNotificationRead(id: id, username: context.caller.username) else {
                throw APIError(.notFound, "you have no notification \(id)")
            }
            return Response(status: .noContent)
        }
    }
}

/// The audit log as a file for auditors.
enum AuditExport {
    static let maxEntries = 100_000

    /// RFC 4180 CSV. A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) is written
    /// with a leading apostrophe: user names and paths in the log come from callers.
    static func csv(_ entries: some Collection<AuditRecord>) -> Data {
        func cell(_ value: String?) -> String {
            var text = value ?? ""
            if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
            return text.contains(where: { ",\"\r\n".contains($0) }) || text != text.trimmingCharacters(in: .whitespaces)
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var out = "at,user,action,resource,outcome,details\r\n"
        for e in entries {
            out += [e.at, e.username, e.action, e.resource, e.outcome, e.details].map(cell).joined(separator: ",") + "\r\n"
        }
        return Data(out.utf8)
    }
}
