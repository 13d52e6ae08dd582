import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `cutover login`: signs in with the identity provider from a terminal — the authorization code
/// flow with PKCE and a loopback redirect (RFC 8252: the browser comes back to
/// `http://127.0.0.1:PORT/auth/oidc/callback` on a port opened for this one sign-in) — and hands
/// the access token to scripts.
public enum OIDCLogin {
    /// Who signed in, and the token scripts pass on as `CUTOVER_ACCESS_TOKEN`.
    public struct Result: Sendable, Codable {
        public var subject: String
        public var username: String?
        public var accessToken: String
        public var expiresAt: String
        public var issuer: String
    }

    /// The environment variable a CLI connection with `token=from-login` takes the token from.
    public static let environmentVariable = "CUTOVER_ACCESS_TOKEN"

    /// Waits up to `timeout` for the browser to come back; `announce` shows the URL to open.
    public static func login(
        config: CutoverConfig.OIDCConfig, timeout: TimeInterval = 300, announce: @Sendable (String) -> Void
    ) async throws -> Result {
        let listener = try LoopbackListener()
        defer { listener.close() }
        var loopback = config
        loopback.publicURL = "http://127.0.0.1:\(listener.port)"
        let signIn = try OIDCSignIn(config: loopback, defaultPublicURL: loopback.publicURL ?? "")
        announce(try await signIn.start())
        let query = try await BlockingIO.run { try listener.awaitCallback(timeout: timeout) }
        if let refused = query["error"] {
            throw CutoverError(
                .authenticationFailed, "the provider refused the sign-in: \(refused)" + (query["error_description"].map { " (\($0))" } ?? ""))
        }
        guard let code = query["code"], let state = query["state"] else {
            throw CutoverError(.authenticationFailed, "the provider came back without a code and state")
        }
        let (verified, tokens) = try await signIn.exchange(code: code, state: state)
        guard let access = tokens.accessToken else { throw CutoverError(.authenticationFailed, "the provider issued no access token") }
        return Result(
            subject: verified.subject,
            username: ["preferred_username", "email"].lazy.compactMap { verified.claims[$0]?.strings.first }.first,
            accessToken: access, expiresAt: ISOTime.string(Date().addingTimeInterval(TimeInterval(tokens.expiresIn ?? 3600))),
            issuer: config.issuer)
    }
}

/// One TCP socket on 127.0.0.1 that takes the browser's one request to the callback path.
final class LoopbackListener: @unchecked Sendable {
    private let socket: Int32
    let port: Int

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw CutoverError(.io, "cannot open a loopback socket for the sign-in") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socket, 4) == 0 else {
            _ = Glibc.close(socket)
            throw CutoverError(.io, "cannot listen on 127.0.0.1 for the sign-in")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.socket = socket
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The query of the first request for `/auth/oidc/callback` (other requests, e.g. a favicon, get a 404).
    func awaitCallback(timeout: TimeInterval) throws -> [String: String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(1000, max(1, deadline.timeIntervalSinceNow * 1000)))) > 0 else { continue }
            let client = accept(socket, nil, nil)
            guard client >= 0 else { continue }
            defer { _ = Glibc.close(client) }
            var buffer = [UInt8](repeating: 0, count: 16_384)
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let requestLine = String(decoding: buffer[0..<count], as: UTF8.self).prefix { $0 != "\r" && $0 != "\n" }
            let parts = requestLine.split(separator: " ")
            guard parts.count >= 2, let components = URLComponents(string: String(parts[1])), components.path == "/auth/oidc/callback" else {
                respond(client, status: "404 Not Found", body: "Not the sign-in callback.")
                continue
            }
            respond(client, status: "200 OK", body: "Cutover: signed in. You can close this tab and go back to the terminal.")
            return (components.queryItems ?? []).reduce(into: [:]) { $0[$1.name] = $1.value ?? "" }
        }
        throw CutoverError(
            .authenticationFailed, "nobody came back from the identity provider within \(Int(timeout)) s",
            hint: "open the URL shown, sign in, then try again")
    }

    private func respond(_ client: Int32, status: String, body: String) {
        let response =
            "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { send(client, $0, strlen($0), 0) }
    }

    func close() { _ = Glibc.close(socket) }
}
