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
