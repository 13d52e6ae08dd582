import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import NIOCore

/// A request error with the status to answer and a message (and hint) for the JSON body.
struct APIError: HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var hint: String?
    /// Who the audit log names when no one is signed in (a failed sign-in names the account tried).
    var subject: String?
    var headers: HTTPFields = [:]
    /// A request refused for who sent it (no valid credential, too weak a role): written to the
    /// audit log as `request.refused` by ``RefusalAuditMiddleware``.
    var isRefusal = false

    static func refused(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil) -> APIError {
        var error = APIError(status, message, hint: hint)
        error.isRefusal = true
        return error
    }

    init(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil, subject: String? = nil) {
        self.status = status
        self.message = message
        self.hint = hint
        self.subject = subject
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSON.error(status, message, hint: hint)
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// Every error leaves as JSON: `{"error": {"status", "message", "hint"}}`. Errors the code did not
/// anticipate become a 500 that says so without internals; a body over the limit a 413.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        switch error {
        case let error as APIError:
            var response = JSON.error(error.status, error.message, hint: error.hint)
            for field in error.headers { response.headers.append(field) }
            return response
        case let error as CutoverError:
            return JSON.error(status(of: error), error.message, hint: error.hint)
        case is NIOTooManyBytesError:
            return JSON.error(
                .contentTooLarge, "the request body is larger than \(APIInput.maxBodyBytes / 1024 / 1024) MB", hint: "send less at once")
        case let error as HTTPError:
            let message =
                error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return JSON.error(error.status, message, hint: error.status == .notFound ? "the API is listed at /api/v1/openapi.json" : nil)
        default:
            return JSON.error(.internalServerError, "the server failed: \(error.redactedDescription)")
        }
    }

    static func status(of error: CutoverError) -> HTTPResponse.Status {
        switch error.code {
        case .tableNotFound, .schemaNotFound, .databaseNotFound: .notFound
        case .connectionFailed, .authenticationFailed: .badGateway
        case .notPermitted: .forbidden
        case .runBusy: .conflict
        case .usage, .unsupportedURL, .config, .typeNotMappable: .badRequest
        default: .unprocessableContent
        }
    }
}

enum JSON {
    /// snake_case keys, sorted, slashes unescaped. Nothing is masked here: values are masked before
    /// they are put into an answer (connection URLs through ``ConnectionURL/description``).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    struct ErrorBody: Codable {
        struct Detail: Codable {
            var status: String
            var message: String
            var hint: String?
        }
        var error: Detail
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil) -> Response {
        let body = ErrorBody(error: .init(status: String(status.code), message: message, hint: hint))
        // Encoding three strings cannot fail; should it, the status alone still tells the client.
        let data = (try? encoder.encode(body)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The spelling `convertToSnakeCase` gives a Swift property name (what the OpenAPI document must
    /// say), by Foundation's own rule: after the first character, each capital starts a word, and a
    /// run of capitals is a word up to the capital before the next lower-case letter (`runID` →
    /// `run_id`, `durationMS` → `duration_ms`).
    static func spell(_ key: String) -> String {
        let characters = Array(key)
        guard characters.count > 1 else { return key.lowercased() }
        var words: [ArraySlice<Character>] = []
        var wordStart = 0
        var search = 1
        while let upper = characters[search...].firstIndex(where: \.isUppercase) {
            words.append(characters[wordStart..<upper])
            guard let lower = characters[upper...].firstIndex(where: \.isLowercase) else {
                wordStart = upper
                search = characters.count
                break
            }
            if lower == upper + 1 {
                wordStart = upper
            } else {
                words.append(characters[upper..<(lower - 1)])
                wordStart = lower - 1
            }
            search = lower + 1
            if search >= characters.count { break }
        }
        words.append(characters[wordStart...])
        return words.map { String($0).lowercased() }.joined(separator: "_")
    }
}

/// Reading a request: bodies decoded into types, query parameters parsed with bounds. Anything
/// else is a 400 that says what was expected.
enum APIInput {
    static let maxBodyBytes = 4 * 1024 * 1024

    static func body<T: Decodable>(_ request: Request, as type: T.Type, context: some RequestContext, snakeCase: Bool = true) async throws -> T {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        let decoder = snakeCase ? JSON.decoder : JSONDecoder()
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(
                .badRequest, "the request body is not what this route takes: \(describe(error))",
                hint: "the route's body is described in /api/v1/openapi.json")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field \(JSON.spell(key.stringValue))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map { JSON.spell($0.stringValue) }.joined(separator: "."))"
        case DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty:
            "bad value at \(context.codingPath.map { JSON.spell($0.stringValue) }.joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted: "not valid JSON"
        default: "\(error)"
        }
    }
}

extension Request {
    /// A text query parameter, nil when absent; bounded in length.
    func query(_ name: String) throws -> String? {
        guard let value = uri.queryParameters.get(name) else { return nil }
        guard value.utf8.count <= 1000 else { throw APIError(.badRequest, "\(name) is longer than 1000 characters") }
        return value
    }

    /// A whole-number query parameter within `range`; `fallback` when absent.
    func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = try query(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(.badRequest, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(text.prefix(40))")
        }
        return value
    }

    /// A log or event id to continue after: 0 (the start) when absent.
    func cursor(_ name: String) throws -> Int64 {
        guard let text = try query(name) else { return 0 }
        guard let value = Int64(text), value >= 0 else { throw APIError(.badRequest, "\(name) must be an event id (a whole number, 0 or more)") }
        return value
    }

    /// A flag query parameter: `true` or `false`.
    func flag(_ name: String) throws -> Bool {
        switch try query(name) {
        case nil, "false": false
        case "true": true
        case let other?: throw APIError(.badRequest, "\(name) must be true or false, not \(other.prefix(40))")
        }
    }
}

extension SignedInContext {
    func require(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError(.badRequest, "missing \(name) in the path") }
        return value
    }
}

/// Writes each refused request (401 without a valid credential, 403 for too weak a role) to the
/// audit log with who sent it, when known, and what they asked for.
struct RefusalAuditMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let store: any MetadataStore

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError where error.isRefusal {
            try await store.audit(
                try .failure(
                    username: context.identity?.username, action: "request.refused", resource: "\(request.method.rawValue) \(request.uri.path)",
                    status: error.status, message: error.message))
            throw error
        }
    }
}

extension AuditRecord {
    /// The entry for a request that did not go through: its HTTP status, and the error's message
    /// as the details.
    static func failure(username: String?, action: String, resource: String, status: HTTPResponse.Status, message: String) throws -> AuditRecord {
        AuditRecord(
            username: username, action: action, resource: resource, outcome: String(status.code),
            details: String(decoding: try JSON.encoder.encode(["error": message]), as: UTF8.self))
    }
}
