import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// The audit log (admins) and each user's notifications.
enum TeamRoutes {
    static func register(_ routes: RouteTable) {
        let store = routes.state.store
        routes.add(.get, "/api/v1/audit", "Audit log: since, user, action, limit", role: .admin, answer: .json([AuditRecord].self, status: .ok),
                   query: [.init(name: "since", kind: .string, description: "ISO time"), .init(name: "user", kind: .string, description: "a user name"),
                           .init(name: "action", kind: .string, description: "e.g. user.login"), .limit(default: 200)]) { request, _ in
            try JSON.response(try await store.auditEntries(since: try request.query("since"), username: try request.query("user"),
                                                           action: try request.query("action"), limit: try request.integer("limit", default: 200, in: 1...1000)))
        }
        routes.add(.get, "/api/v1/audit/stats", "Audit entries per action and outcome", role: .admin, answer: .json([AuditCount].self, status: .ok),
                   query: [.init(name: "since", kind: .string, description: "ISO time")]) { request, _ in
            try JSON.response(try await store.auditStats(since: try request.query("since")).map { AuditCount(action: $0.action, outcome: $0.outcome, count: $0.count) })
        }
        routes.add(.get, "/api/v1/notifications", "My notifications (unread=true for the ones I have not read)", role: .viewer,
                   answer: .json([NotificationRecord].self, status: .ok),
                   query: [.init(name: "unread", kind: .boolean, description: "only the unread ones")]) { request, context in
            try JSON.response(try await store.notifications(username: context.caller.username, unreadOnly: try request.flag("unread"), limit: 100))
        }
        routes.add(.post, "/api/v1/notifications/:id/read", "Mark a notification read (for me)", role: .viewer, action: "notification.read",
                   answer: .empty(status: .noContent)) { _, context in
            guard let id = Int64(try context.require("id")) else { throw APIError(.badRequest, "a notification id is a number") }
            guard try await store.markNotificationRead(id: id, username: context.caller.username) else {
                throw APIError(.notFound, "you have no notification \(id)")
            }
            return Response(status: .noContent)
        }
    }
}
