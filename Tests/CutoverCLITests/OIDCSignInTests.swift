import CutoverCore
import CutoverStore
import CutoverTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Sign-in with a real OpenID Connect provider on loopback (oidc-provider-mock, from PyPI): the
/// console's button in headless Chromium, roles from the `groups` claim, a user with no mapped
/// group refused, local accounts off, the provider's keys rotated, and a Snowflake connection
/// that logs in with the signed-in user's own token.
@Suite struct OIDCSignInTests {
    /// oidc-provider-mock on a port, with users and their claims; SIGKILL to stop.
    final class Provider {
        let process = Process()
        let port: Int
        var issuer: String { "http://127.0.0.1:\(port)" }

        init(python: String, port: Int, users: [String]) async throws {
            self.port = port
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments =
                ["-m", "oidc_provider_mock", "--port", String(port), "--require-nonce", "true"] + users.flatMap { ["--user-claims", $0] }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 {
                if (try? Data(contentsOf: URL(string: issuer + "/.well-known/openid-configuration")!)) != nil { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            stop()
            throw CutoverError(.connectionFailed, "oidc-provider-mock did not start on \(port)")
        }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static let users = [
        #"{"sub": "alice", "preferred_username": "alice", "groups": ["cutover-admins", "analysts"]}"#,
        #"{"sub": "bob", "preferred_username": "bob", "groups": ["analysts"]}"#,
        #"{"sub": "carol", "preferred_username": "carol", "groups": ["contractors"]}"#,
    ]

    @Test(.enabled(if: ConsoleBrowserTests.hasBrowser || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"))
    func signInThroughTheProviderInTheBrowser() async throws {
        let python = try #require(OperationsTests.python, "scripts/test.sh installs .venv-ops and sets CUTOVER_TEST_OPS_PYTHON")
        let script = try #require(TestEnvironment.fixturePath("oidc_check.py"))
        try await TestEnvironment.withTemporaryDirectory { dir in
            let providerPort = try FaultProxy.freePort()
            var provider = try await Provider(python: python, port: providerPort, users: Self.users)
            defer { provider.stop() }
            // The emulator behind a proxy that remembers how each login authenticated.
            let sf = try TestEnvironment.snowflakeURL()
            let proxyPort = try FaultProxy.freePort()
            let emulatorPort = try #require(sf.parameters["port"].flatMap { Int($0) })
            let proxy = try FaultProxy.start(listen: proxyPort, target: emulatorPort, script: "throttling_proxy.py", extra: ["0", "503"])
            defer { kill(proxy.processIdentifier, SIGKILL) }
            let warehouse =
                "snowflake://\(sf.user ?? "cutover")@\(sf.host ?? "fakesnow")/SSO_DB/PUBLIC?host=127.0.0.1&port=\(proxyPort)&protocol=http"
                + "&authenticator=oauth&token=from-login"
            try """
            auth:
              local_accounts: false
              oidc:
                issuer: \(provider.issuer)
                client_id: cutover-console
                client_secret: ${OIDC_CLIENT_SECRET}
                name: Mock IdP
                role_claim: groups
                role_map: {cutover-admins: admin, analysts: viewer}
            connections:
              warehouse: "\(warehouse)"
            """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let server = try ServeProcess(in: dir, environment: ["OIDC_CLIENT_SECRET": "not-in-any-file"])
            defer { server.stop() }

            let check = try await CLI.shell(
                "OIDC_CHECK_CONNECTION=warehouse python3 '\(script)' \(server.base) '\(dir)/shots' alice:admin bob:viewer carol:refused", in: dir)
            #expect(check.status == 0, "\(check.output)")
            #expect(check.stdout.contains("oidc check passed"), "\(check.output)")
            #expect(check.stdout.contains("connection warehouse as alice: ok"), "\(check.output)")

            // Snowflake was signed in to with alice's own token from the provider, which the provider vouches for.
            let logins =
                try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(string: "http://127.0.0.1:\(proxyPort)/__logins")!))
                as? [[String: String]]
            let login = try #require(logins?.last)
            #expect(login["authenticator"] == "OAUTH")
            let token = try #require(login["token"])
            #expect(token != "from-login" && !token.isEmpty)
            var userinfo = URLRequest(url: URL(string: provider.issuer + "/userinfo")!)
            userinfo.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: userinfo)
            #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["sub"] as? String == "alice")

            // Local accounts are off: no password sign-in, no sign-up.
            for path in ["/api/v1/auth/login", "/api/v1/auth/register"] {
                var request = URLRequest(url: URL(string: server.base + path)!)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(#"{"username": "alice", "password": "whatever-123"}"#.utf8)
                let (_, response) = try await URLSession.shared.data(for: request)
                #expect((response as? HTTPURLResponse)?.statusCode == 403, "\(path)")
            }

            // The provider rotates its keys (a new process, a new key): the next sign-in still works.
            provider.stop()
            provider = try await Provider(python: python, port: providerPort, users: Self.users)
            let again = try await CLI.shell("python3 '\(script)' \(server.base) '\(dir)/shots' alice:admin", in: dir)
            #expect(again.status == 0, "\(again.output)")

            // Users made on first sign-in, with the provider recorded; the audit names it; no secret is stored.
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
            let users = try await store.users()
            #expect(users.map(\.username) == ["alice", "bob"])
            #expect(users.allSatisfy { $0.provider == provider.issuer && $0.passwordHash.isEmpty })
            #expect(users.map(\.role) == [.admin, .viewer])
            let audit = try await store.auditEntries(since: nil, username: nil, action: "user.login", limit: 50)
            #expect(audit.filter { $0.outcome == "200" && ($0.details ?? "").contains(provider.issuer) }.count == 3)
            #expect(audit.contains { $0.outcome == "403" && ($0.details ?? "").contains("carol has no role") })
            for file in try FileManager.default.contentsOfDirectory(atPath: dir + "/.cutover") where file.hasPrefix("cutover.db") {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/.cutover/" + file))
                #expect(bytes.range(of: Data("not-in-any-file".utf8)) == nil && bytes.range(of: Data(token.utf8)) == nil, "\(file)")
            }
        }
    }

    /// `cutover login` from a terminal: the provider's URL is printed, the sign-in comes back to a
    /// loopback port, the token printed is the user's (the provider's userinfo says so), and a CLI
    /// connection with token=from-login uses it.
    @Test func loginFromATerminalPrintsTheUsersToken() async throws {
        let python = try #require(OperationsTests.python, "scripts/test.sh installs .venv-ops and sets CUTOVER_TEST_OPS_PYTHON")
        try await TestEnvironment.withTemporaryDirectory { dir in
            let provider = try await Provider(python: python, port: try FaultProxy.freePort(), users: Self.users)
            defer { provider.stop() }
            let login = Process()
            login.executableURL = URL(fileURLWithPath: CLI.executable)
            login.arguments = [
                "login", "--issuer", provider.issuer, "--client-id", "cutover-cli", "--client-secret-env", "CLI_SECRET", "--format", "json",
                "--timeout", "60",
            ]
            login.currentDirectoryURL = URL(fileURLWithPath: dir)
            login.environment = ProcessInfo.processInfo.environment.merging(["CLI_SECRET": "cli-secret"]) { _, new in new }
            let output = Pipe(), errors = Pipe()
            login.standardOutput = output
            login.standardError = errors
            try login.run()
            defer { if login.isRunning { kill(login.processIdentifier, SIGKILL) } }
            // The URL to open, from standard error.
            var shown = ""
            while !shown.contains("\n  http"), login.isRunning { shown += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self) }
            let url = try #require(shown.split(separator: "\n").first { $0.hasPrefix("  http") }.map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(url.contains("code_challenge_method=S256") && url.contains("redirect_uri=http://127.0.0.1:"), "\(url)")
            // The "browser": the provider's form, then its redirect back to the loopback port.
            let back = try FaultProxy.python(
                "import urllib.request as u, urllib.parse as p\n"
                    + "class N(u.HTTPRedirectHandler):\n    def redirect_request(self, *a): return None\n"
                    + "o = u.build_opener(N)\n"
                    + "try:\n    o.open(u.Request('\(url)', data=b'sub=bob', method='POST'))\nexcept u.HTTPError as e:\n    print(u.urlopen(e.headers['Location']).read().decode())"
            )
            #expect(back.contains("signed in"), "\(back)")
            login.waitUntilExit()
            #expect(login.terminationStatus == 0, "\(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))")
            let result = try JSONSerialization.jsonObject(with: output.fileHandleForReading.readDataToEndOfFile()) as? [String: Any]
            let token = try #require(result?["accessToken"] as? String)
            #expect(result?["subject"] as? String == "bob")
            var userinfo = URLRequest(url: URL(string: provider.issuer + "/userinfo")!)
            userinfo.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: userinfo)
            #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["sub"] as? String == "bob")

            // A CLI connection with token=from-login takes it from CUTOVER_ACCESS_TOKEN, and says so when it is not set.
            let sf = try TestEnvironment.snowflakeURL()
            let warehouse =
                "snowflake://\(sf.user ?? "cutover")@\(sf.host ?? "fakesnow")/CLI_DB/PUBLIC?host=\(sf.parameters["host"] ?? "127.0.0.1")&port=\(sf.parameters["port"] ?? "")&protocol=http&authenticator=oauth&token=from-login"
            let unset = try await CLI.run(["analyze", "--source", warehouse], in: dir, environment: ["CUTOVER_ACCESS_TOKEN": ""])
            #expect(unset.status == 2 && unset.output.contains("cutover login"), "\(unset.output)")
            let used = try await CLI.run(["analyze", "--source", warehouse], in: dir, environment: ["CUTOVER_ACCESS_TOKEN": token])
            #expect(used.status == 0 && !used.output.contains(token), "\(used.output)")
        }
    }
}
