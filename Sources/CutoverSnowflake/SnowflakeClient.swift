import AsyncHTTPClient
import CutoverCore
import Foundation
import NIOCore
import NIOHTTP1

/// A Snowflake session over the REST protocol Snowflake's own connectors speak: login, queries
/// with bind parameters, JSON and Arrow result sets, result chunks, asynchronous queries (polled),
/// token renewal, heartbeat and logout. Requests are retried with backoff on 408/429/502/503/504
/// and transport failures; every error carries Snowflake's code, SQL state and query id.
public actor SnowflakeClient {
    public let settings: SnowflakeSettings
    private let http: HTTPClient
    private var sessionToken: String?
    private var masterToken: String?
    private var sequenceId = 0
    private var heartbeatTask: Task<Void, Never>?

    /// One HTTP client (connection pool) per process and connect timeout, with gzip decompression
    /// for result chunks.
    private static let clients = HTTPClients()

    public init(settings: SnowflakeSettings) {
        self.settings = settings
        self.http = Self.clients.client(connectTimeout: settings.connectTimeoutSeconds)
    }

    /// Logs in; called by the first query if not before.
    public func login() async throws {
        var query = ["databaseName": settings.database, "schemaName": settings.schema, "request_id": UUID().uuidString]
        if let warehouse = settings.warehouse { query["warehouse"] = warehouse }
        if let role = settings.role { query["roleName"] = role }
        let body = try LoginRequest(settings: settings).json()
        let response: SnowflakeResponse<LoginData> = try await send(.POST, "/session/v1/login-request", query: query, body: body, token: nil)
        guard response.success, let data = response.data, let token = data.token else {
            throw loginError(response)
        }
        sessionToken = token
        masterToken = data.masterToken
        startHeartbeat(seconds: data.heartbeatSeconds)
    }

    /// Keeps the session alive while a slow stream holds it open, as the official connectors do
    /// with CLIENT_SESSION_KEEP_ALIVE; stops at ``close()``.
    private func startHeartbeat(seconds: Int) {
        heartbeatTask?.cancel()
        let interval = UInt64(min(max(seconds, 60), 3600)) * 1_000_000_000
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: interval)  // cancelled: the loop ends
                guard !Task.isCancelled, let self else { return }
                try? await self.heartbeat()  // a missed heartbeat is retried next interval; the session's next query reports a dead session
            }
        }
    }

    func loginError(_ response: SnowflakeResponse<LoginData>) -> CutoverError {
        let code = response.code ?? "?"
        let auth = ["390100", "390101", "390102", "390144", "390318", "390303", "394304"].contains(code)
        return CutoverError(
            auth ? .authenticationFailed : .connectionFailed,
            "Snowflake login as \(settings.user) failed: \(response.message ?? "no message") (code \(code))",
            hint: auth ? "check the user, password, key or token in the Snowflake URL" : "check the account name and that it is reachable",
            context: ["url": settings.baseURL, "snowflake_code": code])
    }

    /// Runs one statement and returns its first result page (inline rows plus chunk references).
    /// `parameters` are session parameters for this statement alone (e.g. `STATEMENT_TIMEOUT_IN_SECONDS`).
    func run(_ sql: String, bindings: [String: Binding] = [:], describeOnly: Bool = false, parameters: [String: Int]? = nil) async throws -> QueryData
    {
        if sessionToken == nil { try await login() }
        sequenceId += 1
        let request = QueryRequest(
            sqlText: sql, sequenceId: sequenceId, bindings: bindings.isEmpty ? nil : bindings,
            describeOnly: describeOnly ? true : nil,
            querySubmissionTime: Int64(Date().timeIntervalSince1970 * 1000), parameters: parameters)
        let body = try JSONEncoder().encode(request)
        let requestId = UUID().uuidString
        var response: SnowflakeResponse<QueryData> = try await sendAuthorized(
            .POST, "/queries/v1/query-request", query: ["requestId": requestId], body: Array(body))
        // An asynchronous or long-running query: poll its result URL until it is done.
        var delay: UInt64 = 50_000_000
        while Self.inProgress(response.code), let path = response.data?.getResultUrl {
            try await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 2_000_000_000)
            response = try await sendAuthorized(.GET, path, query: [:], body: nil)
        }
        guard response.success, let data = response.data else {
            throw queryError(response.code, response.message, sqlState: response.data?.sqlState, queryId: response.data?.queryId, sql: sql)
        }
        return data
    }

    static func inProgress(_ code: String?) -> Bool { code == "333333" || code == "333334" }

    func queryError(_ code: String?, _ message: String?, sqlState: String?, queryId: String?, sql: String) -> CutoverError {
        var context = ["snowflake_code": code ?? "?", "query": String(sql.prefix(300))]
        if let sqlState { context["sqlstate"] = sqlState }
        if let queryId { context["query_id"] = queryId }
        let text = message ?? "no message"
        let errorCode: CutoverError.Code = code == "002003" ? .tableNotFound : (sqlState ?? "").hasPrefix("22") ? .valueDoesNotFit : .query
        return CutoverError(errorCode, "Snowflake: \(text)", context: context)
    }

    /// Fetches one result chunk (real Snowflake hands large results out as chunks on cloud storage).
    func fetchChunk(_ url: String, headers: [String: String]) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let (status, body) = try await execute(request, what: "result chunk")
        guard status == 200 else {
            throw CutoverError(.query, "Snowflake result chunk download failed with HTTP \(status)", context: ["url": String(url.prefix(80))])
        }
        return body
    }

    /// Uploads a file to a stage location Snowflake handed out (a presigned URL).
    func upload(_ bytes: [UInt8], to url: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(bytes)
        let (status, _) = try await execute(request, what: "stage upload")
        guard (200..<300).contains(status) else {
            throw CutoverError(.io, "upload to the Snowflake stage failed with HTTP \(status)")
        }
    }

    /// Keeps the session alive during long loads.
    public func heartbeat() async throws {
        guard sessionToken != nil else { return }
        let response: SnowflakeResponse<EmptyData> = try await sendAuthorized(.POST, "/session/heartbeat", query: [:], body: Array("{}".utf8))
        guard response.success else {
            throw CutoverError(
                .connectionFailed, "Snowflake session heartbeat failed: \(response.message ?? "no message") (code \(response.code ?? "?"))")
        }
    }

    /// Logs out; the token is invalid afterwards.
    public func close() async {
        heartbeatTask?.cancel()
        heartbeatTask = nil
        guard let token = sessionToken else { return }
        sessionToken = nil
        let _: SnowflakeResponse<EmptyData>? = try? await send(.POST, "/session", query: ["delete": "true"], body: Array("{}".utf8), token: token)  // logging out is a courtesy: the session expires anyway
    }

    // MARK: - HTTP

    private func sendAuthorized<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?
    ) async throws -> SnowflakeResponse<T> {
        let response: SnowflakeResponse<T> = try await send(method, path, query: query, body: body, token: sessionToken)
        if response.code == "390112", try await renewSession() {  // session expired
            return try await send(method, path, query: query, body: body, token: sessionToken)
        }
        return response
    }

    /// Renews an expired session token with the master token; false where the server has none.
    private func renewSession() async throws -> Bool {
        guard let masterToken, let old = sessionToken else { return false }
        let body = Array(#"{"oldSessionToken":"\#(old)","requestType":"RENEW"}"#.utf8)
        let response: SnowflakeResponse<LoginData> = try await send(
            .POST, "/session/token-request", query: ["requestId": UUID().uuidString], body: body, token: masterToken)
        guard response.success, let token = response.data?.sessionToken ?? response.data?.token else { return false }
        sessionToken = token
        if let master = response.data?.masterToken { self.masterToken = master }
        return true
    }

    private func send<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?, token: String?
    ) async throws -> SnowflakeResponse<T> {
        var components = URLComponents(string: settings.baseURL + path)!
        if !query.isEmpty { components.queryItems = query.keys.sorted().map { URLQueryItem(name: $0, value: query[$0]) } }
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/snowflake")
        request.headers.add(name: "User-Agent", value: "Cutover/0.1")
        if let token { request.headers.add(name: "Authorization", value: "Snowflake Token=\"\(token)\"") }
        if let body { request.body = .bytes(body) }
        let (status, bytes) = try await execute(request, what: path)
        if let decoded = try? JSONDecoder().decode(SnowflakeResponse<T>.self, from: Data(bytes)) {  // else: the HTTP status and body are reported below
            if status == 401 || status == 403 {
                throw CutoverError(
                    .authenticationFailed, "Snowflake refused the session: \(decoded.message ?? "HTTP \(status)") (code \(decoded.code ?? "?"))",
                    hint: "log in again; check the user's credentials and role", context: ["url": settings.baseURL])
            }
            return decoded
        }
        let excerpt = String(decoding: bytes.prefix(300), as: UTF8.self)
            .split(whereSeparator: \.isNewline).suffix(2).joined(separator: " ")
        throw CutoverError(
            status == 404 ? .connectionFailed : .query,
            "Snowflake answered HTTP \(status) without a readable body at \(path): \(excerpt)",
            hint: status == 404 ? "check the account name, host and port in the Snowflake URL" : nil,
            context: ["url": settings.baseURL])
    }

    /// One HTTP exchange with retries on throttling, gateway errors and transport failures.
    private func execute(_ request: HTTPClientRequest, what: String) async throws -> (Int, [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await http.execute(request, timeout: .seconds(600))
                let buffer = try await response.body.collect(upTo: 512 * 1024 * 1024)
                let status = Int(response.status.code)
                if [408, 429, 502, 503, 504].contains(status), attempt <= settings.retries {
                    try await backoff(attempt)
                    continue
                }
                return (status, Array(buffer.readableBytesView))
            } catch let error as CutoverError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if attempt <= settings.retries, !(error is HTTPClientError && (error as! HTTPClientError) == .cancelled) {
                    try await backoff(attempt)
                    continue
                }
                throw CutoverError(
                    .connectionFailed, "cannot reach Snowflake at \(settings.baseURL) (\(what)): \(error)",
                    hint: "check the account, host and port, and the network; retried \(attempt - 1) times",
                    context: ["url": settings.baseURL])
            }
        }
    }

    private func backoff(_ attempt: Int) async throws {
        let base = min(0.2 * pow(2, Double(attempt - 1)), 8)
        try await Task.sleep(nanoseconds: UInt64(base * Double.random(in: 0.5...1.0) * 1e9))
    }
}

