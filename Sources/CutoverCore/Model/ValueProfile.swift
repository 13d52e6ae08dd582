/// What a column really holds, as opposed to what it declares — for engines whose declared types
/// do not constrain values (SQLite stores any value in any column). Filled by profiling the data;
/// the planner widens a type to hold every value seen, or flags the column with this evidence.
public struct ValueProfile: Sendable, Hashable, Codable {
    /// Values by storage class.
    public var nulls: Int64 = 0
    public var integers: Int64 = 0
    public var reals: Int64 = 0
    public var texts: Int64 = 0
    public var blobs: Int64 = 0
    /// TEXT values that are not valid UTF-8 (counted in `texts`; they can only travel as bytes).
    public var invalidUTF8: Int64 = 0
    /// The longest text, in characters (Unicode scalars, as SQLite's `length()` and PostgreSQL's
    /// `varchar(n)` count them).
    public var maxTextLength: Int?
    /// The smallest and largest integer (stored as an integer, or as text that parses as one).
    public var minInteger: Int64?
    public var maxInteger: Int64?
    /// For reals and numeric text: the most digits before and after the point, in the decimal
    /// spelling a writer sends (a real's shortest round-trip spelling). Integers count through
    /// their range: see ``integerDigits``.
    public var maxIntegerDigits: Int?
    public var maxScale: Int?
    /// The number with the most fractional digits, as spelled for a writer.
    public var maxScaleExample: String?
    /// Numbers with a fractional part (in a column declared integer they need a decimal type).
    public var fractional: Int64 = 0
    /// Reals that are NaN or ±Infinity, which no decimal type holds.
    public var nonFinite: Int64 = 0
    /// Integers written as text that do not fit in 64 bits.
    public var wideIntegers: Int64 = 0
    /// Text that is not a number, in a column declared numeric.
    public var nonNumericTexts: Int64 = 0
    /// For date and time columns: how many values are in each spelling (``TimeSpelling``).
    public var timeSpellings: [String: Int64] = [:]
    /// For boolean columns: values other than 0/1 and the usual spellings of true and false.
    public var nonBooleans: Int64 = 0
    /// A few values the declared type does not describe, as evidence (shortened).
    public var examples: [String] = []

    public init() {}

    public var total: Int64 { nulls + integers + reals + texts + blobs }

    public static let maxExamples = 5

    /// Counts one value as SQLite stored it (`invalidText`: TEXT whose bytes are not UTF-8, read as
    /// `.bytes`), judged against the column's declared type.
    public mutating func observe(_ value: Value, declared: CanonicalType, invalidText: Bool = false) {
        switch value {
        case .null: nulls += 1
        case .bool: integers += 1
        case .int(let i): integers += 1; observeInteger(i)
        case .double: reals += 1
        case .bytes: if invalidText { texts += 1 } else { blobs += 1 }
        case .text(let s): texts += 1; maxTextLength = Swift.max(maxTextLength ?? 0, s.unicodeScalars.count)
        }
        inspect(value, declared: declared, invalidText: invalidText)
    }

    /// What `observe` learns beyond the storage class, the length of text and the range of
    /// integers — for a profiler (``ValueProfiler``) that counts those itself and hands over only
    /// the values worth a look.
    public mutating func inspect(_ value: Value, declared: CanonicalType, invalidText: Bool = false) {
        switch value {
        case .null, .bool: break
        case .int:
            observeOther(value, declared: declared)
        case .double(let d):
            if d.isFinite {
                if d == d.rounded(), abs(d) < 9.2e18 { observeInteger(Int64(d)) }
                observeDigits(DecimalText.plain(d))
            } else if declared.isExactNumber {
                nonFinite += 1
                example(DecimalText.plain(d))
            }
            observeOther(value, declared: declared)
        case .bytes(let bytes):
            bytesSeen(count: bytes.count, declared: declared, invalidText: invalidText)
        case .text(let s):
            observeText(s, declared: declared)
        }
    }

    /// A BLOB, or TEXT that is not UTF-8 (`invalidText`), of `count` bytes.
    mutating func bytesSeen(count: Int, declared: CanonicalType, invalidText: Bool) {
        if invalidText { invalidUTF8 += 1 }
        if declared != .binary { example(invalidText ? "non-UTF-8 text (\(count) bytes)" : "BLOB of \(count) bytes") }
    }

    mutating func observeInteger(_ i: Int64) {
        if let low = minInteger, let high = maxInteger {
            if i < low { minInteger = i } else if i > high { maxInteger = i }
        } else {
            minInteger = i
            maxInteger = i
        }
    }

    /// The most digits before the point of any number seen: integers by their range, reals and
    /// numeric text by their spelling.
    public var integerDigits: Int {
        func digits(_ i: Int64?) -> Int { i.map { $0 == 0 ? 0 : String($0.magnitude).count } ?? 0 }
        return Swift.max(maxIntegerDigits ?? 0, digits(minInteger), digits(maxInteger))
    }

