import Testing

@testable import CutoverCore

@Suite struct CanonicalFormTests {
    @Test(arguments: [
        ("1.50", "1.5"), ("-001.500", "-1.5"), ("0.000", "0"), ("-0.0", "0"), ("1e3", "1000"), ("1.25E-3", "0.00125"),
        ("12345678901234567890.1234567890", "12345678901234567890.123456789"), ("+7", "7"), ("100", "100"),
    ])
    func decimalsCompareByValueNotSpelling(raw: String, canonical: String) {
        #expect(CanonicalForm.normalizeDecimal(raw) == canonical)
    }

    /// The byte-level fast path agrees with the general one on every spelling it accepts.
    @Test func theFastDecimalPathAgreesWithTheGeneralOne() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0000123456789.-")
        var accepted = 0
        for _ in 0..<20_000 {
            let raw = String((0..<Int.random(in: 1...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            guard let fast = CanonicalForm.normalizePlainDecimal(raw) else { continue }
            accepted += 1
            #expect(fast == CanonicalForm.normalizeAnyDecimal(raw), "\(raw)")
        }
        #expect(accepted > 1_000)
        for raw in ["-0.00", ".5", "-.5", "5.", "000", "007.50", "-12"] {
            #expect(CanonicalForm.normalizePlainDecimal(raw) == CanonicalForm.normalizeAnyDecimal(raw), "\(raw)")
        }
    }

    @Test func timestampsAreWrittenDigitByDigit() {
        #expect(Timestamp.format(days: -1, secondsOfDay: 86_399, micros: 500_001) == "1969-12-31 23:59:59.500001")
        #expect(Timestamp.format(days: 0, secondsOfDay: 0, micros: 0) == "1970-01-01 00:00:00.000000")
        #expect(Timestamp.normalizeTime("7:05") == "07:05:00.000000")
    }

    @Test func nullIsNotTheEmptyString() {
        #expect(CanonicalForm.text(.null, as: .text(maxLength: nil)) == nil)
        #expect(CanonicalForm.text(.text(""), as: .text(maxLength: nil)) == "")
    }

    @Test func negativeZeroStaysDistinctForFloats() {
        #expect(CanonicalForm.text(.double(-0.0), as: .float(bits: 64)) != CanonicalForm.text(.double(0.0), as: .float(bits: 64)))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1.7976931348623157e308, 1e-300, 5e-324])
    func floatExtremesRoundTripThroughText(value: Double) throws {
        let text = try #require(CanonicalForm.text(.double(value), as: .float(bits: 64)))
        let back = try #require(Double(parsingSQL: text))
        #expect(back.bitPattern == value.bitPattern || (back.isNaN && value.isNaN))
    }

    @Test func floatFromTextAndFromDoubleAgree() {
        #expect(CanonicalForm.text(.text("1.1"), as: .float(bits: 64)) == CanonicalForm.text(.double(1.1), as: .float(bits: 64)))
        #expect(CanonicalForm.text(.text("Infinity"), as: .float(bits: 64)) == CanonicalForm.text(.double(.infinity), as: .float(bits: 64)))
    }

    @Test(arguments: [
        ("2024-01-02 03:04:05+02", "2024-01-02 01:04:05.000000Z"),
        ("2024-01-02T03:04:05+02:00", "2024-01-02 01:04:05.000000Z"),
        ("2024-01-01 00:30:00.5-01:00", "2024-01-01 01:30:00.500000Z"),
        ("2024-01-01 23:30:00-01:00", "2024-01-02 00:30:00.000000Z"),
        ("2024-03-01 00:30:00+01", "2024-02-29 23:30:00.000000Z"),
        ("2024-01-02 03:04:05.123456Z", "2024-01-02 03:04:05.123456Z"),
    ])
    func timestampsWithZonesCompareInUTC(raw: String, canonical: String) {
        #expect(CanonicalForm.text(.text(raw), as: .timestamp(withTimeZone: true, precision: 6)) == canonical)
    }

    @Test func timestampsWithoutZoneKeepWallClock() {
        let type = CanonicalType.timestamp(withTimeZone: false, precision: nil)
        #expect(CanonicalForm.text(.text("2009-01-01 00:00:00"), as: type) == CanonicalForm.text(.text("2009-01-01T00:00:00.000"), as: type))
        #expect(CanonicalForm.text(.text("2009-01-01 00:00:00.1"), as: type) == "2009-01-01 00:00:00.100000")
    }

    @Test func jsonKeyOrderAndSpacingDoNotMatter() {
        #expect(
            CanonicalForm.text(.text("{\"b\": 1, \"a\": [1, 2]}"), as: .json(binary: true))
                == CanonicalForm.text(.text("{\"a\":[1,2],\"b\":1}"), as: .json(binary: false)))
    }

    @Test func charPaddingIsTrimmedOnlyForChar() {
        #expect(CanonicalForm.text(.text("ab   "), as: .char(length: 5)) == "ab")
        #expect(CanonicalForm.text(.text("ab   "), as: .text(maxLength: 5)) == "ab   ")
    }

    @Test func booleansFromIntegersAndText() {
        #expect(CanonicalForm.text(.int(1), as: .boolean) == "true")
        #expect(CanonicalForm.text(.text("f"), as: .boolean) == "false")
        #expect(CanonicalForm.text(.bool(true), as: .boolean) == "true")
    }

    @Test func civilDateConversionRoundTrips() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(y, m, d) == days)
        }
        #expect(Timestamp.daysFromCivil(1970, 1, 1) == 0)
        #expect(Timestamp.daysFromCivil(2000, 3, 1) == 11_017)
    }
}
