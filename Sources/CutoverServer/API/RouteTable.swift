import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// One API route as registered: what the OpenAPI document says about it, who may call it, and
/// whether calls are written to the audit log.
struct Endpoint: Sendable {
    enum Answer: Sendable {
        /// JSON of this type, answered with `status` (or one of `also`).
        case json(any Decodable.Type, status: HTTPResponse.Status, also: [HTTPResponse.Status] = [])
        case empty(status: HTTPResponse.Status)
        /// Bytes of these content types (an event stream, a download).
        case content([String])
    }

    struct Parameter: Sendable {
        enum Kind: String, Sendable { case string, integer, boolean }
        var name: String
        var kind: Kind
        var description: String
        var range: ClosedRange<Int>? = nil
        var values: [String]? = nil
        var required = false
    }

    var method: HTTPRequest.Method
    var path: String
    var summary: String
    /// nil: open to anyone (health, sign-in, the OpenAPI document).
    var role: Role?
    /// Mutating routes are written to the audit log under this action name.
    var action: String?
    var body: (any Decodable.Type)?
    var answer: Answer
    var query: [Parameter]
}

/// Registers routes — each with its role check, audit and OpenAPI entry — so the document is
/// made from the same declarations the router runs.
final class RouteTable: @unchecked Sendable {
    // @unchecked: routes are only added while the router is built, before the server starts.
    private(set) var endpoints: [Endpoint] = []
    let router: Router<ServerContext>
    let signedIn: RouterGroup<SignedInContext>
    let state: ServerState

    init(router: Router<ServerContext>, state: ServerState) {
        self.router = router
        self.state = state
        signedIn = router.group(context: SignedInContext.self)
    }

    typealias Handler = @Sendable (Request, SignedInContext) async throws -> Response
    typealias PublicHandler = @Sendable (Request, ServerContext) async throws -> Response

    /// A route for signed-in callers with at least `role`.
    func add(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, role: Role, action: String? = nil, body: (any Decodable.Type)? = nil,
        answer: Endpoint.Answer, query: [Endpoint.Parameter] = [], _ handler: @escaping Handler
    ) {
        endpoints.append(Endpoint(method: method, path: path, summary: summary, role: role, action: action, body: body, answer: answer, query: query))
        let store = state.store
        signedIn.on(RouterPath(path), method: method) { request, context -> Response in
            guard context.caller.role >= role else {
                throw APIError.refused(
                    .forbidden, "\(context.caller.username) is a \(context.caller.role.rawValue); this needs the \(role.rawValue) role")
            }
            guard let action else { return try await handler(request, context) }
            return try await Self.audited(action: action, request: request, username: context.caller.username, store: store) {
                try await handler(request, context)
            }
        }
    }

    /// A route anyone may call.
    func addPublic(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, action: String? = nil, body: (any Decodable.Type)? = nil,
        answer: Endpoint.Answer, query: [Endpoint.Parameter] = [], _ handler: @escaping PublicHandler
    ) {
        endpoints.append(Endpoint(method: method, path: path, summary: summary, role: nil, action: action, body: body, answer: answer, query: query))
        let store = state.store
        router.on(RouterPath(path), method: method) { request, context -> Response in
            guard let action else { return try await handler(request, context) }
            return try await Self.audited(action: action, request: request, username: context.identity?.username, store: store) {
                try await handler(request, context)
            }
        }
    }

    /// Runs `body` and writes its outcome to the audit log. An audit entry that cannot be written
    /// fails the request: an unaudited change must not look like it went through.
    static func audited(
        action: String, request: Request, username: String?, store: any MetadataStore,
        _ body: () async throws -> Response
    ) async throws -> Response {
        let resource = request.uri.path
        do {
            var response = try await body()
            let subject = response.headers[.auditSubject]
            response.headers[.auditSubject] = nil
            try await store.audit(
                AuditRecord(username: username ?? subject, action: action, resource: resource, outcome: String(response.status.code)))
            return response
        } catch {
            let status = (error as? APIError)?.status ?? (error as? CutoverError).map(JSONErrorMiddleware.status(of:)) ?? .internalServerError
            let message = (error as? APIError)?.message ?? (error as? CutoverError)?.message ?? error.redactedDescription
            try await store.audit(
                try .failure(
                    username: username ?? (error as? APIError)?.subject, action: action, resource: resource, status: status, message: message))
            throw error
        }
    }
}

extension Endpoint.Parameter {
    static func limit(default value: Int, max: Int = 1000) -> Self {
        .init(name: "limit", kind: .integer, description: "at most this many (default \(value))", range: 1...max)
    }
    static let after = Self(name: "after", kind: .integer, description: "only entries after this id", range: 0...Int(Int64.max))
}
