import CutoverCore
import Testing

/// The profile of what a SQLite column holds, and the type advice it leads to.
struct ValueProfileTests {
    func advice(_ declared: CanonicalType, native: String, _ values: [Value]) -> ProfileAdvice {
        var profile = ValueProfile()
        for value in values { profile.observe(value, declared: declared) }
        var column = Column(name: "c", ordinal: 1, nativeType: native, canonical: declared)
        column.profile = profile
        return ProfileAdvice(column)
    }

    @Test func aDecimalIsWidenedToTheDigitsItsValuesNeed() {
        let advice = advice(.decimal(precision: 6, scale: 3), native: "NUMERIC(6,3)", [.double(0.00188), .double(12.5), .int(100), .text("123.4")])
        #expect(advice.canonical == .decimal(precision: 8, scale: 5))
        #expect(advice.notes.first?.contains("0.00188") == true)
        #expect(advice.evidence.isEmpty)
        // Values that already fit leave the type alone.
        #expect(
            self.advice(.decimal(precision: 6, scale: 3), native: "NUMERIC(6,3)", [.double(1.5), .int(999)]).canonical
                == .decimal(precision: 6, scale: 3))
    }

    @Test func numbersADecimalCannotHoldAreEvidence() {
        let advice = advice(.decimal(precision: 10, scale: 2), native: "DECIMAL(10,2)", [.text("n/a"), .double(.nan), .double(1)])
        #expect(advice.needsReview)
        #expect(advice.evidence.contains { $0.contains("1 value is not a number") && $0.contains("'n/a'") })
        #expect(advice.evidence.contains { $0.contains("NaN") })
    }

    @Test func integersWidenForFractionsAndBeyondTheirDeclaredBits() {
        let fractions = advice(.integer(bits: 64), native: "INTEGER", [.int(1), .double(2.5)])
        #expect(fractions.canonical == .decimal(precision: 2, scale: 1))
        #expect(fractions.needsReview)
        let wide = advice(.integer(bits: 64), native: "INTEGER", [.text("123456789012345678901234")])
        #expect(wide.canonical == .decimal(precision: 24, scale: 0))
        #expect(!wide.needsReview)
        let small = advice(.integer(bits: 16), native: "SMALLINT", [.int(70_000), .int(-3)])
        #expect(small.canonical == .integer(bits: 64))
        #expect(advice(.integer(bits: 16), native: "SMALLINT", [.int(32_767), .int(-32_768)]).canonical == .integer(bits: 16))
    }

    @Test func datesAndTimestampsAreJudgedBySpelling() {
        let date = advice(.date, native: "DATE", [.text("2024-01-05"), .text("2024-01-06 08:30:00"), .text("03/15/2024")])
        #expect(date.canonical == .timestamp(withTimeZone: false, precision: nil))
        #expect(date.evidence.contains { $0.contains("'03/15/2024'") && !$0.contains("08:30") })
        let zoned = advice(
            .timestamp(withTimeZone: false, precision: nil), native: "TIMESTAMP",
            [.text("2024-01-05 10:00:00+02:00"), .text("2024-01-05T10:00:00Z"), .int(1_700_000_000)])
        #expect(zoned.canonical == .timestamp(withTimeZone: true, precision: nil))
        #expect(zoned.notes.contains { $0.contains("epoch") })
        let epochDate = advice(.date, native: "DATE", [.int(19_000)])
        #expect(epochDate.evidence.contains { $0.contains("is a number") })
        #expect(TimeSpelling("2024-13-01") == .other)
        #expect(TimeSpelling("2024-01-05 10:00+0530") == .isoTimestampWithOffset)
        #expect(TimeSpelling("23:59:60") == .isoTime)
    }

    @Test func textLengthsBlobsAndBadUTF8() {
        let text = advice(.text(maxLength: 4), native: "VARCHAR(4)", [.text("abcdefg"), .text("ab")])
        #expect(text.canonical == .text(maxLength: 7))
        #expect(!text.needsReview)
        let mixed = advice(.text(maxLength: nil), native: "TEXT", [.bytes([0xff, 0]), .text("ok")])
        #expect(mixed.evidence.contains { $0.contains("1 BLOB value") })
        var profile = ValueProfile()
        profile.observe(.bytes([0xc3, 0x28]), declared: .text(maxLength: nil), invalidText: true)
        #expect(profile.texts == 1 && profile.blobs == 0 && profile.invalidUTF8 == 1)
    }

    @Test func anUntypedColumnTakesTheTypeItsValuesShare() {
        #expect(advice(.unknown(native: "(no declared type)"), native: "", [.int(1), .int(2)]).canonical == .integer(bits: 64))
        let inferred = advice(.unknown(native: "(no declared type)"), native: "", [.int(1), .double(2.5)])
        #expect(inferred.canonical == .float(bits: 64) && inferred.needsReview)
        let mixed = advice(.unknown(native: "(no declared type)"), native: "", [.int(1), .text("x")])
        #expect(mixed.evidence.contains { $0.contains("several kinds") })
        if case .unknown = mixed.canonical {} else { Issue.record("a mixed column must stay unmapped") }
    }

    @Test func booleansOtherThanZeroOneTrueFalseAreEvidence() {
        let flags = advice(.boolean, native: "BOOLEAN", [.int(0), .int(1), .text("yes"), .int(2)])
        #expect(flags.evidence.contains { $0.contains("1 value is not 0, 1") && $0.contains("'2'") })
    }
}