    /// Digits before and after the point of a plain decimal spelling (`-12.345`).
    private mutating func observeDigits(_ plain: String) {
        let unsigned = plain.hasPrefix("-") ? plain.dropFirst() : Substring(plain)
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = parts[0].drop { $0 == "0" }
        let scale = parts.count > 1 ? parts[1].count : 0
        if scale > 0 { fractional += 1 }
        maxIntegerDigits = Swift.max(maxIntegerDigits ?? 0, integerPart.count)
        if scale > (maxScale ?? 0) { maxScaleExample = plain }
        maxScale = Swift.max(maxScale ?? 0, scale)
    }

    private mutating func observeText(_ s: String, declared: CanonicalType) {
        switch declared {
        case .integer, .decimal, .float:
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            if let i = Int64(trimmed) {
                observeInteger(i)
            } else if Self.isDecimalNumber(trimmed) {
                let plain = CanonicalForm.normalizeDecimal(trimmed)
                observeDigits(plain)
                if !plain.contains("."), Int64(plain) == nil { wideIntegers += 1; example(s) }
            } else if case .float = declared, Double(parsingSQL: trimmed) != nil {
                break  // NaN and ±Infinity are floats
            } else {
                nonNumericTexts += 1
                example(s)
            }
        case .boolean:
            if SQLBool.parse(s) == nil { nonBooleans += 1; example(s) }
        case .date, .time, .timestamp:
            let spelling = TimeSpelling(s)
            timeSpellings[spelling.rawValue, default: 0] += 1
            if !spelling.fits(declared) { example(s) }
        default: break
        }
    }

    /// Integers and reals in columns that declare something else.
    private mutating func observeOther(_ value: Value, declared: CanonicalType) {
        switch declared {
        case .date, .time, .timestamp:
            timeSpellings["epoch-number", default: 0] += 1
            if case .timestamp = declared {} else { example(value.displayText) }
        case .boolean:
            if value != .int(0), value != .int(1), value != .double(0), value != .double(1) { nonBooleans += 1; example(value.displayText) }
        default: break
        }
    }

    private mutating func example(_ text: String) {
        guard examples.count < Self.maxExamples else { return }
        let shown = text.count > 40 ? String(text.prefix(37)) + "…" : text
        if !examples.contains(shown) { examples.append(shown) }
    }

    /// `[-+]digits[.digits][e[-+]digits]`, with digits on at least one side of the point.
    static func isDecimalNumber(_ s: String) -> Bool {
        var bytes = Substring(s).utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        func digits() -> Int {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        var count = digits()
        if bytes.first == UInt8(ascii: ".") { bytes = bytes.dropFirst(); count += digits() }
        guard count > 0 else { return false }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}

/// How a date or time value is spelled in text.
public enum TimeSpelling: String, Sendable {
    /// `YYYY-MM-DD`
    case isoDate = "iso-date"
    /// `YYYY-MM-DD HH:MM[:SS[.f]]` (or with `T`)
    case isoTimestamp = "iso-timestamp"
    /// An ISO timestamp with `Z` or a `±HH[:MM]` offset.
    case isoTimestampWithOffset = "iso-timestamp-offset"
    /// `HH:MM[:SS[.f]]`
    case isoTime = "iso-time"
    /// Anything else (`03/15/2024`, `yesterday`, …): engines read it by their own rules, or not at all.
    case other

    public init(_ s: String) {
        var s = s
        self = s.withUTF8 { TimeSpelling(utf8: $0) }
    }

    /// Classifies UTF-8 bytes without making a String (a profiler reads millions).
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        var scan = DigitScanner(bytes)
        if let (h, m, sec, _) = scan.time(), scan.atEnd {
            self = h < 24 && m < 60 && sec < 61 ? .isoTime : .other
            return
        }
        scan.index = 0
        guard let (_, month, day) = scan.date(), (1...12).contains(month), (1...31).contains(day) else { self = .other; return }
        if scan.atEnd { self = .isoDate; return }
        guard scan.skip(" ") || scan.skip("T"), let (h, m, sec, _) = scan.time(), h < 24, m < 60, sec < 61 else { self = .other; return }
        if scan.atEnd { self = .isoTimestamp; return }
        _ = scan.skip(" ")
        if (scan.skip("Z") || scan.skip("z")) && scan.atEnd { self = .isoTimestampWithOffset; return }
        guard let sign = scan.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { self = .other; return }
        scan.index += 1
        guard let hours = scan.number(), hours <= 1400 else { self = .other; return }
        if scan.skip(":") { guard let minutes = scan.number(exactly: 2), minutes < 60 else { self = .other; return } }
        self = scan.atEnd ? .isoTimestampWithOffset : .other
    }

    /// Whether a column of `declared` type takes this spelling without changing the value.
    public func fits(_ declared: CanonicalType) -> Bool {
        switch (self, declared) {
        case (.isoDate, .date), (.isoDate, .timestamp), (.isoTime, .time): return true
        // Without an offset a timestamptz value is read as UTC, the zone every writer's session uses.
        case (.isoTimestamp, .timestamp), (.isoTimestampWithOffset, .timestamp(true, _)): return true
        default: return false
        }
    }
}

extension CanonicalType {
    /// Integers and decimals: types that hold digits exactly, so NaN and ±Infinity do not fit.
    var isExactNumber: Bool {
        switch self {
        case .integer, .decimal: return true
        default: return false
        }
    }
}
