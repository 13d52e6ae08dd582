import CutoverCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where alert e-mail goes: `alerts.smtp` in cutover.yml,
/// `smtp://USER:PASSWORD@HOST:587?from=ADDRESS[&tls=starttls|tls|none][&ca=PEM-FILE]`.
///
/// `starttls` (the default; port 587, 25) upgrades the connection before anything else is said,
/// and fails when the server does not offer it; `tls` (port 465) speaks TLS from the start; `none`
/// is for a relay on loopback and never sends credentials. Certificates are verified against the
/// system's roots, or against `ca=` for a private CA.
public struct SMTPSettings: Sendable, CustomStringConvertible {
    /// How the connection is protected: upgraded with STARTTLS, TLS from the start, or none (loopback relays only).
    public enum Security: String, Sendable { case starttls, tls, none }
    public var host: String
    public var port: Int
    public var user: String?
    var password: String?
    public var from: String
    public var security: Security
    public var caFile: String?

    public init(parsing text: String) throws {
        let hint = "write alerts.smtp: smtp://USER:${SMTP_PASSWORD}@HOST:587?from=cutover@example.com"
        guard let components = URLComponents(string: text), components.scheme?.lowercased() == "smtp", let host = components.host, !host.isEmpty
        else {
            throw CutoverError(.usage, "alerts.smtp is not an smtp:// URL", hint: hint)
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        if let unknown = query.keys.first(where: { !["from", "tls", "ca"].contains($0) }) {
            throw CutoverError(.usage, "alerts.smtp: unknown parameter \(unknown)", hint: "parameters: from, tls (starttls, tls, none), ca")
        }
        guard let from = query["from"], Self.isAddress(from) else {
            throw CutoverError(.usage, "alerts.smtp needs from=ADDRESS, the sender of alert e-mail", hint: hint)
        }
        guard let security = Security(rawValue: query["tls"] ?? "starttls") else {
            throw CutoverError(.usage, "alerts.smtp: tls=\(query["tls"] ?? "") is not starttls, tls or none", hint: hint)
        }
        self.host = host
        self.port = components.port ?? (security == .tls ? 465 : 587)
        self.user = components.user.flatMap { $0.removingPercentEncoding }
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.from = from
        self.security = security
        self.caFile = query["ca"].flatMap { $0.isEmpty ? nil : $0 }
        if security == .none, user != nil {
            throw CutoverError(.usage, "alerts.smtp: tls=none would send the password in clear", hint: "use tls=starttls (port 587) or tls=tls (465)")
        }
    }

    /// Never the password.
    public var description: String {
        "smtp://" + (user.map { $0 + (password == nil ? "" : ":****") + "@" } ?? "") + "\(host):\(port)?tls=\(security.rawValue)"
    }

    /// One plain address: something@domain, no spaces, brackets or line breaks (they would end up in
    /// the envelope or a header).
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains { $0.isWhitespace || "<>,;\"\\()[]".contains($0) || $0.asciiValue == nil && !$0.isLetter }
    }
}

/// One e-mail: plain UTF-8 text.
public struct MailMessage: Sendable {
    public var to: [String]
    public var subject: String
    public var body: String

    public init(to: [String], subject: String, body: String) {
        self.to = to
        self.subject = subject
        self.body = body
    }

