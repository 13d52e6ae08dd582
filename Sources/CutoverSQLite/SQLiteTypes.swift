import CSQLite3
import Foundation
import CutoverCore

/// SQLite declared type → canonical type. SQLite stores any value in any column; the declared
/// type (and its affinity) is the only statement of intent, so that is what is mapped.
public enum SQLiteTypes {
    public static func canonical(_ declared: String) -> CanonicalType {
        let upper = declared.uppercased().trimmingCharacters(in: .whitespaces)
        if upper.isEmpty { return .unknown(native: "(no declared type)") }
        let (base, modifiers) = splitModifiers(upper)
        func has(_ word: String) -> Bool { base.contains(word) }
        if has("BOOL") { return .boolean }
        if has("DECIMAL") || has("NUMERIC") || has("NUMBER") || has("MONEY") {
            if modifiers.isEmpty { return .decimal(precision: nil, scale: nil) }
            return .decimal(precision: modifiers[0], scale: modifiers.count > 1 ? modifiers[1] : 0)
        }
        if has("INTERVAL") { return .interval }
        if has("TIMESTAMPTZ") || (has("TIMESTAMP") && has("WITH TIME ZONE")) { return .timestamp(withTimeZone: true, precision: modifiers.first) }
        if has("DATETIME") || has("TIMESTAMP") { return .timestamp(withTimeZone: false, precision: modifiers.first) }
        if has("INT") {
            if has("SMALLINT") || has("INT2") || has("TINYINT") { return .integer(bits: 16) }
            if has("MEDIUMINT") || has("INT4") { return .integer(bits: 32) }
            return .integer(bits: 64)  // SQLite integers are 64-bit whatever the declared name
        }
        if has("DATE") { return .date }
        if has("TIMETZ") { return .time(withTimeZone: true) }
        if has("TIME") { return .time(withTimeZone: false) }
        if has("UUID") || has("GUID") { return .uuid }
        if has("JSONB") { return .json(binary: true) }
        if has("JSON") { return .json(binary: false) }
        if has("CHAR") || has("CLOB") || has("TEXT") || has("STRING") {
            // SQLite never pads CHAR(n), so every character type is variable-length text.
            return .text(maxLength: modifiers.first)
        }
        if has("BLOB") || has("BINARY") || has("BYTEA") { return .binary }
        if has("REAL") || has("FLOA") || has("DOUB") { return .float(bits: 64) }
        return .unknown(native: declared)
    }

    static func splitModifiers(_ type: String) -> (String, [Int]) {
        guard let open = type.firstIndex(of: "("), let close = type[open...].firstIndex(of: ")") else { return (type, []) }
        let numbers = type[type.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return (String(type[..<open] + type[type.index(after: close)...]).trimmingCharacters(in: .whitespaces), numbers)
    }

    /// A value (a result column, a function argument) in SQLite's own storage class.
    static func value(_ value: OpaquePointer?) -> Value {
        switch sqlite3_value_type(value) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(sqlite3_value_int64(value))
        case SQLITE_FLOAT: return .double(sqlite3_value_double(value))
        case SQLITE_BLOB:
            // Pointer first, then its length (the order SQLite documents as safe).
            let pointer = sqlite3_value_blob(value)
            let count = Int(sqlite3_value_bytes(value))
            guard count > 0, let pointer else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default:
            let pointer = sqlite3_value_text(value)
            let count = Int(sqlite3_value_bytes(value))
            guard let pointer else { return .text("") }
            let bytes = UnsafeBufferPointer(start: pointer, count: count)
            // TEXT that is not valid UTF-8 has no String that is the same value: it travels as
            // the bytes it is, so no writer or compare takes it for text with U+FFFD in it.
            guard let text = String(exactly: bytes) else { return .bytes(Array(bytes)) }
            return .text(text)
        }
    }

    public static func normalize(_ value: Value, to type: CanonicalType) -> Value {
        switch (value, type.storage) {
        case (.null, _): return .null
        case (.int(let i), .bool): return .bool(i != 0)
        case (.int(let i), .double): return .double(Double(i))
        case (.int(let i), .text):
            if case .timestamp(let tz, _) = type { return .text(epochText(Double(i), tz: tz)) }
            return .text(String(i))
        case (.double(let d), .int) where d == d.rounded() && abs(d) < 9.2e18: return .int(Int64(d))
        case (.double(let d), .text):
            switch type {
            case .timestamp(let tz, _): return .text(epochText(d, tz: tz))
            // A decimal stored as REAL stays a double: writers and CanonicalForm know how to spell it.
            case .decimal, .integer: return value
            default: return .text(d.description)
            }
        case (.text(let s), .bool): return SQLBool.parse(s).map(Value.bool) ?? value
        case (.text(let s), .int): return Int64(s).map(Value.int) ?? value
        case (.text(let s), .double): return Double(parsingSQL: s).map(Value.double) ?? value
        // A BLOB stays bytes and TEXT stays text whatever the column declares: the storage class
        // is part of the value (writers refuse to cross it; compares tell them apart).
        default: return value
        }
    }

    private static func epochText(_ seconds: Double, tz: Bool) -> String {
        let whole = Int(seconds.rounded(.down))
        let micros = Int(((seconds - Double(whole)) * 1_000_000).rounded())
        let days = Int((Double(whole) / 86_400).rounded(.down))
        let secondsOfDay = whole - days * 86_400
        let text = Timestamp.format(days: days, secondsOfDay: secondsOfDay, micros: micros)
        return tz ? text + "+00" : text
    }
}
