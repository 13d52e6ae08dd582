import CutoverCore
import Foundation

/// Turns Snowflake result cells (Arrow or JSON row sets) into ``Value``s in Cutover's canonical
/// text forms: decimals as plain text, dates `YYYY-MM-DD`, times `HH:MM:SS.fffffffff`, timestamps
/// `YYYY-MM-DD HH:MM:SS.fffffffff` (with `+HH:MM` for TIMESTAMP_TZ/LTZ), VARIANT as JSON text.
enum SnowflakeCells {
    /// A cell, or an error when the Arrow column does not hold what the result's type says (a
    /// damaged or unexpected stream): never a guess, never a read outside the column.
    static func value(_ array: ArrowArray, _ row: Int, _ column: SnowflakeColumnType) throws -> Value {
        let family = column.type.lowercased()
        if family.hasPrefix("timestamp") { return try timestamp(array, row, column) }
        if array.isNull(row) { return .null }
        let declaredScale = Int(array.field.metadata["scale"] ?? "") ?? column.scale
        /// Where the point goes in a scaled number or time: never guessed (a wrong guess moves every digit).
        func scale() throws -> Int {
            guard let declaredScale else { throw ArrowError.malformed("column \(column.name) is \(family) without a scale") }
            return declaredScale
        }
        func mismatch() -> ArrowError { .malformed("column \(column.name) is \(family), but its Arrow data is \(array.field.kind)") }
        switch family {
        case "fixed":
            switch array.field.kind {
            case .float: return .double(array.double(row))
            case .decimal, .int: return number(unscaled: array.decimal(row), scale: try scale())
            default: return .text(array.string(row))
            }
        case "real":
            guard case .float = array.field.kind else { throw mismatch() }
            return .double(array.double(row))
        case "boolean":
            guard case .bool = array.field.kind else { throw mismatch() }
            return .bool(array.bool(row))
        case "date": return .text(try CivilTime.date(days: array.integer(row)))
        case "time": return .text(try CivilTime.time(units: array.integer(row), scale: try scale()))
        case "binary":
            return .bytes(Array(array.bytes(row)))
        default:
            switch array.field.kind {
            case .int, .decimal: return number(unscaled: array.decimal(row), scale: declaredScale ?? 0)  // a whole number elsewhere
            case .float: return .double(array.double(row))
            case .bool: return .bool(array.bool(row))
            case .binary, .fixedSizeBinary: return .bytes(Array(array.bytes(row)))
            default: return .text(array.string(row))
            }
        }
    }

    /// Fraction digits of a time or timestamp: Snowflake's 0 to 9.
    static func checkedScale(_ scale: Int) throws -> Int {
        guard (0...9).contains(scale) else { throw ArrowError.malformed("a time scale of \(scale) (Snowflake's are 0 to 9)") }
        return scale
    }

    /// NTZ/LTZ/TZ in the shapes Snowflake uses: a scaled int64, or a struct of `epoch` (seconds, or
    /// scaled when there is no `fraction`), `fraction` (ns) and `timezone` (offset minutes + 1440).
    /// A NULL may arrive as a valid struct with null children, so the children decide.
    private static func timestamp(_ array: ArrowArray, _ row: Int, _ column: SnowflakeColumnType) throws -> Value {
        let family = column.type.lowercased()
        guard let declared = Int(array.field.metadata["scale"] ?? "") ?? column.scale else {
            throw ArrowError.malformed("column \(column.name) is \(family) without a scale")
        }
        let scale = try checkedScale(declared)
        var seconds: Int64, nanos: Int64, offsetMinutes: Int?
        if case .structure = array.field.kind {
            guard !array.isNull(row), let epoch = array.child(named: "epoch"), !epoch.isNull(row) else { return .null }
            if let fraction = array.child(named: "fraction") {
                seconds = epoch.integer(row)
                nanos = fraction.isNull(row) ? 0 : fraction.integer(row)
            } else {
                (seconds, nanos) = split(epoch.integer(row), scale: scale)
            }
            if let zone = array.child(named: "timezone"), !zone.isNull(row) {
                let minutes = zone.integer(row) - 1440
                guard abs(minutes) <= 24 * 60 else { throw ArrowError.malformed("a time zone offset of \(minutes) minutes") }
                offsetMinutes = Int(minutes)
            }
        } else {
            guard !array.isNull(row) else { return .null }
            (seconds, nanos) = split(array.integer(row), scale: scale)
        }
        guard (0..<1_000_000_000).contains(nanos) else { throw ArrowError.malformed("a fraction of \(nanos) ns") }
        if family == "timestamp_ntz" { return .text(try CivilTime.timestamp(seconds: seconds, nanos: nanos, offsetMinutes: nil)) }
        return .text(try CivilTime.timestamp(seconds: seconds, nanos: nanos, offsetMinutes: offsetMinutes ?? 0))
    }

