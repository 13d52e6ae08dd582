import CutoverCore

/// Reads an Arrow IPC *stream* (the format Snowflake sends result sets in): one schema message,
/// then record batches. Only what Snowflake sends is supported: integers, decimal128, floats,
/// bool, utf8/binary (and their large variants), fixed-size binary, date, time, timestamp and
/// struct; anything else is reported, not guessed.
///
/// There is no Arrow package in our mirror, so this is a small reader written for the job; the
/// FlatBuffers it needs (Message, Schema, Field, RecordBatch) are read by offset, as the format's
/// specification lays them out. Every offset read from the stream is checked against the bytes
/// there are, and every array's buffers against what its length needs, before a cell is read:
/// malformed input is an ``ArrowError``, never a crash (a mutation fuzz test holds it to that).
struct ArrowStreamReader {
    private let bytes: [UInt8]
    private var position = 0
    private(set) var schema: [ArrowField] = []

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        guard !bytes.isEmpty else { return }
        guard let (header, _) = try nextMessage(), case .schema(let fields) = header else {
            throw ArrowError.malformed("the stream does not start with a schema")
        }
        schema = fields
    }

    /// The next record batch, or nil at the end of the stream.
    mutating func nextBatch() throws -> ArrowRecordBatch? {
        while let (header, body) = try nextMessage() {
            switch header {
            case .recordBatch(let length, let nodes, let buffers):
                var nodeIndex = 0, bufferIndex = 0
                let columns = try schema.map {
                    try ArrowArray.read($0, nodes: nodes, buffers: buffers, body: body, nodeIndex: &nodeIndex, bufferIndex: &bufferIndex)
                }
                for column in columns where column.length < length {
                    throw ArrowError.malformed("column \(column.field.name) has \(column.length) rows, the batch \(length)")
                }
                return ArrowRecordBatch(length: length, columns: columns)
            case .schema: throw ArrowError.malformed("a second schema in one stream")
            case .other(let type): throw ArrowError.unsupported("message type \(type) (dictionaries and tensors are not used by Snowflake)")
            }
        }
        return nil
    }

    /// A length or offset: not negative, and small enough to index with.
    private static func count(_ bytes: [UInt8], _ at: Int) throws -> Int { try count(try checkedInt64(bytes, at)) }
    private static func count(_ value: Int64) throws -> Int {
        guard value >= 0, value <= Int64(Int32.max) else { throw ArrowError.malformed("length or offset \(value) is out of range") }
        return Int(value)
    }

    private enum Header {
        case schema([ArrowField])
        case recordBatch(length: Int, nodes: [(length: Int, nullCount: Int)], buffers: [(offset: Int, length: Int)])
        case other(UInt8)
    }

    private mutating func nextMessage() throws -> (Header, ArraySlice<UInt8>)? {
        guard position + 4 <= bytes.count else { return nil }
        var length = Int(Int32(bitPattern: try checkedUInt32(bytes, position)))
        position += 4
        if length == -1 {  // continuation marker, then the real length
            guard position + 4 <= bytes.count else { return nil }
            length = Int(Int32(bitPattern: try checkedUInt32(bytes, position)))
            position += 4
        }
        if length == 0 { return nil }
        guard length > 0, length <= bytes.count - position else { throw ArrowError.malformed("message length \(length) runs past the end") }
        let metadata = try FlatTable.root(bytes, at: position, end: position + length)
        position += length
        let bodyLength = try metadata.int64(3)
        guard bodyLength >= 0, bodyLength <= Int64(bytes.count - position) else {
            throw ArrowError.malformed("body length \(bodyLength) runs past the end")
        }
        let body = bytes[position..<(position + Int(bodyLength))]
        position += Int(bodyLength)
        let headerType = try metadata.uint8(1)
        guard let header = try metadata.table(2) else { throw ArrowError.malformed("message without header") }
        switch headerType {
        case 1:
            return (.schema(try header.tables(1).map { try ArrowField($0, depth: 0) }), body)
        case 3:
            if try header.table(3) != nil { throw ArrowError.unsupported("compressed record batches") }
            let nodes = try header.structs(1, size: 16).map { (length: try Self.count(bytes, $0), nullCount: try Self.count(bytes, $0 + 8)) }
            let buffers = try header.structs(2, size: 16).map { (offset: try Self.count(bytes, $0), length: try Self.count(bytes, $0 + 8)) }
            return (.recordBatch(length: try Self.count(try header.int64(0)), nodes: nodes, buffers: buffers), body)
        default:
            return (.other(headerType), body)
        }
    }
}

