import Foundation
import Logging

/// How `serve`, `worker` and any command given `--log-level` write swift-log records: one line per
/// record on stderr, as text for people or as JSON for a log shipper.
///
/// The process installs it first thing (``bootstrap()``) with nothing enabled, because swift-log's
/// own default would print every record and the CLI prints its own progress; a command then turns
/// records on with ``configure(format:level:)`` once it has read its options and config.
///
/// Secrets are masked here too: metadata values that are connection strings (keys `urlKeys`) are
/// parsed and shown with their password masked; the message and other values go through
/// ``Redaction/redact(_:)``, the last line of defence for text that came from a driver.
public struct LogOutput: LogHandler {
    /// How a log record is written: a line of text or a JSON object.
    public enum Format: String, Sendable, CaseIterable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    /// Set on a handler made for one purpose (a test's); otherwise the process settings apply.
    private let fixed: Settings?
    private var levelOverride: Logger.Level?
    private let write: @Sendable (String) -> Void

    /// Which records are written, how, and where.
    public struct Settings: Sendable {
        public var format: Format
        /// nil: no records.
        public var level: Logger.Level?
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var process = Settings(format: .text, level: nil)

    private var settings: Settings {
        if let fixed { return fixed }
        Self.lock.lock()
        defer { Self.lock.unlock() }
        return Self.process
    }

    public var logLevel: Logger.Level {
        get { levelOverride ?? settings.level ?? .critical }
        set { levelOverride = newValue }
    }

    /// Metadata keys whose values are connection references.
    static let urlKeys: Set<String> = ["source", "target", "store", "url", "connection"]

    public init(label: String, format: Format, level: Logger.Level, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.fixed = Settings(format: format, level: level)
        self.write = write
    }

    private init(label: String) {
        self.label = label
        self.fixed = nil
        self.write = Self.standardError
    }

    /// Installs this handler for the whole process, with records off. Call once, first thing.
    public static func bootstrap() {
        LoggingSystem.bootstrap { LogOutput(label: $0) }
    }

    /// Turns records on from `level` (nil: off) in `format`, for every logger of the process.
    public static func configure(format: Format, level: Logger.Level?) {
        lock.lock()
        defer { lock.unlock() }
        process = Settings(format: format, level: level)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let settings = settings
        guard levelOverride != nil || settings.level != nil else { return }
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.mapValues(Self.flatten).reduce(into: [String: String]()) { result, entry in
            result[entry.key] = Self.urlKeys.contains(entry.key) ? Redaction.connectionString(entry.value) : Redaction.redact(entry.value)
        }
        write(
            render(
                time: ISOTime.now(), level: event.level, message: Redaction.redact(event.message.description), fields: fields,
                format: settings.format))
    }

    func render(time: String, level: Logger.Level, message: String, fields: [String: String], format: Format) -> String {
        switch format {
        case .json:
            var object: [String: String] = fields
            object["time"] = time
            object["level"] = level.rawValue
            object["logger"] = label
            object["message"] = message
            // Strings only: encoding cannot fail.
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        case .text:
            let tail = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let line = "\(time) \(level.rawValue.uppercased()) \(label): \(message)"
            return tail.isEmpty ? line : "\(line) [\(tail)]"
        }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(flatten).joined(separator: ",")
        case .dictionary(let entries): return entries.sorted { $0.key < $1.key }.map { "\($0.key)=\(flatten($0.value))" }.joined(separator: ",")
        }
    }

    private static let outputLock = NSLock()

    /// Whole lines to stderr; concurrent records never interleave.
    @Sendable public static func standardError(_ line: String) {
        outputLock.lock()
        defer { outputLock.unlock() }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension Logger.Level {
    /// `warn` (the spelling run events use) as well as swift-log's names.
    public init?(name: String) {
        let lowered = name.lowercased()
        self.init(rawValue: lowered == "warn" ? "warning" : lowered)
    }
}
