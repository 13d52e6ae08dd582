import CutoverCore
import Testing

@testable import CutoverEngine

/// What the offline validator says about a key bucket, from numbers read out of an export file.
@Suite struct AggregateValidatorTests {
    @Test func bucketsAreNamedByTheirKeysAndNeverOverflow() {
        #expect(AggregateValidator.keys(of: 2, low: 1, high: 3, width: 1) == "keys 3–3")
        #expect(AggregateValidator.keys(of: 1, low: -5, high: 100, width: 10) == "keys 5–14")
        // The last bucket ends at the source's largest key.
        #expect(AggregateValidator.keys(of: 10, low: -5, high: 100, width: 10) == "keys 95–100")
        // A bucket number no export of this table could hold is named as a bucket, without trapping.
        #expect(AggregateValidator.keys(of: .max, low: 1, high: 3, width: 2) == "bucket 9223372036854775807")
        #expect(AggregateValidator.keys(of: -1, low: 1, high: 3, width: 2) == "bucket -1")
        #expect(AggregateValidator.keys(of: 0, low: .max - 1, high: .max - 1, width: .max) == "keys 9223372036854775806–9223372036854775806")
    }

    @Test func decimalsCompareAsNumbers() {
        #expect(AggregateValidator.sameNumber("1.50", "1.5") && AggregateValidator.sameNumber("-0", "0") && AggregateValidator.sameNumber(nil, nil))
        #expect(!AggregateValidator.sameNumber("125.4900", "125.4901") && !AggregateValidator.sameNumber("1", nil))
    }
}
