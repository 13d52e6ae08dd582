import Crypto
import Foundation

/// How one column's values are spelled inside a portable range checksum: a text that PostgreSQL
/// and Snowflake (in SQL) and SQLite (through Cutover's own aggregate) produce identically for
/// equal values. Formats the engines print differently are avoided: dates and times become integers
/// (days, microseconds since the epoch or midnight), decimals integers scaled by 10^scale, floats
/// the hex of their IEEE-754 bits, JSON documents PostgreSQL's `jsonb` text.
///
/// A form is chosen from the *source* column's type, as the row-by-row compare canonicalises both
/// sides with the source type: whatever the compare would call different must checksum differently.
public enum ChecksumForm: Sendable, Hashable {
    /// The value × 10^scale: an integer, or `integer.fraction` when the value has more decimals.
    case number(scale: Int)
    /// `1` or `0`.
    case boolean
    /// The text; `trimmed`: trailing blanks dropped (CHAR); `lowercased`: UUIDs.
    case text(trimmed: Bool, lowercased: Bool)
    /// Lower-case hex of the bytes.
    case binary
    /// Days since 1970-01-01.
    case date
    /// Microseconds since midnight.
    case time
    /// Microseconds since 1970-01-01 00:00 (UTC when `zoned`; the wall clock otherwise).
    case timestamp(zoned: Bool)
    /// The big-endian IEEE-754 bits in lower-case hex (`bits` 32 or 64), or `NaN` for every NaN:
    /// exact, where printed floats differ by engine (`1e+300`, `1e300`, `1.0E300`).
    case float(bits: Int)
    /// The document as PostgreSQL's `jsonb` prints it (keys by length then bytes, `": "` and `", "`,
    /// numbers with their written scale). A document that `jsonb` could not hold as written — with
    /// a repeated key, or not JSON at all — is spelled so that it matches nothing.
    case json

    /// Why a column cannot take part in a checksum every engine computes alike.
    public struct Refusal: Error, Sendable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// The form both sides of a column are checksummed in, or why the pair has none.
    public static func common(source: CanonicalType, target: CanonicalType) -> Result<ChecksumForm, Refusal> {
        func refuse(_ reason: String) -> Result<ChecksumForm, Refusal> { .failure(Refusal(reason: reason)) }
        /// nil: not a number; `.some(nil)`: a number without a declared scale.
        func scale(_ type: CanonicalType) -> Int?? {
            switch type {
            case .integer: return .some(0)
            case .decimal(_, let scale): return .some(scale)
            default: return .none
            }
        }
        func isChar(_ type: CanonicalType) -> Bool {
            if case .char = type { return true } else { return false }
        }
        func isText(_ type: CanonicalType) -> Bool {
            switch type {
            case .text, .char, .enumeration, .uuid: return true
            default: return false
            }
        }
        switch (source, target) {
        // The compare reads both sides at the source's width, so the checksum does too.
        case (.float(let bits), .float):
            return .success(.float(bits: bits))
        case (.float, _), (_, .float):
            return refuse("floating-point values against another type have no common exact form")
        // Two JSON texts kept as written (PostgreSQL json, SQLite text) checksum as written: stricter
        // than the compare, which ignores key order, so a reordered document is merged, never missed.
        case (.json(false), .json(false)):
            return .success(.text(trimmed: false, lowercased: false))
        case (.json, .json):
            return .success(.json)
        case (.json, _), (_, .json):
            return refuse("JSON against another type has no common form")
        case _ where scale(source) != nil && scale(target) != nil:
            guard let scale = [scale(source)!, scale(target)!].compactMap({ $0 }).max() else {
                return refuse("numeric without a declared scale on both sides")
            }
            return .success(.number(scale: scale))
        case (.boolean, .boolean):
            return .success(.boolean)
        case _ where isText(source) && isText(target):
            if isChar(target), !isChar(source) {
                return refuse("the target is CHAR but the source is not, so padding would be compared differently")
            }
            if isChar(source) { return .success(.text(trimmed: true, lowercased: false)) }
            if case .uuid = source { return .success(.text(trimmed: false, lowercased: true)) }
            return .success(.text(trimmed: false, lowercased: false))
        case (.binary, .binary):
            return .success(.binary)
        case (.date, .date):
            return .success(.date)
        case (.time(false), .time(false)):
            return .success(.time)
        case (.timestamp(let a, _), .timestamp(let b, _)) where a == b:
            return .success(.timestamp(zoned: a))
        default:
            return refuse("\(source) and \(target) have no common checksum form")
        }
    }

    /// What the form's values are, for a message.
    public var valuesName: String {
        switch self {
        case .float: return "floating-point values"
        case .json: return "JSON documents"
        default: return "\(canonicalType) values"
        }
    }

