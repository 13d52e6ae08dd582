/// The one place secrets are removed from text before it is shown or stored.
///
/// Covers `scheme://user:password@host` URLs, `password=`/`pwd=`/`token=`-style key/value pairs
/// (libpq connection strings, query strings), and `Authorization`-style bearer tokens.
public enum Redaction {
    public static let mask = "***"

    public static func redact(_ text: String) -> String {
        var result = redactURLUserInfo(text)
        result = redactKeyValues(result)
        return result
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
                    if quoted ? (ch == result[index]) : (ch == " " || ch == "&" || ch == "\n" || ch == "," || ch == "}" || ch == ";") { break }
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
