import Foundation

/// Timestamps as stored and shown: ISO 8601 in UTC with milliseconds. The one place the code base
/// writes and reads times, from integers: no formatter is built per value, and none truncates —
/// Foundation's `ISO8601FormatStyle` cuts fractional seconds, so a stored `.136` read back as a
/// `Date` (52.135999…) would be written `.135`; here the instant is rounded to the millisecond.
public enum ISOTime {
    public static func now() -> String { string(Date()) }

    public static func string(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        // Years 1–9999 only, as ISO 8601 writes them without a sign; beyond, Foundation's spelling.
        guard since1970 >= -62_135_596_800, since1970 < 253_402_300_799.9995 else {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        }
        let millis = Int((since1970 * 1_000).rounded())
        let seconds = millis.floorDivided(by: 1_000)
        return spelled(seconds: seconds, millis: millis - seconds * 1_000)
    }

    /// Reads the time spellings history files use — ISO 8601 with or without fractional seconds or
    /// zone, `YYYY-MM-DD HH:MM:SS[.fff]`, or a bare date (times without a zone are UTC), to the
    /// millisecond.
    public static func parse(_ text: String) -> Date? {
        guard let (seconds, millis) = instant(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1_000)
    }

    /// `text` in the stored form, or nil when it is not a time.
    public static func normalize(_ text: String) -> String? { storedForm(text.utf8) }

    /// The `yyyyMMdd-HHmmss` stamp run ids begin with.
    public static func compactStamp(_ date: Date) -> String {
        let digits = string(date).unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) }.prefix(14)
        let text = String(String.UnicodeScalarView(digits))
        return String(text.prefix(8)) + "-" + String(text.dropFirst(8))
    }

    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]`, optionally
    /// followed by `Z` or an offset `±HH[:MM]` (no zone is UTC), as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    /// Digits beyond milliseconds are dropped. nil for anything else, including impossible dates.
    static func storedForm(_ bytes: String.UTF8View) -> String? {
        guard let (seconds, millis) = instant(bytes) else { return nil }
        return spelled(seconds: seconds, millis: millis)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` of seconds since 1970 and milliseconds.
    private static func spelled(seconds local: Int, millis: Int) -> String {
        let days = local.floorDivided(by: 86_400), seconds = local - days * 86_400
        let (y, mo, d) = Timestamp.civilFromDays(days)
        // Written straight into the string's storage: a log import spells a time per line.
        return String(unsafeUninitializedCapacity: 24) { out in
            var at = 0
            func put(_ value: Int, _ width: Int, then separator: UInt8) {
                var rest = value
                for place in stride(from: at + width - 1, through: at, by: -1) {
                    out[place] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
                out[at + width] = separator
                at += width + 1
            }
            put(y, 4, then: UInt8(ascii: "-"))
            put(mo, 2, then: UInt8(ascii: "-"))
            put(d, 2, then: UInt8(ascii: "T"))
            put(seconds / 3_600, 2, then: UInt8(ascii: ":"))
            put(seconds % 3_600 / 60, 2, then: UInt8(ascii: ":"))
            put(seconds % 60, 2, then: UInt8(ascii: "."))
            put(millis, 3, then: UInt8(ascii: "Z"))
            return at
        }
    }

    /// The spelling's instant as seconds since 1970 (UTC) and milliseconds; nil when it is not one
    /// of the spellings above or falls outside years 1–9999.
    static func instant(_ bytes: String.UTF8View) -> (seconds: Int, millis: Int)? {
        var scanner = ByteScanner(Array(bytes))
        scanner.skipSpaces()
        guard let year = scanner.digits(4), scanner.take(UInt8(ascii: "-")), let month = scanner.digits(2), scanner.take(UInt8(ascii: "-")),
            let day = scanner.digits(2), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0, offsetMinutes = 0
        if scanner.take(UInt8(ascii: "T")) || scanner.take(UInt8(ascii: " ")) {
            guard let h = scanner.digits(2), scanner.take(UInt8(ascii: ":")), let m = scanner.digits(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if scanner.take(UInt8(ascii: ":")) {
                guard let s = scanner.digits(2), s < 60 else { return nil }
                second = s
                if scanner.take(UInt8(ascii: ".")) || scanner.take(UInt8(ascii: ",")) {
                    var place = 100, any = false
                    while let digit = scanner.digit() {
                        millis += digit * place
                        place /= 10
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            if scanner.take(UInt8(ascii: "Z")) {
            } else if let sign = scanner.sign() {
                guard let oh = scanner.digits(2), oh <= 18 else { return nil }
                var om = 0
                if scanner.take(UInt8(ascii: ":")) {
                    guard let m = scanner.digits(2) else { return nil }
                    om = m
                } else if let m = scanner.digits(2) {
                    om = m
                }
                guard om < 60 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
        }
        scanner.skipSpaces()
        guard scanner.atEnd else { return nil }
        let local = (Timestamp.daysFromCivil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second) - offsetMinutes * 60
        let (y, _, _) = Timestamp.civilFromDays(local.floorDivided(by: 86_400))
        guard (1...9999).contains(y) else { return nil }
        return (local, millis)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

private struct ByteScanner {
    let bytes: [UInt8]
    var index = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }
    mutating func skipSpaces() { while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 } }
    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
    mutating func digit() -> Int? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
        defer { index += 1 }
        return Int(bytes[index] - UInt8(ascii: "0"))
    }
    mutating func digits(_ count: Int) -> Int? {
        let start = index
        var value = 0
        for _ in 0..<count {
            guard let d = digit() else { index = start; return nil }
            value = value * 10 + d
        }
        return value
    }
    mutating func sign() -> Int? {
        if take(UInt8(ascii: "+")) { return 1 }
        if take(UInt8(ascii: "-")) { return -1 }
        return nil
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let q = self / divisor
        return (self % divisor < 0) ? q - 1 : q
    }
}