/// HTTP clients are long-lived (they own connection pools); one per connect timeout in use.
private final class HTTPClients: @unchecked Sendable {
    private let lock = NSLock()
    private var byTimeout: [Int64: HTTPClient] = [:]

    func client(connectTimeout: Int64) -> HTTPClient {
        lock.lock()
        defer { lock.unlock() }
        if let client = byTimeout[connectTimeout] { return client }
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .enabled(limit: .none)
        configuration.timeout = .init(connect: .seconds(connectTimeout), read: .seconds(600))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        byTimeout[connectTimeout] = client
        return client
    }
}

// MARK: - Wire shapes

struct SnowflakeResponse<T: Decodable>: Decodable {
    var data: T?
    var code: String?
    var message: String?
    var success: Bool

    enum CodingKeys: String, CodingKey { case data, code, message, success }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        success = try c.decodeIfPresent(Bool.self, forKey: .success) ?? false
        code = try c.decodeIfPresent(String.self, forKey: .code)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        // A failed response's data has other fields (errorCode, sqlState): keep what decodes.
        data = try? c.decodeIfPresent(T.self, forKey: .data)
    }
}

struct EmptyData: Decodable {}

struct LoginData: Decodable {
    var token: String?
    var sessionToken: String?
    var masterToken: String?
    var parameters: [Parameter]?

