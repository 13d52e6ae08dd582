import AsyncHTTPClient
import Crypto
import CutoverCore
import CutoverStore
import Foundation
import NIOCore
import NIOHTTP1

/// Where an alert can go: a webhook from `alerts.channels` (signed with its secret), or the
/// console's notifications (`console` for everyone, `console:NAME` for one user).
public enum AlertChannel: Sendable {
    case webhook(url: String, secret: String?)
    case email(to: [String], smtp: SMTPSettings)
    case console(user: String?)

    /// The channel a rule names; an unknown name or one that cannot be used is a usage error
    /// (rules are checked when saved, and again when delivered: the config may have changed).
    public static func named(
        _ name: String, config: CutoverConfig, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AlertChannel {
        if name == "console" { return .console(user: nil) }
        if name.hasPrefix("console:") { return .console(user: String(name.dropFirst("console:".count))) }
        guard let channel = config.alerts.channels[name] else {
            let known = (["console", "console:USER"] + config.alerts.channels.keys.sorted()).joined(separator: ", ")
            throw CutoverError(
                .usage, "no alert channel named \(name)", hint: "channels: \(known) (define them under alerts.channels in cutover.yml)")
        }
        if let webhook = channel.webhook {
            let url = try CutoverConfig.interpolate(webhook, environment: environment, in: "alerts.channels.\(name).webhook")
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw CutoverError(.usage, "alert channel \(name): the webhook is not an http(s) URL", hint: "write webhook: https://host/path")
            }
            return .webhook(
                url: url,
                secret: try channel.secret.map { try CutoverConfig.interpolate($0, environment: environment, in: "alerts.channels.\(name).secret") })
        }
        if let addresses = channel.email {
            guard !addresses.isEmpty, let bad = Optional(addresses.filter { !SMTPSettings.isAddress($0) }), bad.isEmpty else {
                throw CutoverError(.usage, "alert channel \(name): email needs plain addresses", hint: "e.g. email: [oncall@example.com]")
            }
            guard let smtp = config.alerts.smtp else {
                throw CutoverError(
                    .usage, "alert channel \(name) sends e-mail and alerts.smtp is not set",
                    hint: "add alerts.smtp: smtp://USER:${SMTP_PASSWORD}@HOST:587?from=cutover@example.com")
            }
            return .email(
                to: addresses, smtp: try SMTPSettings(parsing: try CutoverConfig.interpolate(smtp, environment: environment, in: "alerts.smtp")))
        }
        throw CutoverError(.usage, "alert channel \(name) has neither webhook nor email", hint: "give it webhook: URL (and secret:)")
    }
}

/// What a webhook receives: `POST` with this JSON body, `X-Cutover-Event`, and when the channel
/// has a secret `X-Cutover-Timestamp` (Unix seconds) and `X-Cutover-Signature: sha256=HEX`, the
/// HMAC-SHA256 of `TIMESTAMP.BODY` with the secret — check both and refuse old timestamps.
public struct AlertMessage: Codable, Sendable {
    public var event: String
    public var alert: AlertRecord
    public var rule: String
    public var condition: String
    public var sentAt: String

    public static func signature(secret: String, timestamp: String, body: Data) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((timestamp + ".").utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.encode(Data(mac))
    }
}

/// Sends alerts to channels, three attempts each, and records every outcome in the store.
public struct AlertSender: Sendable {
    let store: any MetadataStore
    let config: CutoverConfig
    var attempts = 3
    var retryDelay: Double = 0.5

    public init(store: any MetadataStore, config: CutoverConfig) {
        self.store = store
        self.config = config
    }

    /// Tells each channel; `silenced` records the deliveries as silenced instead.
    func send(
        _ event: String, _ alert: AlertRecord, rule: AlertRuleRecord, to channels: [String], silenced: Bool
    ) async throws -> [AlertDeliveryRecord] {
        var outcomes: [AlertDeliveryRecord] = []
        for name in channels {
            var outcome = AlertDeliveryRecord(
                alertID: alert.id, event: event, channel: name, attempts: 0, status: "silenced",
                detail: silenced ? "the rule is silenced until \(rule.silencedUntil ?? "")" : nil)
            if !silenced { outcome = await deliver(event, alert, rule: rule, channel: name) }
            try await store.recordAlertDelivery(outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    private func deliver(_ event: String, _ alert: AlertRecord, rule: AlertRuleRecord, channel name: String) async -> AlertDeliveryRecord {
        var record = AlertDeliveryRecord(alertID: alert.id, event: event, channel: name, attempts: 0, status: "failed", detail: nil)
        let channel: AlertChannel
        do {
            channel = try AlertChannel.named(name, config: config)
        } catch {
            record.detail = error.redactedDescription
            return record
        }
        for attempt in 1...max(1, attempts) {
            record.attempts = attempt
            do {
                record.detail = try await deliver(event, alert, rule: rule, to: channel)
                record.status = "delivered"
                return record
            } catch {
                record.detail = error.redactedDescription
                if attempt < attempts { try? await Task.sleep(nanoseconds: UInt64(retryDelay * pow(2, Double(attempt - 1)) * 1e9)) }  // cancelled: the next attempt fails too
            }
        }
        return record
    }

    private func deliver(_ event: String, _ alert: AlertRecord, rule: AlertRuleRecord, to channel: AlertChannel) async throws -> String {
        switch channel {
        case .console(let user):
            try await store.notify(
                NotificationRecord(
                    username: user, kind: "alert.\(event)", title: "[\(alert.severity)] \(alert.title)",
                    message: alert.detail, runID: alert.subject.flatMap { $0.hasPrefix("run:") ? String($0.dropFirst(4)) : nil }))
            return user.map { "notified \($0)" } ?? "notified everyone"
        case .email(let addresses, let smtp):
            var body = "\(alert.title)\n\n"
            if let detail = alert.detail { body += detail + "\n\n" }
            body += """
                event:     \(event)
                severity:  \(alert.severity)
                rule:      \(rule.name) (\(rule.condition)\(rule.scope.map { ", \($0)" } ?? ""))
                alert:     \(alert.id) — `cutover alerts ack \(alert.id)` or the console's Alerts page
                first at:  \(alert.firstAt)
                occurred:  \(alert.occurrences) time(s)
                """
            try await SMTPMailer(settings: smtp).send(
                MailMessage(to: addresses, subject: "[Cutover] [\(alert.severity)] \(event): \(alert.title)", body: body))
            return "mailed \(addresses.count) recipient(s) through \(smtp.host)"
        case .webhook(let url, let secret):
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = try encoder.encode(AlertMessage(event: event, alert: alert, rule: rule.name, condition: rule.condition, sentAt: ISOTime.now()))
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Cutover-Alerts")
            request.headers.add(name: "X-Cutover-Event", value: event)
            if let secret {
                let timestamp = String(Int(Date().timeIntervalSince1970))
                request.headers.add(name: "X-Cutover-Timestamp", value: timestamp)
                request.headers.add(name: "X-Cutover-Signature", value: AlertMessage.signature(secret: secret, timestamp: timestamp, body: body))
            }
            request.body = .bytes(ByteBuffer(bytes: body))
            // AsyncHTTPClient retries a refused connection until the deadline: 5 s is what a dead receiver costs per attempt.
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            guard (200..<300).contains(response.status.code) else {
                throw CutoverError(.connectionFailed, "the webhook answered HTTP \(response.status.code)", hint: "check the receiver")
            }
            return "HTTP \(response.status.code)"
        }
    }
}
