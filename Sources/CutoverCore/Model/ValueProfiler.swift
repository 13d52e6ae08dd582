/// Builds a ``ValueProfile`` from raw values at the speed of a table scan. What the declared type
/// vouches for is only counted — an integer in an integer column, a real with no more digits than
/// a `DECIMAL(p,s)` declares, an ISO date in a DATE column; the rest (rare, unless the column is
/// what the profile is about) goes through ``ValueProfile/inspect(_:declared:invalidText:)``,
/// which is what ``ValueProfile/observe(_:declared:invalidText:)`` does for every value.
public struct ValueProfiler: Sendable {
    public let declared: CanonicalType
    /// Whether to check that TEXT in text columns is UTF-8 (it takes looking at every byte).
    public let validatesText: Bool
    private var profile = ValueProfile()
    /// Text values whose spelling fits the declared date or time type, by spelling.
    private var fitting: [TimeSpelling: Int64] = [:]
    /// For a bounded decimal: 10^scale and 10^(precision - scale), to vouch for reals.
    private let decimalScale: (power: Double, limit: Double)?

    public init(declared: CanonicalType, validatesText: Bool) {
        self.declared = declared
        self.validatesText = validatesText
        if case .decimal(let precision?, let scale) = declared, (scale ?? 0) <= 15, precision - (scale ?? 0) <= 300 {
            decimalScale = (Self.power(scale ?? 0), Self.power(precision - (scale ?? 0)))
        } else {
            decimalScale = nil
        }
    }

    private static func power(_ exponent: Int) -> Double {
        (0..<max(exponent, 0)).reduce(1.0) { value, _ in value * 10 }
    }

    public mutating func null() { profile.nulls += 1 }

    public mutating func integer(_ i: Int64) {
        profile.integers += 1
        profile.observeInteger(i)
        switch declared {
        case .boolean where i == 0 || i == 1: return
        case .boolean, .date, .time, .timestamp: profile.inspect(.int(i), declared: declared)
        default: return
        }
    }

    public mutating func real(_ d: Double) {
        profile.reals += 1
        switch declared {
        case .decimal, .integer, .boolean, .date, .time, .timestamp: break
        default: return
        }
        // k / 10^s is correctly rounded, so equality means the s-digit decimal k·10^-s reads back
        // as d: d's shortest spelling has at most s digits after the point.
        if let decimalScale, d.isFinite, abs(d) < decimalScale.limit {
            let scaled = (d * decimalScale.power).rounded()
            if abs(scaled) < 9_007_199_254_740_992, scaled / decimalScale.power == d { return }
        }
        profile.inspect(.double(d), declared: declared)
    }

    public mutating func text(_ bytes: UnsafeBufferPointer<UInt8>) {
        profile.texts += 1
        // Characters as SQLite's length() and PostgreSQL's varchar(n) count them: code points.
        var length = 0
        for byte in bytes where byte & 0xC0 != 0x80 { length += 1 }
        if length > (profile.maxTextLength ?? -1) { profile.maxTextLength = length }
        switch declared {
        case .date, .time, .timestamp:
            let spelling = TimeSpelling(utf8: bytes)
            if spelling.fits(declared) {
                fitting[spelling, default: 0] += 1
                return
            }
        case .integer, .decimal, .float, .boolean, .binary: break
        default:
            guard validatesText else { return }
        }
        guard let string = String(exactly: bytes) else {
            profile.bytesSeen(count: bytes.count, declared: declared, invalidText: true)
            return
        }
        profile.inspect(.text(string), declared: declared)
    }

    public mutating func blob(count: Int) {
        profile.blobs += 1
        profile.bytesSeen(count: count, declared: declared, invalidText: false)
    }

    /// The profile of every value given.
    public func finish() -> ValueProfile {
        var result = profile
        for (spelling, count) in fitting { result.timeSpellings[spelling.rawValue, default: 0] += count }
        return result
    }
}
