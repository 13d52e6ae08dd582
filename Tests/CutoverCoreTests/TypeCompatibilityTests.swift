import CutoverCore
import Testing

@Suite struct TypeCompatibilityTests {
    @Test func widerTypesHoldNarrowerOnesAndNarrowerOnesSayWhyNot() {
        #expect(CanonicalType.decimal(precision: 19, scale: 0).holds(.integer(bits: 64)).0)
        #expect(!CanonicalType.decimal(precision: 18, scale: 0).holds(.integer(bits: 64)).0)
        #expect(CanonicalType.decimal(precision: 14, scale: 4).holds(.decimal(precision: 12, scale: 2)).0)
        #expect(!CanonicalType.decimal(precision: 12, scale: 1).holds(.decimal(precision: 12, scale: 2)).0)
        #expect(!CanonicalType.decimal(precision: 38, scale: 10).holds(.decimal(precision: nil, scale: nil)).0)
        #expect(CanonicalType.text(maxLength: nil).holds(.text(maxLength: 10)).0)
        let (fits, why) = CanonicalType.text(maxLength: 10).holds(.text(maxLength: 20))
        #expect(!fits && why == "text(10) is shorter than text(20)")
        #expect(CanonicalType.text(maxLength: 36).holds(.uuid).0)
        #expect(!CanonicalType.timestamp(withTimeZone: false, precision: 6).holds(.timestamp(withTimeZone: true, precision: 6)).0)
        #expect(CanonicalType.integer(bits: 64).holds(.integer(bits: 32)).0 && !CanonicalType.integer(bits: 16).holds(.integer(bits: 32)).0)
        #expect(CanonicalType.json(binary: true).holds(.json(binary: false)).0)
        #expect(!CanonicalType.boolean.holds(.text(maxLength: nil)).0)
    }
}
