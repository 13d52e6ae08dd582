import Foundation

/// One text form per canonical type, so equal values read from different engines compare equal
/// and different values never do: NULL ≠ '', -0.0 ≠ 0.0, `1.50` = `1.5`, `+02:00` offsets
/// normalised to UTC, JSON key order ignored, CHAR padding trimmed.
public enum CanonicalForm {
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
        case .bytes(let b): return "\\x" + b.map { byteHex($0) }.joined()
        case .text(let s): return text(s, as: type)
        }
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
        case .json: return normalizeJSON(s) ?? s
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
        var s = Substring(raw.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let exp = Int(s[s.index(after: e)...]) else { return raw }
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

    /// JSON with sorted keys and no insignificant space.
    public static func normalizeJSON(_ s: String) -> String? {
        guard let data = s.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let out = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Formats doubles as plain decimals (no exponent), for decimal columns stored as REAL.
public enum DecimalText {
    public static func plain(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return CanonicalForm.floatText(d, bits: 64) }
        return CanonicalForm.normalizeDecimal(d.description)
    }
}

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
    public static func normalize(_ s: String, withTimeZone: Bool) -> String? {
        let chars = Array(s.utf8)
        guard chars.count >= 10, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
              let year = Int(s.prefix(4)), let month = Int(s.dropFirst(5).prefix(2)), let day = Int(s.dropFirst(8).prefix(2))
        else { return nil }
        var hour = 0, minute = 0, second = 0, micros = 0, offsetSeconds = 0
        var rest = s.dropFirst(10)
        if let first = rest.first, first == " " || first == "T" {
            rest = rest.dropFirst()
            guard let time = parseTime(&rest) else { return nil }
            (hour, minute, second, micros) = time
        }
        rest = rest.drop { $0 == " " }
        if rest == "Z" || rest == "z" || rest == "UTC" {
            rest = ""
        } else if let sign = rest.first, sign == "+" || sign == "-" {
            let parts = rest.dropFirst().split(separator: ":")
            var hh = 0, mm = 0, ss = 0
            if parts.count == 1, parts[0].count == 4 {
                hh = Int(parts[0].prefix(2)) ?? 0; mm = Int(parts[0].suffix(2)) ?? 0
            } else {
                hh = parts.count > 0 ? Int(parts[0]) ?? 0 : 0
                mm = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                ss = parts.count > 2 ? Int(parts[2]) ?? 0 : 0
            }
            offsetSeconds = (sign == "-" ? -1 : 1) * (hh * 3600 + mm * 60 + ss)
            rest = ""
        }
        guard rest.isEmpty else { return nil }
        var days = daysFromCivil(year, month, day)
        var secondsOfDay = hour * 3600 + minute * 60 + second
        if withTimeZone {
            secondsOfDay -= offsetSeconds
            while secondsOfDay < 0 { secondsOfDay += 86_400; days -= 1 }
            while secondsOfDay >= 86_400 { secondsOfDay -= 86_400; days += 1 }
        }
        let (y, m, d) = civilFromDays(days)
        let text = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, m, d, secondsOfDay / 3600, secondsOfDay / 60 % 60, secondsOfDay % 60, micros)
        return withTimeZone ? text + "Z" : text
    }

    public static func normalizeTime(_ s: String) -> String? {
        var rest = Substring(s)
        guard let (h, m, sec, us) = parseTime(&rest) else { return nil }
        let base = String(format: "%02d:%02d:%02d.%06d", h, m, sec, us)
        return rest.isEmpty ? base : base + String(rest)
    }

    private static func parseTime(_ rest: inout Substring) -> (Int, Int, Int, Int)? {
        let digits = rest.prefix { $0.isNumber || $0 == ":" }
        let parts = digits.split(separator: ":")
        guard parts.count >= 2, let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
        let sec = parts.count > 2 ? Int(parts[2]) ?? 0 : 0
        rest = rest.dropFirst(digits.count)
        var micros = 0
        if rest.first == "." {
            let fraction = rest.dropFirst().prefix { $0.isNumber }
            let six = (fraction + "000000").prefix(6)
            micros = Int(six) ?? 0
            rest = rest.dropFirst(1 + fraction.count)
        }
        return (h, m, sec, micros)
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
