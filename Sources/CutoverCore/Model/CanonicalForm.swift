import Foundation

/// One text form per canonical type, so equal values read from different engines compare equal
/// and different values never do: NULL ≠ '', -0.0 ≠ 0.0, `1.50` = `1.5`, `+02:00` offsets
/// normalised to UTC, JSON key order ignored (duplicate keys and exact numbers kept, see
/// ``JSONCanonical``), arrays as JSON arrays, CHAR padding trimmed.
public enum CanonicalForm {
    /// A canonical text as a report shows it: `NULL` for NULL, and the text `NULL` quoted, so the
    /// two never read the same.
    public static func shown(_ text: String?) -> String {
        guard let text else { return "NULL" }
        return text == "NULL" ? "'NULL'" : text
    }

    /// The canonical text of `value` read from a column of `type`; nil for NULL.
    public static func text(_ value: Value, as type: CanonicalType) -> String? {
        switch value {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .int(let i):
            switch type {
            case .float(let bits): return floatText(Double(i), bits: bits)
            case .boolean: return i != 0 ? "true" : "false"
            default: return String(i)
            }
        case .double(let d):
            switch type {
            case .integer where d == d.rounded() && abs(d) < 9.2e18: return String(Int64(d))
            case .decimal: return normalizeDecimal(DecimalText.plain(d))
            case .float(let bits): return floatText(d, bits: bits)
            default: return floatText(d, bits: 64)
            }
        case .bytes(let b):
            // Bytes are only ever equal to bytes: in a column that is not binary (SQLite stores a
            // BLOB anywhere) they take a form no text of that column takes alone — and the compare
            // also checks the storage class (``isBytes(_:as:)``).
            let hex = b.map { byteHex($0) }.joined()
            if case .binary = type { return "\\x" + hex }
            return "x'" + hex + "'"
        case .text(let s): return text(s, as: type)
        }
    }

    /// True when `value` is bytes held by a column that is not binary: a storage class its text
    /// values do not have, so it never compares equal to one of them.
    public static func isBytes(_ value: Value, as type: CanonicalType) -> Bool {
        if case .bytes = value, type != .binary { return true }
        return false
    }

    static func text(_ s: String, as type: CanonicalType) -> String {
        switch type {
        case .decimal, .integer: return normalizeDecimal(s)
        case .float(let bits): return Double(parsingSQL: s).map { floatText($0, bits: bits) } ?? s
        case .boolean: return SQLBool.parse(s).map { $0 ? "true" : "false" } ?? s
        case .char: return String(s.reversed().drop { $0 == " " }.reversed())
        case .timestamp(let tz, _): return Timestamp.normalize(s, withTimeZone: tz) ?? s
        case .time: return Timestamp.normalizeTime(s) ?? s
        case .date: return s.count > 10 && s.dropFirst(10).allSatisfy({ " 0:T.".contains($0) }) ? String(s.prefix(10)) : s
        case .uuid: return s.lowercased()
        case .json: return JSONCanonical.text(s) ?? s  // not JSON: compared as the text it is
        // PostgreSQL's `{…}` and Snowflake's JSON `[…]` compare as one JSON array.
        case .array(let element): return ArrayLiteral.json(s, element: element).flatMap(JSONCanonical.text) ?? JSONCanonical.text(s) ?? s
        default: return s
        }
    }

    public static func floatText(_ d: Double, bits: Int) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return bits == 32 ? Float(d).description : d.description
    }

    /// Plain decimal notation with no redundant zeros: `-001.500` → `-1.5`, `1e3` → `1000`, `-0.0` → `0`.
    public static func normalizeDecimal(_ raw: String) -> String {
        normalizePlainDecimal(raw) ?? normalizeAnyDecimal(raw)
    }

    static func normalizeAnyDecimal(_ raw: String) -> String {
        var s = Substring(raw.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            // Beyond any engine's decimals, and `1e999999999` must not become a billion digits.
            guard let exp = Int(s[s.index(after: e)...]), abs(exp) <= 4096 else { return raw }
            exponent = exp
            s = s[..<e]
        }
        var intPart = s, fracPart: Substring = ""
        if let dot = s.firstIndex(of: ".") {
            intPart = s[..<dot]
            fracPart = s[s.index(after: dot)...]
        }
        guard (intPart + fracPart).allSatisfy(\.isASCII), (intPart + fracPart).allSatisfy(\.isNumber) else {
            return raw  // NaN, Infinity or garbage: compare as given
        }
        var digits = Array(intPart + fracPart)
        var pointPosition = intPart.count + exponent  // digits before the point
        while pointPosition < 0 { digits.insert("0", at: 0); pointPosition += 1 }
        while pointPosition > digits.count { digits.append("0") }
        var integer = String(digits[..<pointPosition]).drop { $0 == "0" }
        var fraction = Substring(String(digits[pointPosition...]))
        while fraction.last == "0" { fraction = fraction.dropLast() }
        if integer.isEmpty { integer = "0" }
        let body = fraction.isEmpty ? String(integer) : "\(integer).\(fraction)"
        return negative && body != "0" ? "-" + body : body
    }

    /// The common case — `[-]digits[.digits]`, as databases print decimals — on bytes; nil for
    /// anything else (exponents, spaces, `+`, NaN), which the general path handles.
    static func normalizePlainDecimal(_ raw: String) -> String? {
        var raw = raw
        return raw.withUTF8 { bytes -> String? in
            var start = 0, end = bytes.count
            let negative = end > 0 && bytes[0] == UInt8(ascii: "-")
            if negative { start = 1 }
            var point = -1
            for index in start..<end {
                let byte = bytes[index]
                if byte == UInt8(ascii: ".") {
                    guard point < 0 else { return nil }
                    point = index
                } else if byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") {
                    return nil
                }
            }
            guard end > start, point != start || end > start + 1 else { return nil }
            if point >= 0 {
                while end > point + 1, bytes[end - 1] == UInt8(ascii: "0") { end -= 1 }
                if end == point + 1 { end = point }
            }
            let integerEnd = point >= 0 ? point : end
            var first = start
            while first < integerEnd - 1, bytes[first] == UInt8(ascii: "0") { first += 1 }
            var out: [UInt8] = []
            out.reserveCapacity(end - first + 2)
            if first == integerEnd { out.append(UInt8(ascii: "0")) }  // ".5" → "0.5"
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[first..<end]))
            let isZero = out.allSatisfy { $0 == UInt8(ascii: "0") }
            if negative && !isZero { out.insert(UInt8(ascii: "-"), at: 0) }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// Formats doubles as plain decimals (no exponent), for decimal columns stored as REAL.
