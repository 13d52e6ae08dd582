import CSQLite3
import CutoverCore

/// `cutover_checksum(forms, column, …)`: the ``PortableChecksum`` of a group's rows, computed
/// inside SQLite the way PostgreSQL and Snowflake compute it in SQL. `forms` lists each column's
/// ``ChecksumForm/code``, comma-separated; the result is the sum modulo 2^64, as text.
enum SQLiteChecksum {
    static let function = "cutover_checksum"

    static func register(_ db: OpaquePointer) {
        sqlite3_create_function_v2(db, function, -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, nil, checksumStep, checksumFinal, nil)
    }

    static func sql(
        _ dialect: SQLiteDialect, _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String {
        let k = dialect.quote(key)
        let forms = dialect.literal(columns.map(\.form.code).joined(separator: ","))
        return "SELECT (\(k) - \(range.lowerBound)) / \(width) AS bucket, count(*), \(function)(\(forms), "
            + columns.map { dialect.quote($0.name) }.joined(separator: ", ")
            + ") FROM \(dialect.readSource(table)) WHERE \(k) >= \(range.lowerBound) AND \(k) < \(range.upperBound) GROUP BY 1"
    }
}

/// One group's running sum and its columns' forms (parsed once, at the group's first row).
private final class ChecksumGroup {
    let forms: [ChecksumForm]
    var sum: UInt64 = 0
    var frames: [UInt8] = []
    init(forms: [ChecksumForm]) { self.forms = forms }
}

private func groupSlot(_ context: OpaquePointer, allocate: Bool) -> UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
    sqlite3_aggregate_context(context, allocate ? Int32(MemoryLayout<UnsafeMutableRawPointer?>.size) : 0)?
        .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
}

private let checksumStep: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, count, arguments in
    guard let context, let arguments, let slot = groupSlot(context, allocate: true) else { return }
    if slot.pointee == nil {
        let codes = count > 0 ? SQLiteTypes.value(arguments[0]!).displayText : ""
        let forms = codes.split(separator: ",").compactMap(ChecksumForm.init(code:))
        guard forms.count == Int(count) - 1 else {
            sqlite3_result_error(context, "\(SQLiteChecksum.function): forms '\(codes)' do not match the \(count - 1) column(s) given", -1)
            return
        }
        slot.pointee = Unmanaged.passRetained(ChecksumGroup(forms: forms)).toOpaque()
    }
    let group = Unmanaged<ChecksumGroup>.fromOpaque(slot.pointee!).takeUnretainedValue()
    // One buffer per group, framed in place: a generic sequence of texts would be unspecialised
    // across modules and look up its type metadata for every row.
    group.frames.removeAll(keepingCapacity: true)
    for (index, form) in group.forms.enumerated() {
        let text = form.text(SQLiteTypes.normalize(SQLiteTypes.value(arguments[index + 1]!), to: form.canonicalType))
        PortableChecksum.appendFrame(text, to: &group.frames)
    }
    group.sum = group.sum &+ PortableChecksum.hash(frameBytes: group.frames)
}

private let checksumFinal: @convention(c) (OpaquePointer?) -> Void = { context in
    guard let context else { return }
    var sum: UInt64 = 0
    if let slot = groupSlot(context, allocate: false), let pointer = slot.pointee {
        sum = Unmanaged<ChecksumGroup>.fromOpaque(pointer).takeRetainedValue().sum
        slot.pointee = nil
    }
    sqlite3_result_text(context, String(sum), -1, sqliteTransient)
}