    /// The canonical type whose ``CanonicalForm`` text this form is derived from.
    public var canonicalType: CanonicalType {
        switch self {
        case .number(let scale): return .decimal(precision: nil, scale: scale)
        case .boolean: return .boolean
        case .text(let trimmed, let lowercased): return trimmed ? .char(length: 0) : lowercased ? .uuid : .text(maxLength: nil)
        case .binary: return .binary
        case .date: return .date
        case .time: return .time(withTimeZone: false)
        case .timestamp(let zoned): return .timestamp(withTimeZone: zoned, precision: nil)
        case .float(let bits): return .float(bits: bits)
        case .json: return .json(binary: true)
        }
    }

    /// The form's text of `value`; nil for NULL. A value the form cannot read (say, a date column
    /// holding 'soon') keeps its canonical text, which differs from what the other engine produces,
    /// so the range is compared row by row and the compare reports it.
    public func text(_ value: Value) -> String? {
        if case .json = self {
            // Only a text is read the way `jsonb` reads it (a number SQLite stored as REAL is not);
            // a control character starts no text PostgreSQL prints for a jsonb value.
            if case .text(let written) = value, let jsonb = JSONCanonical.postgresJSONB(written) { return jsonb }
            return CanonicalForm.text(value, as: canonicalType).map { "\u{1}" + $0 }
        }
        // The same texts as below, without writing the canonical text first (SQLite's aggregate
        // spells every value of a table this way).
        switch (self, value) {
        case (.number(let scale), .int(let integer)):
            return integer == 0 || scale == 0 ? String(integer) : String(integer) + String(repeating: "0", count: scale)
        case (.float(let bits), .double(let double)):
            if double.isNaN { return "NaN" }
            return bits == 32 ? Self.hex(UInt64(Float(double).bitPattern), digits: 8) : Self.hex(double.bitPattern, digits: 16)
        case (.timestamp(let zoned), .text(let written)):
            if let micros = Timestamp.epochMicroseconds(normalizing: written, withTimeZone: zoned) { return String(micros) }
        default: break
        }
        guard let canonical = CanonicalForm.text(value, as: canonicalType) else { return nil }
        switch self {
        case .number(let scale): return Self.scaled(canonical, by: scale)
        case .boolean: return canonical == "true" ? "1" : canonical == "false" ? "0" : canonical
        case .text: return canonical
        case .binary: return canonical.hasPrefix("\\x") ? String(canonical.dropFirst(2)) : canonical
        case .date: return Timestamp.epochDays(canonical).map { String($0) } ?? canonical
        case .time: return Timestamp.microsecondsOfDay(canonical).map { String($0) } ?? canonical
        case .timestamp: return Timestamp.epochMicroseconds(canonical).map { String($0) } ?? canonical
        case .float(let bits): return Self.floatBits(canonical, bits: bits) ?? canonical
        case .json: return canonical  // spelled above, from the text as written
        }
    }

