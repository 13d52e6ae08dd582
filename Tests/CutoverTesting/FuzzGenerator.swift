import Foundation

/// SplitMix64: a seeded generator, so a failing fuzz or property run can be replayed
/// (`CUTOVER_FUZZ_SEED`).
public struct FuzzGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// The seed from `CUTOVER_FUZZ_SEED`, else a random one (print it with the failure).
    public static var seed: UInt64 {
        UInt64(ProcessInfo.processInfo.environment["CUTOVER_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
