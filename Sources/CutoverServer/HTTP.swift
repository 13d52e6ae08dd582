import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import NIOCore

/// The request context: who is calling (nil when no valid token came with the request).
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var user: UserRecord?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        user = nil
    }

    var maxUploadSize: Int { 4 * 1024 * 1024 }
}

/// Every error leaves as JSON: `{"error": {"status", "message", "hint"}}`, redacted.
struct JSONErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Self.response(error.status, error.message, hint: error.hint)
        } catch let error as CutoverError {
            let status: HTTPResponse.Status = switch error.code {
            case .tableNotFound, .schemaNotFound, .databaseNotFound: .notFound
            case .connectionFailed, .authenticationFailed: .badGateway
            case .usage, .unsupportedURL, .config, .typeNotMappable: .badRequest
            default: .unprocessableContent
            }
            return Self.response(status, error.message, hint: error.hint)
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return Self.response(error.status, message, hint: error.status == .notFound ? "the API is listed at /api/v1/openapi.json" : nil)
        } catch {
            return Self.response(.internalServerError, "\(error)")
        }
    }

    static func response(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil) -> Response {
        var body: [String: String] = ["message": Redaction.redact(message), "status": String(status.code)]
        if let hint { body["hint"] = Redaction.redact(hint) }
        return JSON.response(["error": body], status: status)
    }
}

/// Reads `Authorization: Bearer …` (or `access_token=` in the query, for EventSource, which
/// cannot set headers) and puts the token's user in the context.
struct AuthMiddleware: RouterMiddleware {
    let state: ServerState

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        let header = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if let token = header ?? request.uri.queryParameters.get("access_token") {
            if token.hasPrefix(APITokens.prefix) {
                context.user = try await state.store.user(apiTokenHash: APITokens.hash(token))
            } else if let claims = state.signer.verify(token) {
                context.user = try await state.store.user(username: claims.sub)
            }
        }
        return try await next(request, context)
    }
}

enum JSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// Every answer is redacted, except the one that hands a new session token to its owner.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, redact: Bool = true) -> Response {
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"message":"the answer could not be encoded"}}"#.utf8)
        let text = String(decoding: data, as: UTF8.self)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: redact ? Redaction.redact(text) : text)))
    }

    /// The request body decoded as `T`; a 400 that says what was expected otherwise.
    /// `snakeCase: false` for types that name their own snake_case keys.
    static func body<T: Decodable>(_ request: Request, as type: T.Type, snakeCase: Bool = true, expected: String) async throws -> T {
        let buffer = try await request.body.collect(upTo: 4 * 1024 * 1024)
        let decoder = JSONDecoder()
        if snakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, "the request body is not what this route takes: \(Self.describe(error))", hint: "send JSON like \(expected)")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}

/// One API route as registered: what OpenAPI lists, what role it needs, whether it is audited.
struct Endpoint: Sendable {
    var method: HTTPRequest.Method
    var path: String
    var summary: String
    /// nil: open to anyone (health, login, the OpenAPI file).
    var role: Role?
    /// Mutating routes are written to the audit log under this action name.
    var action: String?
}

/// Registers routes with their role check and audit, and remembers them for the OpenAPI file.
final class RouteTable: @unchecked Sendable {
    private(set) var endpoints: [Endpoint] = []
    let router: Router<ServerContext>
    let state: ServerState

    init(router: Router<ServerContext>, state: ServerState) {
        self.router = router
        self.state = state
    }

    typealias Handler = @Sendable (Request, ServerContext) async throws -> Response

    func add(_ method: HTTPRequest.Method, _ path: String, _ summary: String, role: Role?, action: String? = nil, _ handler: @escaping Handler) {
        endpoints.append(Endpoint(method: method, path: path, summary: summary, role: role, action: action))
        let state = self.state
        router.on(RouterPath(path), method: method) { request, context -> Response in
            if let role {
                guard let user = context.user else {
                    throw APIError(.unauthorized, "sign in first: this route needs a bearer token", hint: "POST /api/v1/auth/login")
                }
                guard (Role(rawValue: user.role) ?? .viewer) >= role else {
                    throw APIError(.forbidden, "\(user.username) is a \(user.role); this needs the \(role.rawValue) role")
                }
            }
            guard let action else { return try await handler(request, context) }
            let resource = request.uri.path
            do {
                var response = try await handler(request, context)
                let subject = response.headers[.auditSubject]
                response.headers[.auditSubject] = nil
                try? await state.store.audit(AuditRecord(username: context.user?.username ?? subject, action: action, resource: resource,
                                                         outcome: String(response.status.code)))
                return response
            } catch {
                let status = (error as? APIError)?.status.code ?? ((error as? CutoverError) != nil ? 422 : 500)
                try? await state.store.audit(AuditRecord(username: context.user?.username ?? (error as? APIError)?.subject, action: action,
                                                         resource: resource, outcome: String(status), details: Self.detailJSON(error)))
                throw error
            }
        }
    }

    static func detailJSON(_ error: any Error) -> String? {
        let message = (error as? APIError)?.message ?? (error as? CutoverError)?.message ?? "\(error)"
        return (try? JSONEncoder().encode(["error": message])).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An OpenAPI 3.1 document of the registered routes.
    func openAPI() -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for endpoint in endpoints {
            let path = endpoint.path.replacingOccurrences(of: #":(\w+)"#, with: "{$1}", options: .regularExpression)
            let parameters = endpoint.path.split(separator: "/").filter { $0.hasPrefix(":") }.map {
                ["name": String($0.dropFirst()), "in": "path", "required": true, "schema": ["type": "string"]] as [String: Any]
            }
            var responses: [String: Any] = ["200": ["description": "OK (202 for started runs)"],
                                            "400": ["description": "bad request", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]]
            if endpoint.role != nil {
                responses["401"] = ["description": "no valid token"]
                responses["403"] = ["description": "the role is not enough"]
            }
            var operation: [String: Any] = ["summary": endpoint.summary, "responses": responses,
                                            "operationId": endpoint.method.rawValue.lowercased() + endpoint.path.replacingOccurrences(of: #"[^A-Za-z0-9]+"#, with: "_", options: .regularExpression)]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if let role = endpoint.role {
                operation["security"] = [["bearer": []]]
                operation["x-role"] = role.rawValue
            }
            paths[path, default: [:]][endpoint.method.rawValue.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Cutover API", "version": "1.0.0",
                     "description": "Run and watch migrations and validations. Sign in with POST /api/v1/auth/login and send the token as `Authorization: Bearer …`."],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": ["Error": ["type": "object", "properties": ["error": ["type": "object", "properties": [
                    "status": ["type": "string"], "message": ["type": "string"], "hint": ["type": "string"]]]]]],
            ],
        ]
    }
}

extension Request {
    func query(_ name: String) -> String? { uri.queryParameters.get(name) }
}

extension ServerContext {
    func require(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError(.badRequest, "missing \(name) in the path") }
        return value
    }
}
