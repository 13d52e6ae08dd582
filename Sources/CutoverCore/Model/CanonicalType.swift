/// The engine-neutral type every column is mapped to. Source native type → canonical type is each
/// connector's job; canonical type → target type is each target ``Dialect``'s job.
public indirect enum CanonicalType: Sendable, Hashable, Codable, CustomStringConvertible {
    case boolean
    /// Signed integer of `bits` (16, 32, 64).
    case integer(bits: Int)
    /// Exact decimal; `precision` nil means unconstrained (PostgreSQL `numeric`).
    case decimal(precision: Int?, scale: Int?)
    /// IEEE float of `bits` (32 or 64).
    case float(bits: Int)
    /// Variable-length text; `maxLength` nil means unbounded.
    case text(maxLength: Int?)
    /// Fixed-length, blank-padded text.
    case char(length: Int)
    case binary
    case date
    case time(withTimeZone: Bool)
    /// `precision` = fractional-second digits (nil = engine default, µs for PostgreSQL).
    case timestamp(withTimeZone: Bool, precision: Int?)
    case interval
    case uuid
    case json(binary: Bool)
    case array(of: CanonicalType)
    case enumeration(name: String, values: [String])
    /// A native type Cutover does not know; the plan flags it for review.
    case unknown(native: String)

    /// Integers, and decimals with no digits after the point (Snowflake's `NUMBER(38,0)`, which is
    /// what its `INT` is): keys that can be split into integer ranges.
    public var isWholeNumber: Bool {
        switch self {
        case .integer: return true
        case .decimal(_, let scale): return scale == 0
        default: return false
        }
    }

    /// Text, fixed or variable length.
    public var isText: Bool {
        switch self {
        case .text, .char: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .boolean: return "boolean"
        case .integer(let bits): return "integer(\(bits))"
        case .decimal(let p, let s):
            guard let p else { return "decimal" }
            return "decimal(\(p),\(s ?? 0))"
        case .float(let bits): return "float(\(bits))"
        case .text(let max): return max.map { "text(\($0))" } ?? "text"
        case .char(let n): return "char(\(n))"
        case .binary: return "binary"
        case .date: return "date"
        case .time(let tz): return tz ? "time with time zone" : "time"
        case .timestamp(let tz, let p):
            return (tz ? "timestamptz" : "timestamp") + (p.map { "(\($0))" } ?? "")
        case .interval: return "interval"
        case .uuid: return "uuid"
        case .json(let binary): return binary ? "jsonb" : "json"
        case .array(let element): return "array<\(element)>"
        case .enumeration(let name, _): return "enum \(name)"
        case .unknown(let native): return "unknown(\(native))"
        }
    }

    /// How values of this type are carried in a ``Value``: which case a reader produces.
    public var storage: ValueStorage {
        switch self {
        case .boolean: return .bool
        case .integer: return .int
        case .float: return .double
        case .binary: return .bytes
        default: return .text
        }
    }
}

/// The physical carrier of a canonical type inside ``Value``.
public enum ValueStorage: Sendable {
    case bool, int, double, text, bytes
}

extension CanonicalType {
    /// Whether a column of this type can hold every value of `source` without loss — the test
    /// a target column must pass against the source column it was planned from. Where it cannot,
    /// the reason.
    public func holds(_ source: CanonicalType) -> (Bool, String?) {
        func digits(_ bits: Int) -> Int { bits <= 16 ? 5 : bits <= 32 ? 10 : 19 }
        switch (self, source) {
        case (.integer(let a), .integer(let b)):
            return a >= b ? (true, nil) : (false, "\(a)-bit integer is narrower than \(b)-bit")
        case (.decimal(let p, let s), .integer(let b)):
            guard let p else { return (true, nil) }
            return p - (s ?? 0) >= digits(b) ? (true, nil) : (false, "\(p - (s ?? 0)) integer digits cannot hold a \(b)-bit integer")
        case (.decimal(let p, let s), .decimal(let sp, let ss)):
            guard let p else { return (true, nil) }
            guard let sp else { return (false, "unconstrained decimal into decimal(\(p),\(s ?? 0))") }
            let ok = (s ?? 0) >= (ss ?? 0) && p - (s ?? 0) >= sp - (ss ?? 0)
            return ok ? (true, nil) : (false, "decimal(\(p),\(s ?? 0)) is smaller than decimal(\(sp),\(ss ?? 0))")
        case (.integer(let a), .decimal(let p?, 0)):
            return digits(a) > p ? (true, nil) : (false, "\(a)-bit integer for decimal(\(p),0)")
        case (.float(let a), .float(let b)):
            return a >= b ? (true, nil) : (false, "\(a)-bit float is narrower than \(b)-bit")
        case (.text(let a), .text(let b)):
            guard let a else { return (true, nil) }
            guard let b else { return (false, "text(\(a)) for unbounded text") }
            return a >= b ? (true, nil) : (false, "text(\(a)) is shorter than text(\(b))")
        case (.text(let a), .char(let n)):
            return (a ?? n) >= n ? (true, nil) : (false, "text(\(a!)) is shorter than char(\(n))")
        case (.char(let a), .char(let n)):
            return a >= n ? (true, nil) : (false, "char(\(a)) is shorter than char(\(n))")
        case (.text(let a), .uuid):
            return (a ?? 36) >= 36 ? (true, nil) : (false, "text(\(a!)) is shorter than a uuid")
        case (.text, .enumeration), (.text, .interval), (.text, .unknown), (.json, .array), (.text, .json):
            return (true, nil)
        case (.timestamp(let a, _), .timestamp(let b, _)):
            return a == b ? (true, nil) : (false, a ? "a zoned timestamp for a wall-clock one" : "the time zone is lost")
        case (.json, .json), (.boolean, .boolean), (.binary, .binary), (.date, .date), (.uuid, .uuid), (.interval, .interval):
            return (true, nil)
        case (.time(let a), .time(let b)):
            return a == b || !b ? (true, nil) : (false, "the time's offset is lost")
        case (.enumeration(_, let a), .enumeration(_, let b)):
            return Set(b).isSubset(of: Set(a)) ? (true, nil) : (false, "enum values are missing")
        default:
            return self == source ? (true, nil) : (false, "\(self) cannot hold \(source)")
        }
    }
}