    /// RFC 5322 text: headers without line breaks from the values, the subject as an encoded word
    /// when it is not ASCII, the body in base64 (any UTF-8, any line length, no lone dots).
    func rendered(from: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let flatSubject = subject.map { $0.isNewline ? " " : String($0) }.joined()
        let encodedSubject =
            flatSubject.allSatisfy { $0.isASCII && !$0.isNewline }
            ? flatSubject : "=?UTF-8?B?" + Data(flatSubject.utf8).base64EncodedString() + "?="
        let body = Data(self.body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let domain = from.split(separator: "@").last.map(String.init) ?? "cutover"
        return [
            "From: Cutover <\(from)>",
            "To: " + to.joined(separator: ", "),
            "Subject: \(encodedSubject)",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            body,
        ].joined(separator: "\r\n")
    }
}

/// Sends mail over SMTP (RFC 5321) on SwiftNIO with TLS from swift-nio-ssl: EHLO, STARTTLS and EHLO
/// again, AUTH PLAIN (or LOGIN), MAIL, RCPT, DATA, QUIT. Each step waits for its reply; a reply
/// that is not the expected one ends the session with the server's words.
public struct SMTPMailer: Sendable {
    let settings: SMTPSettings
    var timeout: TimeAmount = .seconds(15)

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public func send(_ message: MailMessage) async throws {
        guard !message.to.isEmpty, message.to.allSatisfy(SMTPSettings.isAddress) else {
            throw CutoverError(.usage, "an alert e-mail needs plain recipient addresses", hint: "e.g. email: [oncall@example.com]")
        }
        let session = try await SMTPSession.connect(settings, timeout: timeout)
        do {
            try await session.conversation(message)
            session.close()
        } catch {
            session.close()
            throw error
        }
    }
}

/// One SMTP connection. Replies arrive through ``SMTPReplyHandler`` on the channel's event loop.
private struct SMTPSession: Sendable {
    let channel: any Channel
    let replies: SMTPReplyHandler
    let settings: SMTPSettings
    let timeout: TimeAmount

