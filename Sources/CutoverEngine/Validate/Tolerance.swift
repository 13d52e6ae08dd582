import CutoverCore
import Foundation

/// What may differ in one column and still count as equal.
public struct ColumnTolerance: Sendable, Hashable, Codable {
    /// Numbers within this absolute difference are equal.
    public var epsilon: Double?
    /// Timestamps and times compared to this many fractional-second digits (0 = seconds, 3 = ms).
    public var fractionDigits: Int?
    /// '' and NULL are equal.
    public var emptyEqualsNull: Bool
    /// Text compared case-insensitively.
    public var ignoreCase: Bool

    public init(epsilon: Double? = nil, fractionDigits: Int? = nil, emptyEqualsNull: Bool = false, ignoreCase: Bool = false) {
        self.epsilon = epsilon
        self.fractionDigits = fractionDigits
        self.emptyEqualsNull = emptyEqualsNull
        self.ignoreCase = ignoreCase
    }

    /// Parses `0.01`, `epsilon=0.01`, `s`, `ms`, `us`, `digits=2`, `empty-null`, `case`; several joined by `+`.
    public init(parsing text: String) throws {
        self.init()
        for part in text.split(separator: "+").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch part {
            case "s", "seconds": fractionDigits = 0
            case "ms": fractionDigits = 3
            case "us", "µs": fractionDigits = 6
            case "empty-null", "empty=null": emptyEqualsNull = true
            case "case", "ignore-case": ignoreCase = true
            default:
                if part.hasPrefix("digits="), let n = Int(part.dropFirst(7)) { fractionDigits = n; continue }
                let number = part.hasPrefix("epsilon=") ? String(part.dropFirst(8)) : part
                guard let value = Double(number), value >= 0 else {
                    throw CutoverError(
                        .usage, "tolerance '\(text)' is not understood",
                        hint: "use a number (0.01), s, ms, us, digits=N, empty-null or case; combine with +")
                }
                epsilon = value
            }
        }
    }

    /// The name of the first rule that makes two canonical values equal, or nil if none does.
    func hides(_ a: String?, _ b: String?, type: CanonicalType) -> String? {
        if emptyEqualsNull, (a ?? "") == (b ?? "") { return "empty-null" }
        guard let a, let b else { return nil }
        if ignoreCase, a.lowercased() == b.lowercased() { return "case" }
        if let epsilon, let x = Double(a), let y = Double(b), abs(x - y) <= epsilon { return "epsilon \(epsilon)" }
        if let digits = fractionDigits, Self.truncateFraction(a, digits) == Self.truncateFraction(b, digits) { return "\(digits) fraction digits" }
        return nil
    }

    /// `2024-01-02 03:04:05.123456Z` → `2024-01-02 03:04:05.123Z` for 3 digits.
    static func truncateFraction(_ text: String, _ digits: Int) -> String {
        guard let dot = text.lastIndex(of: ".") else { return text }
        let fraction = text[text.index(after: dot)...].prefix { $0.isNumber }
        let rest = text[text.index(after: dot)...].dropFirst(fraction.count)
        let kept = fraction.prefix(digits)
        return String(text[..<dot]) + (kept.isEmpty ? "" : "." + kept) + rest
    }
}

/// Tolerances per column (`*` applies to every column without its own).
public struct Tolerances: Sendable, Hashable, Codable {
    public var columns: [String: ColumnTolerance]
    /// Count differences a tolerance hid as failures (they are reported either way).
    public var strict: Bool

    public init(columns: [String: ColumnTolerance] = [:], strict: Bool = false) {
        self.columns = columns
        self.strict = strict
    }

    func forColumn(_ name: String) -> ColumnTolerance? { columns[name] ?? columns["*"] }

    /// The tolerances that apply to one table, from keys `schema.table.column`, `table.column`,
    /// `column` or `*` (a qualified key wins over a plain one).
    public func forTable(_ table: TableRef) -> Tolerances {
        var result = Tolerances(strict: strict)
        for (key, tolerance) in columns where !key.contains(".") { result.columns[key] = tolerance }
        for (key, tolerance) in columns {
            guard let dot = key.lastIndex(of: ".") else { continue }
            let owner = String(key[..<dot])
            if owner == table.name || owner == table.description { result.columns[String(key[key.index(after: dot)...])] = tolerance }
        }
        return result
    }

    /// `COLUMN=RULE` items as given on the command line.
    public static func parse(_ items: [String], strict: Bool) throws -> Tolerances {
        var tolerances = Tolerances(strict: strict)
        for item in items {
            let pieces = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2 else {
                throw CutoverError(.usage, "--tolerance \(item) is not COLUMN=RULE", hint: "e.g. --tolerance amount=0.01")
            }
            tolerances.columns[pieces[0]] = try ColumnTolerance(parsing: pieces[1])
        }
        return tolerances
    }
}
