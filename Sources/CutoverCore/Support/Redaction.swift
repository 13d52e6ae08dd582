/// Where secrets are masked.
///
/// The mechanism is structural: a connection URL is parsed and shown through
/// ``ConnectionURL/description``, which masks the password and secret parameters; a string that
/// was meant to be a URL but does not parse is shown by ``connectionString(_:)`` without anything
/// between its scheme and its host. ``redact(_:)`` is a last line of defence for free text that
/// comes from elsewhere (a driver's error message); it is applied to plain text, never to JSON or
/// other rendered documents, whose fields are masked before they are rendered.
public enum Redaction {
    public static let mask = "***"

    /// A connection reference as it may be shown: a configured connection's name as it is, a URL
    /// with its password masked, and a URL that does not parse as its scheme alone — its userinfo
    /// may hold an unencoded `@` or `/`, so no part after the scheme can safely be shown.
    public static func connectionString(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.firstIndex(of: ":") else { return trimmed }
        if let url = try? ConnectionURL(parsing: trimmed) { return url.description }  // not a URL we parse: masked below
        let scheme = trimmed[..<colon]
        guard scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else {
            return "(a connection string, not shown)"
        }
        return "\(scheme)://(not shown: it does not parse)"
    }

    public static func redact(_ text: String) -> String {
        // Most text holds neither a URL nor a secret's key: one byte scan, then nothing to rewrite
        // (a log import redacts every line).
        var result = text
        let (url, key) = mayHoldSecret(text)
        if url { result = redactURLUserInfo(result) }
        if key { result = redactKeyValues(result) }
        return result
    }

    private static let schemeSeparator = Array("://".utf8)
    private static let secretKeyBytes = secretKeys.map { Array($0.utf8) }
    /// By byte: whether a secret key starts with it (only there is a key compared).
    private static let startsSecretKey: [Bool] = (0...255).map { byte in secretKeys.contains { $0.utf8.first == UInt8(byte) } }

    /// Whether `text` holds `://` and whether it holds a secret key name (ASCII case-insensitive).
    private static func mayHoldSecret(_ text: String) -> (url: Bool, key: Bool) {
        var url = false, key = false
        var text = text
        // Read once here, not per byte: each read of a static is a call.
        let (startsSecretKey, secretKeyBytes, schemeSeparator) = (startsSecretKey, secretKeyBytes, schemeSeparator)
        text.withUTF8 { buffer in
            func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
            func matches(_ needle: [UInt8], at start: Int) -> Bool {
                guard start + needle.count <= buffer.count else { return false }
                for (offset, byte) in needle.enumerated() where lower(buffer[start + offset]) != byte { return false }
                return true
            }
            for index in buffer.indices {
                let b = lower(buffer[index])
                if !url, b == UInt8(ascii: ":"), matches(schemeSeparator, at: index) { url = true }
                if !key, startsSecretKey[Int(b)], secretKeyBytes.contains(where: { matches($0, at: index) }) { key = true }
                if url && key { return }
            }
        }
        return (url, key)
    }

    /// `scheme://user:secret@` → `scheme://user:***@`.
    private static func redactURLUserInfo(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.count)
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            output += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // userinfo ends at the last '@' before the next '/', whitespace or quote.
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "\n" || $0 == "\"" || $0 == "'" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                output += authority[...colon]
                output += mask
                output += authority[at...]
            } else {
                output += authority
            }
            rest = rest[authorityEnd...]
        }
        output += rest
        return output
    }

    private static let secretKeys = ["password", "passwd", "pwd", "token", "secret", "private_key_passphrase", "access_token"]

    /// `password=secret` / `"password": "secret"` → masked value.
    private static func redactKeyValues(_ text: String) -> String {
        var result = text
        for key in secretKeys {
            var searchStart = result.startIndex
            while let range = result.range(of: key, options: [.caseInsensitive], range: searchStart..<result.endIndex) {
                var index = range.upperBound
                // optional closing quote of a JSON key, spaces, then '=' or ':'
                while index < result.endIndex, result[index] == "\"" || result[index] == " " { index = result.index(after: index) }
                guard index < result.endIndex, result[index] == "=" || result[index] == ":" else {
                    searchStart = range.upperBound
                    continue
                }
                index = result.index(after: index)
                while index < result.endIndex, result[index] == " " { index = result.index(after: index) }
                let quoted = index < result.endIndex && (result[index] == "\"" || result[index] == "'")
                let valueStart = quoted ? result.index(after: index) : index
                var valueEnd = valueStart
                while valueEnd < result.endIndex {
                    let ch = result[valueEnd]
                    // An unquoted value inside a quoted string (`"…?token=x"`) ends at that string's quote.
                    if quoted
                        ? (ch == result[index])
                        : (ch == " " || ch == "&" || ch == "\n" || ch == "," || ch == "}" || ch == ";" || ch == "\"" || ch == "'")
                    {
                        break
                    }
                    valueEnd = result.index(after: valueEnd)
                }
                if valueEnd > valueStart, result[valueStart..<valueEnd] != mask {
                    result.replaceSubrange(valueStart..<valueEnd, with: mask)
                    searchStart = result.index(valueStart, offsetBy: mask.count)
                } else {
                    searchStart = valueEnd
                }
            }
        }
        return result
    }
}