    static func connect(_ settings: SMTPSettings, timeout: TimeAmount) async throws -> SMTPSession {
        let replies = SMTPReplyHandler()
        let tls = settings.security == .tls ? try tlsContext(settings) : nil
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tlsHandler(tls, settings)) }
                    try channel.pipeline.syncOperations.addHandler(replies)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: settings.host, port: settings.port).get()
        } catch {
            throw CutoverError(.connectionFailed, "cannot reach the SMTP server \(settings): \(error)", hint: "check alerts.smtp's host and port")
        }
        return SMTPSession(channel: channel, replies: replies, settings: settings, timeout: timeout)
    }

    static func tlsContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca = settings.caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw CutoverError(.config, "alerts.smtp: cannot read the CA certificates in \(ca): \(error)", hint: "ca= names a PEM file")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The certificate is checked against the host name (an IP address cannot be sent as SNI; it is
    /// checked against the certificate's IP addresses instead).
    static func tlsHandler(_ context: NIOSSLContext, _ settings: SMTPSettings) throws -> NIOSSLClientHandler {
        let isAddress = settings.host.contains(":") || settings.host.split(separator: ".").allSatisfy { Int($0) != nil }
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : settings.host)
    }

    func conversation(_ message: MailMessage) async throws {
        try await expect(220, after: nil, step: "greeting")
        var features = try await expect(250, after: "EHLO \(Self.clientName)", step: "EHLO")
        if settings.security == .starttls {
            guard features.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                throw CutoverError(
                    .connectionFailed, "the SMTP server \(settings) does not offer STARTTLS",
                    hint: "use a server that does, tls=tls for port 465, or tls=none for a relay on loopback")
            }
            try await expect(220, after: "STARTTLS", step: "STARTTLS")
            let context = try Self.tlsContext(settings)
            try await channel.eventLoop.submit { [settings] in
                try channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(context, settings), position: .first)
            }.get()
            features = try await expect(250, after: "EHLO \(Self.clientName)", step: "EHLO after STARTTLS")
        }
        if let user = settings.user {
            let mechanisms =
                features.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").dropFirst().map(String.init) ?? []
            if mechanisms.contains("PLAIN") {
                let token = Data(([0] + Array(user.utf8) + [0] + Array((settings.password ?? "").utf8))).base64EncodedString()
                try await expect(235, after: "AUTH PLAIN \(token)", step: "AUTH")
            } else if mechanisms.contains("LOGIN") {
                try await expect(334, after: "AUTH LOGIN", step: "AUTH")
                try await expect(334, after: Data(user.utf8).base64EncodedString(), step: "AUTH")
                try await expect(235, after: Data((settings.password ?? "").utf8).base64EncodedString(), step: "AUTH")
            } else {
                throw CutoverError(
                    .connectionFailed, "the SMTP server \(settings) offers no AUTH PLAIN or LOGIN",
                    hint: "remove the user from alerts.smtp if it relays without")
            }
        }
        try await expect(250, after: "MAIL FROM:<\(settings.from)>", step: "MAIL FROM")
        for recipient in message.to { try await expect([250, 251], after: "RCPT TO:<\(recipient)>", step: "RCPT TO \(recipient)") }
        try await expect(354, after: "DATA", step: "DATA")
        try await expect(250, after: message.rendered(from: settings.from) + "\r\n.", step: "message")
        _ = try? await expect([221], after: "QUIT", step: "QUIT")  // the mail is accepted; a server that hangs up first is fine
    }

    static let clientName = ProcessInfo.processInfo.hostName.isEmpty ? "cutover" : ProcessInfo.processInfo.hostName

    @discardableResult
    func expect(_ code: Int, after command: String?, step: String) async throws -> [String] {
        try await expect([code], after: command, step: step)
    }

    /// Sends `command` (if any) and waits for a reply; its lines when the code is one of `codes`.
    /// Errors name the step, never the command (it may carry the credentials).
    @discardableResult
    func expect(_ codes: [Int], after command: String?, step: String) async throws -> [String] {
        let reply = channel.eventLoop.flatSubmit { replies.next(on: channel.eventLoop) }
        let scheduled = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { scheduled.cancel() }
        let answer: SMTPReply
        do {
            // A write to a connection that already failed (a TLS handshake refused) fails too; the
            // reply then carries the first error, the one worth telling.
            if let command { try await channel.writeAndFlush(ByteBuffer(string: command + "\r\n")).get() }
            answer = try await reply.get()
        } catch {
            let cause: any Error
            do {
                _ = try await reply.get()
                cause = error
            } catch let first {
                cause = first
            }
            if let tls = cause as? NIOSSLError {
                throw CutoverError(
                    .connectionFailed, "TLS with the SMTP server \(settings) failed at \(step): \(tls)",
                    hint: "a server with a certificate from a private CA needs ca=/path/ca.pem in alerts.smtp")
            }
            throw CutoverError(
                .connectionFailed,
                "the SMTP server \(settings) closed the connection or did not answer within \(timeout.nanoseconds / 1_000_000_000) s at \(step): \(cause)",
                hint: "check alerts.smtp (port, tls) and the server's log")
        }
        guard codes.contains(answer.code) else {
            throw CutoverError(
                .connectionFailed, "the SMTP server \(settings) refused \(step): \(answer.code) \(answer.lines.joined(separator: " "))",
                hint: answer.code == 535 ? "check the user and password in alerts.smtp" : "check alerts.smtp and the recipients")
        }
        return answer.lines
    }

    func close() { channel.close(promise: nil) }
}

struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// Collects the server's bytes into replies (a reply ends with a line `NNN text`; `NNN-text`
/// continues it) and hands each to the one waiting for it. Touched only on its channel's event loop.
private final class SMTPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var ready: [SMTPReply] = []
    private var waiting: EventLoopPromise<SMTPReply>?
    private var failure: (any Error)?

    func next(on loop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if !ready.isEmpty { return loop.makeSucceededFuture(ready.removeFirst()) }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: SMTPReply.self)
        waiting = promise
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<end], as: UTF8.self).trimmingCharacters(in: .init(charactersIn: "\r"))
            pending.removeSubrange(...end)
            guard line.count >= 3, let code = Int(line.prefix(3)) else { continue }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                deliver(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(CutoverError(.connectionFailed, "the connection closed", hint: nil))
        context.fireChannelInactive()
    }

    private func deliver(_ reply: SMTPReply) {
        if let waiting {
            self.waiting = nil
            waiting.succeed(reply)
        } else {
            ready.append(reply)
        }
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        if let waiting {
            self.waiting = nil
            waiting.fail(error)
        }
    }
}