enum ArrowError: Error, CustomStringConvertible {
    case malformed(String)
    case unsupported(String)
    var description: String {
        switch self {
        case .malformed(let why): return "malformed Arrow stream: \(why)"
        case .unsupported(let what): return "unsupported Arrow feature: \(what)"
        }
    }
}

/// A column's declared type, name, nullability, children and key/value metadata.
struct ArrowField {
    enum Kind: Equatable {
        case int(bits: Int, signed: Bool)
        case decimal(precision: Int, scale: Int, bits: Int)
        case float(bits: Int)
        case bool
        case utf8(large: Bool)
        case binary(large: Bool)
        case fixedSizeBinary(width: Int)
        /// `millis` false: days (date32).
        case date(millis: Bool)
        case time(unit: Int, bits: Int)
        case timestamp(unit: Int)
        case structure
        case null
        case other(UInt8)
    }
    var name: String
    var kind: Kind
    var children: [ArrowField]
    var metadata: [String: String]

    /// Nested fields deeper than this are refused (no real result nests so deep).
    static let maxDepth = 32

    init(_ table: FlatTable, depth: Int) throws {
        guard depth < Self.maxDepth else { throw ArrowError.malformed("fields nested deeper than \(Self.maxDepth)") }
        name = try table.string(0) ?? ""
        children = try table.tables(5).map { try ArrowField($0, depth: depth + 1) }
        var metadata: [String: String] = [:]
        for pair in try table.tables(6) { if let key = try pair.string(0) { metadata[key] = try pair.string(1) ?? "" } }
        self.metadata = metadata
        let type = try table.table(3)
        switch try table.uint8(2) {
        case 1: kind = .null
        case 2:
            let bits = Int(try type?.int32(0) ?? 0)
            guard [8, 16, 32, 64].contains(bits) else { throw ArrowError.malformed("an integer of \(bits) bits in column \(name)") }
            kind = .int(bits: bits, signed: try type?.bool(1) ?? false)
        case 3:
            let precision = Int(try type?.int16(0) ?? 0)
            guard (1...2).contains(precision) else {
                throw ArrowError.unsupported("float precision \(precision) in column \(name) (Snowflake sends 32- and 64-bit floats)")
            }
            kind = .float(bits: [16, 32, 64][precision])
        case 4: kind = .binary(large: false)
        case 5: kind = .utf8(large: false)
        case 6: kind = .bool
        case 7:
            let bits = Int(try type?.int32(2, default: 128) ?? 128)
            guard bits == 128 || bits == 256 else { throw ArrowError.malformed("a decimal of \(bits) bits in column \(name)") }
            kind = .decimal(precision: Int(try type?.int32(0) ?? 0), scale: Int(try type?.int32(1) ?? 0), bits: bits)
        case 8: kind = .date(millis: (try type?.int16(0, default: 1) ?? 1) == 1)
        case 9:
            let bits = Int(try type?.int32(1, default: 32) ?? 32)
            guard bits == 32 || bits == 64 else { throw ArrowError.malformed("a time of \(bits) bits in column \(name)") }
            kind = .time(unit: Int(try type?.int16(0, default: 1) ?? 1), bits: bits)
        case 10: kind = .timestamp(unit: Int(try type?.int16(0) ?? 0))
        case 13: kind = .structure
        case 15:
            let width = Int(try type?.int32(0) ?? 0)
            guard width > 0 else { throw ArrowError.malformed("fixed-size binary of width \(width) in column \(name)") }
            kind = .fixedSizeBinary(width: width)
        case 19: kind = .binary(large: true)
        case 20: kind = .utf8(large: true)
        case let other: kind = .other(other)
        }
    }

