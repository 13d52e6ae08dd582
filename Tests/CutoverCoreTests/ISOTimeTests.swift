import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// The byte-level reader of common time spellings gives what Foundation's parsers give, so a fast
/// import stores the same instants as before; the cached writer spells what Foundation's formatter does.
struct ISOTimeTests {
    /// Foundation's own parsers, the reference the byte scanner is held to.
    static func foundation(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let writer = ISO8601DateFormatter()
        writer.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: trimmed) { return writer.string(from: date) }
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in [
            "yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss.SSSSSS",
            "yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd",
        ] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return writer.string(from: date) }
        }
        return nil
    }

    /// Both readers (to a stored string, to a `Date` written back) agree with Foundation.
    func expectAgreement(_ text: String) throws {
        let foundation = try #require(Self.foundation(text), "Foundation reads \(text)")
        #expect(ISOTime.normalize(text) == foundation, "\(text)")
        #expect(ISOTime.parse(text).map(ISOTime.string) == foundation, "\(text)")
    }

    @Test(arguments: [
        "2024-01-05", "2024-01-05 10:00:07", "2024-01-05T10:00:07Z", "2024-01-05T10:00:07.5Z",
        "2024-01-05T10:00:07.123Z", "2024-01-05 10:00:07.123456", "2024-01-05T23:30:00+02:00", "2024-01-05T00:30:00-05:30",
        "2024-02-29 12:00:00", "2000-12-31T23:59:59.999Z", " 2024-01-05 10:00:07 ", "2024-01-01T00:15:00+01:00",
    ])
    func commonSpellingsMatchFoundation(_ text: String) throws {
        try expectAgreement(text)
    }

    @Test func minutesWithoutSecondsAreRead() {
        #expect(ISOTime.normalize("2024-01-05T10:00") == "2024-01-05T10:00:00.000Z")
    }

    @Test func impossibleTimesAreNotTimes() {
        for text in ["2023-02-29", "2024-13-01", "2024-01-05T24:00:00", "2024-01-05T10:61", "2024-01-05T10:00:07.", "2024-01-05X", "05/01/2024", ""] {
            #expect(ISOTime.normalize(text) == nil, "\(text)")
            #expect(ISOTime.parse(text) == nil, "\(text)")
        }
    }

    @Test func instantsAtTheEndsOfTheYearsAreWritten() {
        #expect(ISOTime.string(Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00.000Z")
        #expect(ISOTime.string(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(ISOTime.string(Date(timeIntervalSince1970: 1.9996)) == "1970-01-01T00:00:02.000Z")
        #expect(ISOTime.string(Date(timeIntervalSince1970: -0.0004)) == "1970-01-01T00:00:00.000Z")
        #expect(!ISOTime.string(Date(timeIntervalSince1970: -62_135_596_801)).isEmpty)  // before year 1: Foundation's spelling, no trap
        #expect(!ISOTime.string(.distantFuture).isEmpty)
    }

    @Test func runIDStampsAreCompact() {
        #expect(ISOTime.compactStamp(Date(timeIntervalSince1970: 1_795_000_000.5)) == "20261118-110640")
    }

    /// Seeded random instants in every spelling the fast path reads agree with Foundation.
    @Test func randomInstantsAgreeWithFoundation() throws {
        var generator = FuzzGenerator(seed: 20261128)
        for _ in 0..<2_000 {
            let seconds = Int.random(in: -2_000_000_000...4_000_000_000, using: &generator)
            let millis = Int.random(in: 0...999, using: &generator)
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let base = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            let time = String(format: "%02d:%02d:%02d", c.hour!, c.minute!, c.second!)
            let offset = Int.random(in: -12...14, using: &generator)
            for text in [
                "\(base) \(time)", "\(base)T\(time).\(String(format: "%03d", millis))Z",
                "\(base)T\(time)\(offset < 0 ? "-" : "+")\(String(format: "%02d", abs(offset))):00",
            ] {
                try expectAgreement(text)
            }
            let instant = Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millis) / 1_000)
            let writer = ISO8601DateFormatter()
            writer.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            #expect(ISOTime.string(instant) == writer.string(from: instant))
        }
    }
}