public enum DecimalText {
    public static func plain(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return CanonicalForm.floatText(d, bits: 64) }
        return CanonicalForm.normalizeDecimal(d.description)
    }
}

/// The spellings engines and files use for booleans (t, true, 1, yes, on …), read as Bool.
public enum SQLBool {
    public static func parse(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "t", "true", "1", "yes", "y", "on": return true
        case "f", "false", "0", "no", "n", "off": return false
        default: return nil
        }
    }
}

extension Double {
    /// Parses SQL spellings too: `NaN`, `Infinity`, `-Infinity`, `inf`.
    public init?(parsingSQL s: String) {
        switch s.lowercased() {
        case "nan": self = .nan
        case "infinity", "inf", "+infinity": self = .infinity
        case "-infinity", "-inf": self = -.infinity
        default:
            guard let d = Double(s) else { return nil }
            self = d
        }
    }
}

/// ISO timestamps in one form: `YYYY-MM-DD HH:MM:SS.ffffff`, with `Z` when the value has a time zone
/// (converted to UTC).
public enum Timestamp {
    /// Parsed on the UTF-8 bytes: a compare normalises every timestamp it reads, on both sides.
    public static func normalize(_ s: String, withTimeZone: Bool) -> String? {
        guard let (days, secondsOfDay, micros) = instant(s, withTimeZone: withTimeZone) else { return nil }
        let text = format(days: days, secondsOfDay: secondsOfDay, micros: micros)
        return withTimeZone ? text + "Z" : text
    }

    /// Microseconds since 1970-01-01 00:00 of what ``normalize(_:withTimeZone:)`` would write,
    /// without writing it.
    public static func epochMicroseconds(normalizing s: String, withTimeZone: Bool) -> Int64? {
        guard let (days, secondsOfDay, micros) = instant(s, withTimeZone: withTimeZone) else { return nil }
        return Int64(days) * 86_400_000_000 + Int64(secondsOfDay) * 1_000_000 + Int64(micros)
    }