    /// `NaN`, or the hex of the IEEE-754 bits of a float's canonical text (`Double.description`).
    static func floatBits(_ canonical: String, bits: Int) -> String? {
        if canonical == "NaN" { return "NaN" }
        if bits == 32 {
            guard let float = Float(canonical) else { return nil }
            return hex(UInt64(float.bitPattern), digits: 8)
        }
        guard let double = Double(parsingSQL: canonical) else { return nil }
        return hex(double.bitPattern, digits: 16)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// A normalised decimal (`-1.5`) times 10^scale (`-150`), with any decimals left over kept
    /// (`1.505` at scale 2 → `150.5`), as PostgreSQL's `trim_scale(x * 10^scale)` prints it.
    static func scaled(_ decimal: String, by scale: Int) -> String {
        var text = decimal
        return text.withUTF8 { bytes -> String in
            let negative = bytes.first == UInt8(ascii: "-")
            var integer: [UInt8] = [], fraction: [UInt8] = []
            var seenPoint = false
            for byte in bytes.dropFirst(negative ? 1 : 0) {
                if byte == UInt8(ascii: ".") {
                    guard !seenPoint else { return decimal }
                    seenPoint = true
                } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    if seenPoint { fraction.append(byte) } else { integer.append(byte) }
                } else {
                    return decimal
                }
            }
            guard !integer.isEmpty else { return decimal }
            var out = integer + fraction.prefix(scale)
            if fraction.count < scale { out += repeatElement(UInt8(ascii: "0"), count: scale - fraction.count) }
            let firstNonZero = out.firstIndex { $0 != UInt8(ascii: "0") } ?? out.count
            out.removeFirst(min(firstNonZero, out.count - 1))
            if fraction.count > scale { out += [UInt8(ascii: ".")] + fraction.dropFirst(scale) }
            let isZero = out == [UInt8(ascii: "0")]
            if negative && !isZero { out.insert(UInt8(ascii: "-"), at: 0) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A short code naming the form, passed to SQLite's aggregate (`n2`, `b`, `t`, `c`, `u`, `x`,
    /// `d`, `h`, `s`, `z`, `f64`, `j`).
    public var code: String {
        switch self {
        case .number(let scale): return "n\(scale)"
        case .boolean: return "b"
        case .text(let trimmed, let lowercased): return trimmed ? "c" : lowercased ? "u" : "t"
        case .binary: return "x"
        case .date: return "d"
        case .time: return "h"
        case .timestamp(let zoned): return zoned ? "z" : "s"
        case .float(let bits): return "f\(bits)"
        case .json: return "j"
        }
    }

    public init?(code: Substring) {
        switch code {
        case "b": self = .boolean
        case "t": self = .text(trimmed: false, lowercased: false)
        case "c": self = .text(trimmed: true, lowercased: false)
        case "u": self = .text(trimmed: false, lowercased: true)
        case "x": self = .binary
        case "d": self = .date
        case "h": self = .time
        case "s": self = .timestamp(zoned: false)
        case "z": self = .timestamp(zoned: true)
        case "f32": self = .float(bits: 32)
        case "f64": self = .float(bits: 64)
        case "j": self = .json
        default:
            guard code.first == "n", let scale = Int(code.dropFirst()) else { return nil }
            self = .number(scale: scale)
        }
    }
}

/// One column of a portable checksum: its name, the form its values are spelled in, and its type
/// as its own database declares it (SQL Server reads some types through an expression of it).
public typealias ChecksumColumn = (name: String, form: ChecksumForm, type: String)

/// The portable range checksum: each row is framed (`length:text` per column, `-` for NULL, so
/// NULL ≠ '' and `1‖11` ≠ `11‖1`), hashed with MD5, and the first 60 bits of each hash — 15 hex
/// digits, which every engine can turn into an integer — are summed. Sums are compared modulo
/// 2^64, so an engine may return the exact sum or a wrapped one.
public enum PortableChecksum {
    /// Hex digits of the MD5 kept per row.
    public static let hexDigits = 15

    /// One column's frame: `length:text` (length in Unicode scalars, as SQL `length` counts) or `-`.
    public static func frame(_ text: String?) -> String {
        var bytes: [UInt8] = []
        appendFrame(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func appendFrame(_ text: String?, to bytes: inout [UInt8]) {
        guard var text else { return bytes.append(UInt8(ascii: "-")) }
        text.withUTF8 { utf8 in
            // Unicode scalars are the bytes that do not continue one (0b10xxxxxx).
            var scalars = 0
            for byte in utf8 where byte & 0xC0 != 0x80 { scalars += 1 }
            let start = bytes.count
            repeat {
                bytes.append(UInt8(ascii: "0") + UInt8(scalars % 10))
                scalars /= 10
            } while scalars > 0
            bytes[start...].reverse()
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: utf8)
        }
    }

    /// The row's hash from its columns' texts.
    public static func hash(_ texts: some Swift.Sequence<String?>) -> UInt64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        for text in texts { appendFrame(text, to: &bytes) }
        return hash(frameBytes: bytes)
    }

    /// The first 60 bits of the MD5 of the row's frames.
    public static func hash(frame: String) -> UInt64 { hash(frameBytes: Array(frame.utf8)) }

    /// The first 60 bits of the MD5 of frames already joined (``appendFrame(_:to:)``).
    public static func hash(frameBytes: [UInt8]) -> UInt64 {
        let digest = Insecure.MD5.hash(data: frameBytes)
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return value >> 4
    }

    /// An integer sum as an engine printed it (`-12`, `340282366920938463463`, `12.000`), modulo
    /// 2^64; nil when it is not an exact integer (a float in exponent form).
    public static func reduce(_ text: String) -> UInt64? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        let negative = s.first == "-"
        if negative || s.first == "+" { s = s.dropFirst() }
        if let point = s.firstIndex(of: ".") {
            guard s[s.index(after: point)...].allSatisfy({ $0 == "0" }) else { return nil }
            s = s[..<point]
        }
        guard !s.isEmpty else { return nil }
        var value: UInt64 = 0
        for c in s.utf8 {
            guard c >= 48, c <= 57 else { return nil }
            value = value &* 10 &+ UInt64(c - 48)
        }
        return negative ? 0 &- value : value
    }
}
