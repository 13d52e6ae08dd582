import CutoverCore

/// PostgreSQL native type (as `format_type` prints it) → canonical type.
public enum PostgresTypes {
    public static func canonical(_ formatted: String) -> CanonicalType {
        let type = formatted.trimmingCharacters(in: .whitespaces)
        if type.hasSuffix("[]") {
            var element = type
            while element.hasSuffix("[]") { element.removeLast(2) }
            return .array(of: canonical(element))
        }
        let (base, modifiers) = splitModifiers(type)
        switch base {
        case "smallint", "int2": return .integer(bits: 16)
        case "integer", "int", "int4": return .integer(bits: 32)
        case "bigint", "int8", "oid": return .integer(bits: 64)
        case "numeric", "decimal":
            return .decimal(precision: modifiers.first, scale: modifiers.count > 1 ? modifiers[1] : (modifiers.isEmpty ? nil : 0))
        case "real", "float4": return .float(bits: 32)
        case "double precision", "float8": return .float(bits: 64)
        case "character varying", "varchar": return .text(maxLength: modifiers.first)
        case "text", "citext": return .text(maxLength: nil)
        case "name": return .text(maxLength: 63)
        case "character", "char", "bpchar": return .char(length: modifiers.first ?? 1)
        case "\"char\"": return .char(length: 1)
        case "boolean", "bool": return .boolean
        case "bytea": return .binary
        case "date": return .date
        case "time without time zone", "time": return .time(withTimeZone: false)
        case "time with time zone", "timetz": return .time(withTimeZone: true)
        case "timestamp without time zone", "timestamp":
            return .timestamp(withTimeZone: false, precision: modifiers.first ?? 6)
        case "timestamp with time zone", "timestamptz":
            return .timestamp(withTimeZone: true, precision: modifiers.first ?? 6)
        // Read as numeric (see PostgresConnector.read): its text form follows lc_monetary ("$1,234.50").
        case "money": return .decimal(precision: 19, scale: 2)
        case "uuid": return .uuid
        case "json": return .json(binary: false)
        case "jsonb": return .json(binary: true)
        default:
            if base.hasPrefix("interval") { return .interval }
            return .unknown(native: type)
        }
    }

    /// `timestamp(3) without time zone` → (`timestamp without time zone`, [3]); `numeric(12,2)` → (`numeric`, [12, 2]).
    static func splitModifiers(_ type: String) -> (String, [Int]) {
        guard let open = type.firstIndex(of: "("), let close = type[open...].firstIndex(of: ")") else { return (type, []) }
        let numbers = type[type.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let base = (type[..<open] + type[type.index(after: close)...]).replacingOccurrences(of: "  ", with: " ")
        return (base.trimmingCharacters(in: .whitespaces), numbers)
    }
}