    /// A JSON row-set cell (always a string or null), as real Snowflake sends them.
    /// A cell of a JSON row set: text in Snowflake's documented forms; anything else is an error
    /// naming the value, never a default.
    static func value(_ text: String?, _ column: SnowflakeColumnType) throws -> Value {
        guard let text else { return .null }
        let scale = column.scale ?? 0
        func unreadable() -> ArrowError { .malformed("column \(column.name) (\(column.type)) holds '\(text.prefix(40))'") }
        switch column.type.lowercased() {
        case "fixed":
            if scale == 0, let n = Int64(text) { return .int(n) }
            return .text(text)
        case "real":
            guard let value = Double(parsingSQL: text) else { throw unreadable() }
            return .double(value)
        case "boolean": return .bool(text == "1" || text.lowercased() == "true")
        case "date":
            guard let days = Int64(text) else { throw unreadable() }
            return .text(try CivilTime.date(days: days))
        case "time":
            let (s, ns) = try splitDecimal(text)
            guard (0..<86_400).contains(s) else { throw unreadable() }
            return .text(try CivilTime.time(units: s * 1_000_000_000 + ns, scale: 9))
        case "timestamp_ntz":
            let (s, ns) = try splitDecimal(text)
            return .text(try CivilTime.timestamp(seconds: s, nanos: ns, offsetMinutes: nil))
        case "timestamp_ltz":
            let (s, ns) = try splitDecimal(text)
            return .text(try CivilTime.timestamp(seconds: s, nanos: ns, offsetMinutes: 0))
        case "timestamp_tz":
            let parts = text.split(separator: " ")
            let (s, ns) = try splitDecimal(String(parts.first ?? ""))
            guard parts.count == 1 || Int(parts[1]) != nil else { throw unreadable() }
            let zone = parts.count > 1 ? (Int(parts[1]) ?? 1440) - 1440 : 0
            guard abs(zone) <= 24 * 60 else { throw unreadable() }
            return .text(try CivilTime.timestamp(seconds: s, nanos: ns, offsetMinutes: zone))
        case "binary":
            guard let bytes = hexBytes(text) else { throw unreadable() }
            return .bytes(bytes)
        default: return .text(text)
        }
    }

    static func number(unscaled: Int128, scale: Int) -> Value {
        if scale == 0, let n = Int64(exactly: unscaled) { return .int(n) }
        let negative = unscaled < 0
        var digits = String(negative ? (0 - unscaled).magnitude : unscaled.magnitude)
        guard scale > 0 else { return .text(digits) }
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        return .text((negative ? "-" : "") + digits)
    }

    private static func split(_ scaled: Int64, scale: Int) -> (Int64, Int64) {
        // `scale` is 0…9 (checkedScale), so the unit fits and is never 0.
        let unit = Int64(pow(10, Double(scale)))
        var seconds = scaled / unit, fraction = scaled % unit
        if fraction < 0 { seconds -= 1; fraction += unit }
        return (seconds, fraction * Int64(pow(10, Double(9 - scale))))
    }

    /// `"-12.5"` → (-13, 500_000_000): seconds floor and non-negative nanoseconds.
    private static func splitDecimal(_ text: String) throws -> (Int64, Int64) {
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, let wholeSeconds = Int64(whole), wholeSeconds <= CivilTime.maxDays * 86_400 else {
            throw ArrowError.malformed("'\(text.prefix(40))' is not a number of seconds")
        }
        var seconds = wholeSeconds
        var nanos: Int64 = 0
        if parts.count > 1 {
            guard let fraction = Int64(String(parts[1].prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)) else {
                throw ArrowError.malformed("'\(text.prefix(40))' is not a number of seconds")
            }
            nanos = fraction
        }
        if negative {
            seconds = -seconds
            if nanos > 0 { seconds -= 1; nanos = 1_000_000_000 - nanos }
        }
        return (seconds, nanos)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = hexDigit(chars[i]), let lo = hexDigit(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}

/// Formats epoch days and seconds (Snowflake sends UTC instants and explicit offsets, so no time
/// zone database is involved).
enum CivilTime {
    /// Days further than this from 1970 (beyond years ±2,700,000) are not dates any engine holds.
    static let maxDays: Int64 = 1_000_000_000

    static func date(days: Int64) throws -> String {
        guard abs(days) <= maxDays else { throw ArrowError.malformed("a date \(days) days from 1970") }
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    static func time(units: Int64, scale: Int) throws -> String {
        let perSecond = Int64(pow(10, Double(try SnowflakeCells.checkedScale(scale))))
        guard (0..<(86_400 * perSecond)).contains(units) else { throw ArrowError.malformed("a time of day \(units) units past midnight") }
        let seconds = units / perSecond
        let nanos = (units % perSecond) * Int64(pow(10, Double(9 - scale)))
        return clock(seconds: seconds) + fraction(nanos)
    }

    static func timestamp(seconds: Int64, nanos: Int64, offsetMinutes: Int?) throws -> String {
        let (local, overflow) = seconds.addingReportingOverflow(Int64((offsetMinutes ?? 0) * 60))
        guard !overflow else { throw ArrowError.malformed("an instant \(seconds) s from 1970") }
        var days = local / 86_400, secondOfDay = local % 86_400
        if secondOfDay < 0 { days -= 1; secondOfDay += 86_400 }
        var text = try date(days: days) + " " + clock(seconds: secondOfDay) + fraction(nanos)
        if let offset = offsetMinutes {
            text += (offset < 0 ? "-" : "+") + pad(abs(offset) / 60, 2) + ":" + pad(abs(offset) % 60, 2)
        }
        return text
    }

    private static func clock(seconds: Int64) -> String {
        "\(pad(Int(seconds / 3600), 2)):\(pad(Int(seconds / 60 % 60), 2)):\(pad(Int(seconds % 60), 2))"
    }

    /// `.123` for 123 ms; nothing for whole seconds.
    private static func fraction(_ nanos: Int64) -> String {
        guard nanos > 0 else { return "" }
        var digits = pad(Int(nanos), 9)
        while digits.hasSuffix("0") { digits.removeLast() }
        return "." + digits
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(abs(n))
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
