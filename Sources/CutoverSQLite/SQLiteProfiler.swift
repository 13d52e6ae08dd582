import CSQLite3
import CutoverCore
import Foundation

/// Profiles what SQLite columns really hold, in one scan of the table: `cutover_profile(spec,
/// column)`, an aggregate registered on every connection, feeds each value's storage class and
/// bytes to a ``ValueProfiler`` and returns the ``ValueProfile`` as JSON.
struct SQLiteProfiler {
    static let function = "cutover_profile"

    let session: SQLiteSession

    /// What the aggregate needs to know about its column, passed as a JSON text argument.
    struct Spec: Codable {
        var declared: CanonicalType
        var validatesText: Bool
    }

    static func register(_ db: OpaquePointer) {
        sqlite3_create_function_v2(db, function, 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, nil, profileStep, profileFinal, nil)
    }

    func profile(_ table: inout Table, depth: Scope.ProfileDepth) throws {
        guard table.kind == .table else { return }
        let chosen = table.columns.indices.filter { Self.worthProfiling(table.columns[$0].canonical, depth: depth) }
        let dialect = SQLiteDialect()
        // SQLite allows 2000 result columns.
        for start in stride(from: 0, to: chosen.count, by: 1000) {
            let group = Array(chosen[start..<min(start + 1000, chosen.count)])
            let calls = try group.map { index in
                let spec = Spec(declared: table.columns[index].canonical, validatesText: depth == .all)
                let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
                return "\(Self.function)(\(dialect.literal(json)), \(dialect.quote(table.columns[index].name)))"
            }
            guard let row = try session.execute("SELECT \(calls.joined(separator: ", ")) FROM \(dialect.qualified(table.ref))").rows.first else {
                continue
            }
            for (index, value) in zip(group, row) {
                guard case .text(let json) = value else {
                    throw CutoverError(.query, "\(Self.function) returned \(value.displayText) for \(table.ref).\(table.columns[index].name)")
                }
                table.columns[index].profile = try JSONDecoder().decode(ValueProfile.self, from: Data(json.utf8))
                ProfileAdvice.apply(to: &table.columns[index])
            }
        }
    }

    /// `risky`: the columns a target could change without a word (decimals, integers, booleans,
    /// dates and times), bounded text, whose longest value decides the target's length, and columns
    /// with no declared type, whose values choose one.
    static func worthProfiling(_ type: CanonicalType, depth: Scope.ProfileDepth) -> Bool {
        switch depth {
        case .none: return false
        case .all: return true
        case .risky:
            switch type {
            case .decimal, .integer, .boolean, .date, .time, .timestamp, .text(maxLength: .some), .unknown: return true
            default: return false
            }
        }
    }
}

private func profilerSlot(_ context: OpaquePointer, allocate: Bool) -> UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
    sqlite3_aggregate_context(context, allocate ? Int32(MemoryLayout<UnsafeMutableRawPointer?>.size) : 0)?
        .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
}

/// One aggregate's profiler (a class, so the C slot can hold it).
private final class ProfilerBox {
    var profiler: ValueProfiler
    init(_ profiler: ValueProfiler) { self.profiler = profiler }
}

private let profileStep: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, count, arguments in
    guard let context, let arguments, count == 2, let slot = profilerSlot(context, allocate: true) else { return }
    let box: ProfilerBox
    if let existing = slot.pointee {
        box = Unmanaged<ProfilerBox>.fromOpaque(existing).takeUnretainedValue()
    } else {
        let specText = SQLiteTypes.value(arguments[0]).displayText
        guard let spec = try? JSONDecoder().decode(SQLiteProfiler.Spec.self, from: Data(specText.utf8)) else {  // else: an SQL error naming the argument
            sqlite3_result_error(context, "\(SQLiteProfiler.function): the first argument must be a column spec, not '\(specText.prefix(80))'", -1)
            return
        }
        box = ProfilerBox(ValueProfiler(declared: spec.declared, validatesText: spec.validatesText))
        slot.pointee = Unmanaged.passRetained(box).toOpaque()
    }
    let value = arguments[1]
    switch sqlite3_value_type(value) {
    case SQLITE_NULL: box.profiler.null()
    case SQLITE_INTEGER: box.profiler.integer(sqlite3_value_int64(value))
    case SQLITE_FLOAT: box.profiler.real(sqlite3_value_double(value))
    case SQLITE_BLOB: box.profiler.blob(count: Int(sqlite3_value_bytes(value)))
    default:
        // Pointer first, then its length (the order SQLite documents as safe).
        let pointer = sqlite3_value_text(value)
        let length = Int(sqlite3_value_bytes(value))
        box.profiler.text(UnsafeBufferPointer(start: pointer, count: pointer == nil ? 0 : length))
    }
}

private let profileFinal: @convention(c) (OpaquePointer?) -> Void = { context in
    guard let context else { return }
    var profile = ValueProfile()
    if let slot = profilerSlot(context, allocate: false), let pointer = slot.pointee {
        profile = Unmanaged<ProfilerBox>.fromOpaque(pointer).takeRetainedValue().profiler.finish()
        slot.pointee = nil
    }
    guard let json = try? JSONEncoder().encode(profile) else {  // else: an SQL error
        sqlite3_result_error(context, "\(SQLiteProfiler.function): the profile could not be encoded", -1)
        return
    }
    sqlite3_result_text(context, String(decoding: json, as: UTF8.self), -1, sqliteTransient)
}