    /// Bytes per value of a fixed-width kind (bits for bool are packed: see ``ArrowArray``).
    var valueWidth: Int? {
        switch kind {
        case .int(let bits, _), .float(let bits), .time(_, let bits): bits / 8
        case .decimal(_, _, let bits): bits / 8
        case .date(let millis): millis ? 8 : 4
        case .timestamp: 8
        case .fixedSizeBinary(let width): width
        default: nil
        }
    }
}

struct ArrowRecordBatch {
    var length: Int
    var columns: [ArrowArray]
}

/// One column of a record batch: its buffers, copied out of the message body.
struct ArrowArray {
    let field: ArrowField
    let length: Int
    let nullCount: Int
    let validity: [UInt8]
    /// Fixed-width values, or the offsets of variable-width ones.
    let values: [UInt8]
    /// Variable-width data (utf8, binary).
    let data: [UInt8]
    let children: [ArrowArray]

    static func read(
        _ field: ArrowField, nodes: [(length: Int, nullCount: Int)], buffers: [(offset: Int, length: Int)], body: ArraySlice<UInt8>,
        nodeIndex: inout Int, bufferIndex: inout Int
    ) throws -> ArrowArray {
        guard nodeIndex < nodes.count else { throw ArrowError.malformed("fewer field nodes than fields") }
        let node = nodes[nodeIndex]
        nodeIndex += 1
        func buffer() throws -> [UInt8] {
            guard bufferIndex < buffers.count else { throw ArrowError.malformed("fewer buffers than the fields need") }
            let (offset, length) = buffers[bufferIndex]
            bufferIndex += 1
            guard offset <= body.count, length <= body.count - offset else { throw ArrowError.malformed("buffer runs past the body") }
            let start = body.startIndex + offset
            return Array(body[start..<(start + length)])
        }
        let name = field.name
        func need(_ buffer: [UInt8], _ bytes: Int, _ what: String) throws {
            guard buffer.count >= bytes else {
                throw ArrowError.malformed("column \(name): the \(what) buffer has \(buffer.count) bytes, \(bytes) needed")
            }
        }
        // Validity is only read when there are NULLs: then it must cover every row.
        func validity() throws -> [UInt8] {
            let bits = try buffer()
            guard node.nullCount <= node.length else { throw ArrowError.malformed("column \(name): more NULLs than rows") }
            if node.nullCount > 0, !bits.isEmpty { try need(bits, (node.length + 7) / 8, "validity") }
            return bits
        }
        let array: ArrowArray
        switch field.kind {
        case .null:
            array = ArrowArray(field: field, length: node.length, nullCount: node.length, validity: [], values: [], data: [], children: [])
        case .other(let type):
            throw ArrowError.unsupported("type id \(type) in column \(field.name)")
        case .structure:
            let bits = try validity()
            let children = try field.children.map {
                try read($0, nodes: nodes, buffers: buffers, body: body, nodeIndex: &nodeIndex, bufferIndex: &bufferIndex)
            }
            for child in children where child.length < node.length {
                throw ArrowError.malformed("column \(name): child \(child.field.name) has \(child.length) rows, the struct \(node.length)")
            }
            array = ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: bits, values: [], data: [], children: children)
        case .utf8(let large), .binary(let large):
            let bits = try validity(), offsets = try buffer(), data = try buffer()
            let width = large ? 8 : 4
            if node.length > 0 { try need(offsets, (node.length + 1) * width, "offsets") }
            // Offsets must rise within the data, or a cell would read outside it.
            var previous = 0
            for row in 0...max(0, node.length) where node.length > 0 {
                let offset = large ? Int(exactly: readInt64(offsets, row * 8)) ?? -1 : Int(Int32(bitPattern: readUInt32(offsets, row * 4)))
                guard offset >= previous, offset <= data.count else {
                    throw ArrowError.malformed("column \(name): offset \(offset) at row \(row) is out of order or past the data")
                }
                previous = offset
            }
            array = ArrowArray(
                field: field, length: node.length, nullCount: node.nullCount, validity: bits, values: offsets, data: data, children: [])
        case .bool:
            let bits = try validity(), values = try buffer()
            try need(values, (node.length + 7) / 8, "values")
            array = ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: bits, values: values, data: [], children: [])
        default:
            let bits = try validity(), values = try buffer()
            if let width = field.valueWidth {
                let (bytes, overflow) = node.length.multipliedReportingOverflow(by: width)
                guard !overflow else { throw ArrowError.malformed("column \(name): \(node.length) rows is too many") }
                try need(values, bytes, "values")
            }
            array = ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: bits, values: values, data: [], children: [])
        }
        return array
    }

    func isNull(_ row: Int) -> Bool {
        if case .null = field.kind { return true }
        if nullCount == 0 || validity.isEmpty { return false }
        return validity[row >> 3] & (1 << UInt8(row & 7)) == 0
    }
    // The cell accessors below read only what `read` checked is there, for rows below `length`.

    /// Integer cells of any width (int8…int64, date32, time32/64, timestamp), sign-extended.
    func integer(_ row: Int) -> Int64 {
        switch field.kind {
        case .int(let bits, let signed): return readInteger(values, row, bytes: bits / 8, signed: signed)
        case .date(let millis): return readInteger(values, row, bytes: millis ? 8 : 4, signed: true)
        case .time(_, let bits): return readInteger(values, row, bytes: bits / 8, signed: true)
        case .timestamp: return readInteger(values, row, bytes: 8, signed: true)
        case .decimal: return Int64(truncatingIfNeeded: decimal(row))
        default: return 0
        }
    }

    /// The unscaled value of a decimal128 cell (or of an integer cell).
    func decimal(_ row: Int) -> Int128 {
        guard case .decimal(_, _, let bits) = field.kind else { return Int128(integer(row)) }
        let width = bits / 8
        let low = UInt64(bitPattern: readInt64(values, row * width))
        let high = width >= 16 ? readInt64(values, row * width + 8) : (Int64(bitPattern: low) < 0 ? -1 : 0)
        return Int128(high) << 64 | Int128(low)
    }

    func double(_ row: Int) -> Double {
        if case .float(let bits) = field.kind, bits == 32 {
            return Double(Float(bitPattern: readUInt32(values, row * 4)))
        }
        return Double(bitPattern: UInt64(bitPattern: readInt64(values, row * 8)))
    }

    func bool(_ row: Int) -> Bool { values[row >> 3] & (1 << UInt8(row & 7)) != 0 }

    func bytes(_ row: Int) -> ArraySlice<UInt8> {
        switch field.kind {
        case .utf8(let large), .binary(let large):
            let start = large ? Int(readInt64(values, row * 8)) : Int(Int32(bitPattern: readUInt32(values, row * 4)))
            let end = large ? Int(readInt64(values, row * 8 + 8)) : Int(Int32(bitPattern: readUInt32(values, row * 4 + 4)))
            return data[start..<end]
        case .fixedSizeBinary(let width):
            return values[(row * width)..<((row + 1) * width)]
        default:
            return []
        }
    }

    func string(_ row: Int) -> String { String(decoding: bytes(row), as: UTF8.self) }

    func child(named name: String) -> ArrowArray? { children.first { $0.field.name.lowercased() == name } }
}

