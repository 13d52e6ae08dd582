import CutoverCore
import CutoverServer
import CutoverStore
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A test client session: the server's directory and the tokens of an admin, a user and a viewer.
struct Session {
    var client: any TestClientProtocol
    var directory: String
    var admin = ""
    var user = ""
    var viewer = ""

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any], "\(String(buffer: response.body))")
    }

    func list(_ response: TestResponse) throws -> [[String: Any]] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [[String: Any]], "\(String(buffer: response.body))")
    }

    func errorMessage(_ response: TestResponse) throws -> String {
        try #require((try object(response)["error"] as? [String: Any])?["message"] as? String, "\(String(buffer: response.body))")
    }

    func login(_ name: String, _ password: String) async throws -> String {
        let response = try await call(.post, "/api/v1/auth/login", json: #"{"username": "\#(name)", "password": "\#(password)"}"#)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return try #require(try object(response)["token"] as? String)
    }

    /// Waits until a run is no longer running and returns it.
    func finishedRun(_ id: String) async throws -> [String: Any] {
        for _ in 0..<600 {
            let run = try object(try await call(.get, "/api/v1/migrations/\(id)", token: viewer))["run"] as? [String: Any] ?? [:]
            if let status = run["status"] as? String, !["running", "cancelling"].contains(status) { return run }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CutoverError(.io, "run \(id) did not finish")
    }
}

/// The store, connections and directory a test server is made of.
struct ServerSetup: Sendable {
    var directory: String
    var store: SQLMetadataStore
    var storePath: String { directory + "/store.db" }
    var config: CutoverConfig
    var settings: CutoverServer.Settings

    /// A server over a fresh SQLite store; `chinook` (SQLite) and `broken` (PostgreSQL, unreachable,
    /// with a password) are named connections, `scratch` a SQLite file to write, DEV an environment.
    /// `{dir}` in an extra connection stands for the server's directory.
    static func make(in dir: String, connections extra: [String: String] = [:]) async throws -> ServerSetup {
        TestEnvironment.quietLogs
        let chinook = try TestEnvironment.chinookCopy(in: dir)
        let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/store.db"))
        let config = CutoverConfig(
            connections: [
                "chinook": "sqlite:\(chinook)", "broken": "postgres://u:secretpw@127.0.0.1:1/none",
                "scratch": "sqlite:\(dir)/scratch.db",
            ].merging(extra.mapValues { $0.replacingOccurrences(of: "{dir}", with: dir) }) { _, new in new },
            environments: ["DEV": EnvironmentConfig(schema: "main")],
            queries: ["genres": LibraryQuery(description: "genres by name", sql: "SELECT Name FROM {{schema}}.Genre ORDER BY Name")])
        return ServerSetup(directory: dir, store: store, config: config, settings: .init(port: 0, artifactsRoot: dir + "/runs"))
    }
}

/// A server with an admin (ada), a user (bob) and a viewer (vic) signed in.
func withServer(connections: [String: String] = [:], _ body: @escaping @Sendable (Session) async throws -> Void) async throws {
    try await TestEnvironment.withTemporaryDirectory { dir in
        let setup = try await ServerSetup.make(in: dir, connections: connections)
        try await withServer(setup, body)
    }
}

func withServer(_ setup: ServerSetup, users: Bool = true, _ body: @escaping @Sendable (Session) async throws -> Void) async throws {
    let app = try await CutoverServer.application(store: setup.store, config: setup.config, settings: setup.settings)
    try await app.test(.router) { client in
        var session = Session(client: client, directory: setup.directory)
        if users {
            let first = try await session.call(
                .post, "/api/v1/auth/register", json: #"{"username": "ada", "password": "lovelace-1815", "role": "viewer"}"#)
            #expect(first.status == .created)
            #expect(try session.object(first)["role"] as? String == "admin", "the first user is an admin whatever was asked")
            #expect(String(buffer: first.body).contains("password") == false)
            session.admin = try await session.login("ada", "lovelace-1815")
            for (name, role) in [("bob", "user"), ("vic", "viewer")] {
                let made = try await session.call(
                    .post, "/api/v1/auth/register", token: session.admin,
                    json: #"{"username": "\#(name)", "password": "password-\#(name)", "role": "\#(role)"}"#)
                #expect(made.status == .created)
            }
            session.user = try await session.login("bob", "password-bob")
            session.viewer = try await session.login("vic", "password-vic")
        }
        try await body(session)
    }
}
