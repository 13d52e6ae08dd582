/// The one error type of Cutover: a code a program can switch on, a message a person can act on,
/// and the context (table, column, key, …) that says where it happened.
///
/// Every rendering goes through ``Redaction`` so a password in a URL or a driver message never
/// reaches a log, a report or a terminal.
public struct CutoverError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: modules add codes in extensions.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The user asked for something malformed (flags, URL, config). Exit code 2.
        public static let usage = Code("usage")
        public static let unsupportedURL = Code("unsupported_url")
        public static let connectionFailed = Code("connection_failed")
        public static let authenticationFailed = Code("authentication_failed")
        public static let databaseNotFound = Code("database_not_found")
        public static let schemaNotFound = Code("schema_not_found")
        public static let tableNotFound = Code("table_not_found")
        public static let columnNotFound = Code("column_not_found")
        public static let config = Code("config")
        public static let typeNotMappable = Code("type_not_mappable")
        public static let valueDoesNotFit = Code("value_does_not_fit")
        public static let targetNotEmpty = Code("target_not_empty")
        public static let query = Code("query_failed")
        public static let store = Code("store")
        public static let io = Code("io")
        public static let validationFailed = Code("validation_failed")
        /// Well-formed, but not allowed (the metadata store as a connection, a write in a read-only session).
        public static let notPermitted = Code("not_permitted")
        /// The run is being coordinated by another live process.
        public static let runBusy = Code("run_busy")
    }

    public var code: Code
    /// What failed, in one sentence.
    public var message: String
    /// What the user can do about it.
    public var hint: String?
    /// Where it happened: `table`, `column`, `key`, `chunk`, `query`, `url`, ...
    public var context: [String: String]

    public init(_ code: Code, _ message: String, hint: String? = nil, context: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.hint = hint
        self.context = context
    }

    /// Exit code for the CLI: 2 for usage errors; 3 when the command could not run (a database out
    /// of reach, a missing table, a refused query). 1 is kept for commands that ran and found
    /// differences or failures, which they report through their outcome rather than an error.
    public var exitCode: Int32 {
        if [.usage, .unsupportedURL, .config, .notPermitted].contains(code) { return 2 }
        // What the work itself found (a failed validation, a type with no mapping, a value that does not fit).
        if [.validationFailed, .typeNotMappable, .valueDoesNotFit].contains(code) { return 1 }
        return 3
    }

    public var description: String {
        var text = message
        let place = context.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if !place.isEmpty { text += " [" + place.joined(separator: ", ") + "]" }
        if let hint { text += "\n  hint: " + hint }
        return Redaction.redact(text)
    }

    /// The same error with more context added (existing keys win: the innermost place is the most precise).
    public func adding(_ extra: [String: String]) -> CutoverError {
        var copy = self
        copy.context.merge(extra) { old, _ in old }
        return copy
    }
}

extension Error {
    /// A one-line, redacted description suitable for logs and stored results.
    public var redactedDescription: String {
        if let error = self as? CutoverError { return error.description }
        return Redaction.redact(String(describing: self))
    }
}