    /// The day, second of the day and microsecond a timestamp names (in UTC when `withTimeZone`).
    static func instant(_ s: String, withTimeZone: Bool) -> (days: Int, secondsOfDay: Int, micros: Int)? {
        var s = s
        return s.withUTF8 { bytes -> (days: Int, secondsOfDay: Int, micros: Int)? in
            var scan = DigitScanner(bytes)
            guard let (year, month, day) = scan.date() else { return nil }
            var (hour, minute, second, micros, offsetSeconds) = (0, 0, 0, 0, 0)
            if scan.skip(" ") || scan.skip("T") {
                guard let time = scan.time() else { return nil }
                (hour, minute, second, micros) = time
            }
            while scan.skip(" ") {}
            if scan.skip("Z") || scan.skip("z") || (scan.skip("U") && scan.skip("T") && scan.skip("C")) {
                // UTC
            } else if let sign = scan.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                scan.index += 1
                let start = scan.index
                let first = scan.number() ?? 0
                var (hh, mm, ss) = (first, 0, 0)
                if scan.index - start == 4, scan.atEnd {
                    (hh, mm) = (first / 100, first % 100)
                } else {
                    if scan.skip(":") { mm = scan.number() ?? 0 }
                    if scan.skip(":") { ss = scan.number() ?? 0 }
                }
                offsetSeconds = (sign == UInt8(ascii: "-") ? -1 : 1) * (hh * 3600 + mm * 60 + ss)
                scan.index = bytes.count
            }
            guard scan.atEnd else { return nil }
            var days = daysFromCivil(year, month, day)
            var secondsOfDay = hour * 3600 + minute * 60 + second
            if withTimeZone {
                secondsOfDay -= offsetSeconds
                while secondsOfDay < 0 { secondsOfDay += 86_400; days -= 1 }
                while secondsOfDay >= 86_400 { secondsOfDay -= 86_400; days += 1 }
            }
            return (days, secondsOfDay, micros)
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff`, written digit by digit: `String(format:)` costs several
    /// microseconds a call, which a compare pays for every timestamp it reads.
    public static func format(days: Int, secondsOfDay: Int, micros: Int) -> String {
        let (y, m, d) = civilFromDays(days)
        var out: [UInt8] = []
        out.reserveCapacity(27)
        if y < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(&out, abs(y), width: 4); out.append(UInt8(ascii: "-"))
        appendDigits(&out, m, width: 2); out.append(UInt8(ascii: "-"))
        appendDigits(&out, d, width: 2); out.append(UInt8(ascii: " "))
        appendTime(&out, secondsOfDay / 3600, secondsOfDay / 60 % 60, secondsOfDay % 60, micros)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendTime(_ out: inout [UInt8], _ h: Int, _ m: Int, _ s: Int, _ micros: Int) {
        appendDigits(&out, h, width: 2); out.append(UInt8(ascii: ":"))
        appendDigits(&out, m, width: 2); out.append(UInt8(ascii: ":"))
        appendDigits(&out, s, width: 2); out.append(UInt8(ascii: "."))
        appendDigits(&out, micros, width: 6)
    }

    /// `value` in decimal, zero-padded to at least `width` digits.
    private static func appendDigits(_ out: inout [UInt8], _ value: Int, width: Int) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if digits.count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        out.append(contentsOf: digits.reversed())
    }

    /// Days since 1970-01-01 of a date spelled `YYYY-MM-DD`; nil for any other spelling.
    public static func epochDays(_ s: String) -> Int? {
        var s = s
        return s.withUTF8 { bytes in
            var scan = DigitScanner(bytes)
            guard let (y, m, d) = scan.date(), scan.atEnd else { return nil }
            return daysFromCivil(y, m, d)
        }
    }

    /// Microseconds since midnight of `HH:MM:SS[.ffffff]`; nil for any other spelling.
    public static func microsecondsOfDay(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { bytes in
            var scan = DigitScanner(bytes)
            guard let (h, m, sec, us) = scan.time(), scan.atEnd else { return nil }
            return Int64((h * 60 + m) * 60 + sec) * 1_000_000 + Int64(us)
        }
    }

    /// Microseconds since 1970-01-01 00:00 of the canonical `YYYY-MM-DD HH:MM:SS.ffffff[Z]`; nil
    /// for any other spelling.
    public static func epochMicroseconds(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { bytes in
            var scan = DigitScanner(bytes)
            guard let (y, m, d) = scan.date(), scan.skip(" "), let (h, mi, sec, us) = scan.time() else { return nil }
            _ = scan.skip("Z")
            guard scan.atEnd else { return nil }
            return Int64(daysFromCivil(y, m, d)) * 86_400_000_000 + Int64((h * 60 + mi) * 60 + sec) * 1_000_000 + Int64(us)
        }
    }

    public static func normalizeTime(_ s: String) -> String? {
        var s = s
        return s.withUTF8 { bytes -> String? in
            var scan = DigitScanner(bytes)
            guard let (h, m, sec, us) = scan.time() else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(15)
            appendTime(&out, h, m, sec, us)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[scan.index...]))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    public static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Reads ASCII digits and separators off UTF-8 bytes.
struct DigitScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[index] }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// The digits here as a number (at most 18 of them); nil when there are none.
    mutating func number() -> Int? {
        var value = 0, count = 0
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < 18 {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            count += 1
            index += 1
        }
        return count > 0 ? value : nil
    }

    mutating func number(exactly digits: Int) -> Int? {
        let start = index
        guard let value = number(), index - start == digits else { return nil }
        return value
    }

    /// `YYYY-MM-DD` → year, month, day.
    mutating func date() -> (Int, Int, Int)? {
        guard let y = number(exactly: 4), skip("-"), let m = number(exactly: 2), skip("-"), let d = number(exactly: 2) else { return nil }
        return (y, m, d)
    }

    /// `H:MM[:SS][.fraction]` → hours, minutes, seconds, microseconds (the fraction cut to 6 digits).
    mutating func time() -> (Int, Int, Int, Int)? {
        guard let h = number(), skip(":"), let m = number() else { return nil }
        let sec = skip(":") ? number() ?? 0 : 0
        var micros = 0
        if skip(".") {
            var digits = 0
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if digits < 6 { micros = micros * 10 + Int(byte - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            for _ in min(digits, 6)..<6 { micros *= 10 }
        }
        return (h, m, sec, micros)
    }
}