    struct Parameter: Decodable {
        var name: String
        var value: Int?
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            value = try? c.decode(Int.self, forKey: .value)  // only integer parameters are read; others are not needed
        }
        enum CodingKeys: String, CodingKey { case name, value }
    }

    /// CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY, Snowflake's default an hour.
    var heartbeatSeconds: Int {
        parameters?.first { $0.name == "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY" }?.value ?? 3600
    }
}

/// A bind value: Snowflake's type name and the value as text (or a list for array binds).
struct Binding: Encodable, Sendable {
    enum Payload: Sendable { case one(String?), many([String?]) }
    var type: String
    var value: Payload

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        switch value {
        case .one(let v): try c.encode(v, forKey: .value)
        case .many(let list): try c.encode(list, forKey: .value)
        }
    }
    enum CodingKeys: String, CodingKey { case type, value }
}

struct QueryRequest: Encodable {
    var sqlText: String
    var sequenceId: Int
    var bindings: [String: Binding]?
    var describeOnly: Bool?
    var querySubmissionTime: Int64
    var asyncExec = false
    var parameters: [String: Int]?
}

/// Column metadata of a result (`rowtype`).
public struct SnowflakeColumnType: Decodable, Sendable {
    public var name: String
    /// Snowflake's lower-case type family: fixed, real, text, boolean, date, time, timestamp_ntz, …
    public var type: String
    public var scale: Int?
    public var precision: Int?
    public var length: Int?
    public var nullable: Bool?
}

struct ChunkReference: Decodable {
    var url: String
    var rowCount: Int
}

struct StageInfo: Decodable {
    var locationType: String?
    var location: String?
    var presignedUrl: String?
}

struct QueryData: Decodable {
    var queryId: String?
    var sqlState: String?
    var getResultUrl: String?
    var rowtype: [SnowflakeColumnType]?
    var rowset: [[String?]]?
    var rowsetBase64: String?
    var queryResultFormat: String?
    var total: Int?
    var chunks: [ChunkReference]?
    var chunkHeaders: [String: String]?
    var qrmk: String?
    var stageInfo: StageInfo?
    var encryptionMaterial: EncryptionMaterial?

    struct EncryptionMaterial: Decodable { var queryStageMasterKey: String? }

    /// Headers a chunk download needs: the ones given, or the customer key for S3 SSE-C.
    var chunkDownloadHeaders: [String: String] {
        if let chunkHeaders, !chunkHeaders.isEmpty { return chunkHeaders }
        guard let qrmk else { return [:] }
        return ["x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": qrmk]
    }
}