// MARK: - Little-endian reads and a minimal FlatBuffers table reader

@inline(__always) func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

@inline(__always) func readInt64(_ b: [UInt8], _ at: Int) -> Int64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return Int64(bitPattern: v)
}

@inline(__always) func readInteger(_ b: [UInt8], _ row: Int, bytes width: Int, signed: Bool) -> Int64 {
    let at = row * width
    var v: UInt64 = 0
    for i in 0..<width { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    if signed, width < 8, v & (1 << UInt64(width * 8 - 1)) != 0 { v |= ~0 << UInt64(width * 8) }
    return Int64(bitPattern: v)
}

@inline(__always) func checkedUInt32(_ b: [UInt8], _ at: Int) throws -> UInt32 {
    guard at >= 0, at <= b.count - 4 else { throw ArrowError.malformed("a 4-byte read at \(at) runs past the end") }
    return readUInt32(b, at)
}

@inline(__always) func checkedInt64(_ b: [UInt8], _ at: Int) throws -> Int64 {
    guard at >= 0, at <= b.count - 8 else { throw ArrowError.malformed("an 8-byte read at \(at) runs past the end") }
    return readInt64(b, at)
}

/// A FlatBuffers table: fields are found through its vtable; absent fields take their default.
/// Every position is checked against the message it belongs to.
struct FlatTable {
    let bytes: [UInt8]
    let position: Int
    /// The end of the message the table lives in.
    let end: Int

    static func root(_ bytes: [UInt8], at base: Int, end: Int) throws -> FlatTable {
        try FlatTable(bytes: bytes, position: base + Int(try checkedUInt32(bytes, base)), end: end).checked()
    }

    private func checked() throws -> FlatTable {
        guard position >= 0, position <= end - 4, end <= bytes.count else {
            throw ArrowError.malformed("a table at \(position) lies outside its message")
        }
        return self
    }

    private func fieldOffset(_ index: Int) throws -> Int? {
        let vtable = position - Int(Int32(bitPattern: try checkedUInt32(bytes, position)))
        guard vtable >= 0, vtable <= end - 4 else { throw ArrowError.malformed("a vtable at \(vtable) lies outside its message") }
        let vtableSize = Int(UInt16(bytes[vtable]) | UInt16(bytes[vtable + 1]) << 8)
        let entry = 4 + index * 2
        guard entry + 1 < vtableSize, vtable + entry + 1 < end else { return nil }
        let offset = Int(UInt16(bytes[vtable + entry]) | UInt16(bytes[vtable + entry + 1]) << 8)
        guard offset != 0 else { return nil }
        guard position + offset < end else { throw ArrowError.malformed("field \(index) of a table lies outside its message") }
        return position + offset
    }

    private func within(_ at: Int, _ width: Int) throws -> Int {
        guard at <= end - width else { throw ArrowError.malformed("a \(width)-byte field at \(at) runs past its message") }
        return at
    }

    func uint8(_ index: Int) throws -> UInt8 { try fieldOffset(index).map { bytes[try within($0, 1)] } ?? 0 }
    func bool(_ index: Int) throws -> Bool { try uint8(index) != 0 }
    func int16(_ index: Int, default value: Int16 = 0) throws -> Int16 {
        try fieldOffset(index).map { at in
            let at = try within(at, 2)
            return Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
        } ?? value
    }
    func int32(_ index: Int, default value: Int32 = 0) throws -> Int32 {
        try fieldOffset(index).map { Int32(bitPattern: readUInt32(bytes, try within($0, 4))) } ?? value
    }
    func int64(_ index: Int) throws -> Int64 { try fieldOffset(index).map { readInt64(bytes, try within($0, 8)) } ?? 0 }

    private func indirect(_ index: Int) throws -> Int? {
        guard let at = try fieldOffset(index) else { return nil }
        let target = at + Int(readUInt32(bytes, try within(at, 4)))
        guard target < end else { throw ArrowError.malformed("field \(index) points outside its message") }
        return target
    }

    func table(_ index: Int) throws -> FlatTable? {
        try indirect(index).map { try FlatTable(bytes: bytes, position: $0, end: end).checked() }
    }

    func string(_ index: Int) throws -> String? {
        guard let at = try indirect(index) else { return nil }
        let length = Int(readUInt32(bytes, try within(at, 4)))
        guard length <= end - at - 4 else { throw ArrowError.malformed("a string of \(length) bytes runs past its message") }
        return String(decoding: bytes[(at + 4)..<(at + 4 + length)], as: UTF8.self)
    }

    /// A vector of tables.
    func tables(_ index: Int) throws -> [FlatTable] {
        guard let at = try indirect(index) else { return [] }
        let count = Int(readUInt32(bytes, try within(at, 4)))
        guard count <= (end - at - 4) / 4 else { throw ArrowError.malformed("a vector of \(count) tables runs past its message") }
        return try (0..<count).map { i in
            let slot = at + 4 + i * 4
            return try FlatTable(bytes: bytes, position: slot + Int(readUInt32(bytes, slot)), end: end).checked()
        }
    }

    /// Positions of the structs in a vector of fixed-size structs.
    func structs(_ index: Int, size: Int) throws -> [Int] {
        guard let at = try indirect(index) else { return [] }
        let count = Int(readUInt32(bytes, try within(at, 4)))
        guard count <= (end - at - 4) / size else { throw ArrowError.malformed("a vector of \(count) structs runs past its message") }
        return (0..<count).map { at + 4 + $0 * size }
    }
}
