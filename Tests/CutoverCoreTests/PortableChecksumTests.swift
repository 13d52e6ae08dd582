import Testing

@testable import CutoverCore

@Suite struct PortableChecksumTests {
    @Test func sixtyBitsOfMD5AsPostgreSQLAndSnowflakeComputeThem() {
        // ('x' || left(md5('1'), 15))::bit(60)::bigint on PostgreSQL, and the same number from the
        // emulator's POSITION/SUBSTR arithmetic.
        #expect(PortableChecksum.hash(frame: "1") == 886_263_699_231_969_848)
        #expect(PortableChecksum.hash(frame: "1") < 1 << 60)
    }

    @Test func framesKeepNullEmptyAndBoundariesApart() {
        let frames = { (values: [String?]) in values.map(PortableChecksum.frame).joined() }
        #expect(frames([nil]) != frames([""]))
        #expect(frames(["1", "11"]) != frames(["11", "1"]))
        #expect(frames(["-"]) != frames([nil]))
        // Length in Unicode scalars, as SQL `length` counts characters.
        #expect(PortableChecksum.frame("héllo 世界") == "8:héllo 世界")
    }

    @Test func sumsAreComparedModulo2To64() {
        #expect(PortableChecksum.reduce("-1") == UInt64.max)
        #expect(PortableChecksum.reduce("18446744073709551617") == 1)
        #expect(PortableChecksum.reduce("12.000") == 12)
        #expect(PortableChecksum.reduce("886263699231969848") == 886_263_699_231_969_848)
        // A float sum is not exact: it never matches.
        #expect(PortableChecksum.reduce("8.862636992319698e+17") == nil)
        #expect(PortableChecksum.reduce("1.5") == nil)
        #expect(PortableChecksum.reduce("") == nil)
    }

    @Test func decimalsAreScaledToIntegers() {
        #expect(ChecksumForm.scaled("-1.5", by: 2) == "-150")
        #expect(ChecksumForm.scaled("1.505", by: 2) == "150.5")
        #expect(ChecksumForm.scaled("-0.001", by: 2) == "-0.1")
        #expect(ChecksumForm.scaled("0", by: 2) == "0")
        #expect(ChecksumForm.scaled("12", by: 0) == "12")
        #expect(ChecksumForm.scaled("NaN", by: 2) == "NaN")
    }

    @Test func formsSpellValuesAsTheEnginesDo() {
        // The values PostgreSQL and the emulator gave for the same rows.
        #expect(ChecksumForm.timestamp(zoned: false).text(.text("1969-12-31 23:59:59.500001")) == "-499999")
        #expect(ChecksumForm.timestamp(zoned: true).text(.text("2024-03-31 01:47:00+02")) == "1711842420000000")
        #expect(ChecksumForm.date.text(.text("1969-12-25")) == "-7")
        #expect(ChecksumForm.time.text(.text("00:00:01.25")) == "1250000")
        #expect(ChecksumForm.number(scale: 2).text(.double(-2142.71)) == "-214271")
        #expect(ChecksumForm.number(scale: 0).text(.int(-499)) == "-499")
        #expect(ChecksumForm.boolean.text(.bool(false)) == "0")
        #expect(ChecksumForm.binary.text(.bytes([0, 0, 0, 1])) == "00000001")
        #expect(ChecksumForm.text(trimmed: true, lowercased: false).text(.text("ab   ")) == "ab")
        #expect(ChecksumForm.text(trimmed: false, lowercased: true).text(.text("A0EEBC99-9C0B")) == "a0eebc99-9c0b")
        #expect(ChecksumForm.date.text(.null) == nil)
        // Unreadable values keep their text, so they differ from what the other engine computes.
        #expect(ChecksumForm.date.text(.text("soon")) == "soon")
        for form in [
            ChecksumForm.number(scale: 3), .boolean, .text(trimmed: true, lowercased: false), .text(trimmed: false, lowercased: true),
            .text(trimmed: false, lowercased: false), .binary, .date, .time, .timestamp(zoned: true), .timestamp(zoned: false),
            .float(bits: 32), .float(bits: 64), .json,
        ] {
            #expect(ChecksumForm(code: Substring(form.code)) == form)
        }
    }

    @Test func aColumnPairHasAFormOrAReason() {
        func form(_ a: CanonicalType, _ b: CanonicalType) -> ChecksumForm? { try? ChecksumForm.common(source: a, target: b).get() }
        func reason(_ a: CanonicalType, _ b: CanonicalType) -> String? {
            if case .failure(let refusal) = ChecksumForm.common(source: a, target: b) { return refusal.reason }
            return nil
        }
        #expect(form(.decimal(precision: 12, scale: 2), .decimal(precision: 38, scale: 4)) == .number(scale: 4))
        #expect(form(.integer(bits: 64), .decimal(precision: 19, scale: 0)) == .number(scale: 0))
        #expect(form(.decimal(precision: nil, scale: nil), .decimal(precision: 38, scale: 10)) == .number(scale: 10))
        #expect(reason(.decimal(precision: nil, scale: nil), .decimal(precision: nil, scale: nil))?.contains("scale") == true)
        #expect(form(.float(bits: 64), .float(bits: 64)) == .float(bits: 64))
        #expect(form(.float(bits: 32), .float(bits: 64)) == .float(bits: 32))
        #expect(reason(.float(bits: 64), .decimal(precision: 38, scale: 2))?.contains("floating-point") == true)
        #expect(form(.char(length: 5), .text(maxLength: nil)) == .text(trimmed: true, lowercased: false))
        #expect(reason(.text(maxLength: nil), .char(length: 5))?.contains("CHAR") == true)
        #expect(form(.uuid, .text(maxLength: 36)) == .text(trimmed: false, lowercased: true))
        #expect(form(.timestamp(withTimeZone: true, precision: 6), .timestamp(withTimeZone: true, precision: 9)) == .timestamp(zoned: true))
        #expect(reason(.timestamp(withTimeZone: false, precision: nil), .timestamp(withTimeZone: true, precision: nil)) != nil)
        #expect(form(.json(binary: true), .json(binary: false)) == .json)
        #expect(form(.json(binary: false), .json(binary: false)) == .text(trimmed: false, lowercased: false))
        #expect(reason(.json(binary: true), .text(maxLength: nil))?.contains("JSON") == true)
        #expect(reason(.time(withTimeZone: true), .time(withTimeZone: true)) != nil)
    }

