import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// Alert e-mail through a real SMTP server (aiosmtpd from PyPI, on loopback) that requires STARTTLS
/// and a password: the message arrives encrypted and signed in, to every recipient; a wrong
/// password, an untrusted certificate and a password over plain text are refused without the
/// password showing anywhere.
@Suite struct EmailAlertTests {
    struct Received: Decodable {
        var mailFrom: String
        var rcptTos: [String]
        var tls: Bool
        var user: String?
        var content: String
    }

    @Test(.enabled(if: OperationsTests.required))
    func aFailedRunIsMailedOverSTARTTLS() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let python = try #require(OperationsTests.python, "scripts/test.sh installs .venv-ops and sets CUTOVER_TEST_OPS_PYTHON")
            let certificate = try await CLI.shell(
                "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost "
                    + "-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' 2>&1", in: dir)
            try #require(certificate.status == 0, "\(certificate.output)")
            let port = try FaultProxy.freePort()
            let inbox = dir + "/mail"
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            let (server, ready) = try CLI.start(
                [
                    try #require(TestEnvironment.fixturePath("smtp_receiver.py")), String(port), inbox, "cert.pem", "key.pem",
                    "alerts", "smtp-pass-7731",
                ], in: dir, program: python)
            defer {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            var said = ""
            while !said.contains("ready") {
                let chunk = ready.fileHandleForReading.availableData
                if chunk.isEmpty { break }  // it exited
                said += String(decoding: chunk, as: UTF8.self)
            }
            try #require(said.contains("ready"), "the SMTP receiver did not start: \(said)")

            func configure(_ smtp: String) throws {
                try """
                alerts:
                  smtp: "\(smtp)"
                  channels:
                    mail: {email: [oncall@example.com, data-team@example.com]}
                """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            }
            let env = ["SMTP_PASSWORD": "smtp-pass-7731"]
            try configure("smtp://alerts:${SMTP_PASSWORD}@localhost:\(port)?from=cutover@example.com&ca=\(dir)/cert.pem")
            let add = try await CLI.run(
                ["alerts", "add", "failures", "--when", "run_failed", "--severity", "critical", "--channel", "mail"], in: dir, environment: env)
            #expect(add.status == 0, "\(add.output)")
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let failed = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/t.db", "--tables", "Genre", "--max-attempts", "1"],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            #expect(failed.status == 1, "\(failed.output)")

            let sent = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(sent.status == 0 && sent.stdout.contains("→ mail: delivered"), "\(sent.output)")
            let files = try FileManager.default.contentsOfDirectory(atPath: inbox).sorted()
            try #require(files.count == 1, "\(files)")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let mail = try decoder.decode(Received.self, from: Data(contentsOf: URL(fileURLWithPath: inbox + "/" + files[0])))
            #expect(mail.tls && mail.user == "alerts" && mail.mailFrom == "cutover@example.com", "\(mail)")
            #expect(mail.rcptTos == ["oncall@example.com", "data-team@example.com"])
            #expect(
                mail.content.contains("Subject: [Cutover] [critical] fired: migrate run")
                    && mail.content.contains("Content-Transfer-Encoding: base64"), "\(mail.content)")
            let body = mail.content.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
                .replacingOccurrences(of: "\n", with: "")
            let text = String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self)
            #expect(text.contains("failed") && text.contains("rule:      failures (run_failed)") && text.contains("cutover alerts ack"), "\(text)")

            // A wrong password: refused by the server, recorded as failed, the password nowhere.
            _ = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/t.db", "--tables", "MediaType", "--max-attempts", "1"],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            let wrong = try await CLI.run(["alerts", "evaluate"], in: dir, environment: ["SMTP_PASSWORD": "not-the-password-99"])
            #expect(wrong.status == 1 && wrong.stdout.contains("→ mail: failed") && wrong.stdout.contains("refused AUTH: 535"), "\(wrong.output)")
            #expect(!wrong.output.contains("not-the-password-99") && !wrong.output.contains("bm90LXRoZS1wYXNzd29yZC05OQ"), "\(wrong.output)")
            let show = try await CLI.run(["alerts", "list", "--format", "json"], in: dir)
            #expect(!show.output.contains("not-the-password-99"))

            // The server's certificate is not one the system trusts: nothing is sent.
            try configure("smtp://alerts:${SMTP_PASSWORD}@localhost:\(port)?from=cutover@example.com")
            _ = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(dir)/t.db", "--tables", "Artist", "--max-attempts", "1"],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:100"])
            let untrusted = try await CLI.run(["alerts", "evaluate"], in: dir, environment: env)
            #expect(
                untrusted.status == 1 && untrusted.stdout.contains("→ mail: failed") && untrusted.stdout.contains("TLS with the SMTP server"),
                "\(untrusted.output)")
            #expect(!untrusted.output.contains("smtp-pass-7731"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: inbox).count == 1)

            // A password over plain text is refused before anything is sent.
            try configure("smtp://alerts:${SMTP_PASSWORD}@localhost:\(port)?from=cutover@example.com&tls=none")
            let plain = try await CLI.run(["alerts", "add", "again", "--when", "run_failed", "--channel", "mail"], in: dir, environment: env)
            #expect(plain.status == 2 && plain.stderr.contains("tls=none would send the password in clear"), "\(plain.output)")
            #expect(!plain.output.contains("smtp-pass-7731"))
        }
    }
}