    @Test func floatsAreSpelledAsTheirBits() {
        // encode(float8send(x), 'hex') on PostgreSQL.
        let double = ChecksumForm.float(bits: 64)
        #expect(double.text(.double(0.1)) == "3fb999999999999a")
        #expect(double.text(.double(1.7976931348623157e308)) == "7fefffffffffffff")
        #expect(double.text(.double(5e-324)) == "0000000000000001")
        #expect(double.text(.double(-0.0)) == "8000000000000000")
        #expect(double.text(.double(0.0)) == "0000000000000000")
        #expect(double.text(.double(.infinity)) == "7ff0000000000000")
        #expect(double.text(.text("-Infinity")) == "fff0000000000000")
        #expect(double.text(.text("NaN")) == "NaN")
        #expect(double.text(.int(1)) == "3ff0000000000000")
        // One ulp apart is a different spelling.
        #expect(double.text(.double(1.0000000000000002)) == "3ff0000000000001")
        // A real is read at 32 bits: float4send.
        #expect(ChecksumForm.float(bits: 32).text(.double(0.33333334)) == "3eaaaaab")
        #expect(double.text(.text("soon")) == "soon")
    }

    @Test func jsonIsSpelledAsPostgreSQLPrintsJSONB() {
        // What `'…'::jsonb::text` printed on PostgreSQL 15.
        let cases = [
            (
                #"{"b": 1, "aa": [1.50, -0, 1e2, 2.5E-3, -0.00, 1.5e1, {"z": null, "y": true}], "a": "é\n\"q\" \u0001 🚀 \\ /"}"#,
                #"{"a": "é\n\"q\" \u0001 🚀 \\ /", "b": 1, "aa": [1.50, 0, 100, 0.0025, 0.00, 15, {"y": true, "z": null}]}"#
            ),
            ("[]", "[]"), (#""text""#, #""text""#), ("12.000", "12.000"), (#" {"id":4,"nested":{}} "#, #"{"id": 4, "nested": {}}"#),
            (#"["\u0061\/", -12.5e-1, 0.000, 1E+2]"#, #"["a/", -1.25, 0.000, 100]"#),
        ]
        for (written, printed) in cases {
            #expect(JSONCanonical.postgresJSONB(written) == printed, "\(written)")
            #expect(ChecksumForm.json.text(.text(written)) == printed)
        }
        // jsonb keeps one member per key: a document with a repeated key matches nothing PostgreSQL prints.
        #expect(JSONCanonical.postgresJSONB(#"{"a": 1, "a": 2}"#) == nil)
        #expect(ChecksumForm.json.text(.text(#"{"a": 1, "a": 2}"#))?.hasPrefix("\u{1}") == true)
        #expect(ChecksumForm.json.text(.text("not json"))?.hasPrefix("\u{1}") == true)
        #expect(ChecksumForm.json.text(.double(1.5))?.hasPrefix("\u{1}") == true)
        #expect(ChecksumForm.json.text(.null) == nil)
    }

    @Test func shortcutsSpellWhatTheCanonicalTextWould() {
        for zoned in [false, true] {
            for written in [
                "2020-01-01 00:00:01.000001", "1969-12-31 23:59:59.5", "2024-03-31 01:47:00+02", "2024-03-31T01:47:00.123-05:30",
                "2000-02-29", "0001-01-01 00:00:00", "2020-01-01 00:00:00 UTC", "soon",
            ] {
                let canonical = CanonicalForm.text(.text(written), as: .timestamp(withTimeZone: zoned, precision: nil))
                let slow = canonical.map { Timestamp.epochMicroseconds($0).map { String($0) } ?? $0 }
                #expect(ChecksumForm.timestamp(zoned: zoned).text(.text(written)) == slow, "\(written)")
            }
        }
        for double in [0.1, -0.0, 1e-300, .infinity, -.infinity, .nan, 0.33333334, 1.7976931348623157e308, 5e-324] {
            for bits in [32, 64] {
                let slow = CanonicalForm.text(.double(double), as: .float(bits: bits)).map { ChecksumForm.floatBits($0, bits: bits) }
                #expect(ChecksumForm.float(bits: bits).text(.double(double)) == slow, "\(double) at \(bits) bits")
            }
        }
        for integer: Int64 in [0, 1, -1, 42, .max, .min] {
            for scale in [0, 2, 5] {
                #expect(ChecksumForm.number(scale: scale).text(.int(integer)) == ChecksumForm.scaled(String(integer), by: scale))
            }
        }
    }
}
