import CutoverCore

/// Reads an Arrow IPC *stream* (the format Snowflake sends result sets in): one schema message,
/// then record batches. Only what Snowflake sends is supported: integers, decimal128, floats,
/// bool, utf8/binary (and their large variants), fixed-size binary, date, time, timestamp and
/// struct; anything else is reported, not guessed.
///
/// There is no Arrow package in our mirror, so this is a small reader written for the job; the
/// FlatBuffers it needs (Message, Schema, Field, RecordBatch) are read by offset, as the format's
/// specification lays them out.
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
                return ArrowRecordBatch(length: length, columns: columns)
            case .schema: throw ArrowError.malformed("a second schema in one stream")
            case .other(let type): throw ArrowError.unsupported("message type \(type) (dictionaries and tensors are not used by Snowflake)")
            }
        }
        return nil
    }

    private enum Header {
        case schema([ArrowField])
        case recordBatch(length: Int, nodes: [(length: Int, nullCount: Int)], buffers: [(offset: Int, length: Int)])
        case other(UInt8)
    }

    private mutating func nextMessage() throws -> (Header, ArraySlice<UInt8>)? {
        guard position + 4 <= bytes.count else { return nil }
        var length = Int(Int32(bitPattern: readUInt32(bytes, position)))
        position += 4
        if length == -1 {  // continuation marker, then the real length
            guard position + 4 <= bytes.count else { return nil }
            length = Int(Int32(bitPattern: readUInt32(bytes, position)))
            position += 4
        }
        if length == 0 { return nil }
        guard length > 0, position + length <= bytes.count else { throw ArrowError.malformed("message length \(length) runs past the end") }
        let metadata = FlatTable.root(bytes, at: position)
        position += length
        let bodyLength = Int(metadata.int64(3))
        guard bodyLength >= 0, position + bodyLength <= bytes.count else { throw ArrowError.malformed("body length \(bodyLength) runs past the end") }
        let body = bytes[position..<(position + bodyLength)]
        position += bodyLength
        let headerType = metadata.uint8(1)
        guard let header = metadata.table(2) else { throw ArrowError.malformed("message without header") }
        switch headerType {
        case 1:
            return (.schema(header.tables(1).map(ArrowField.init)), body)
        case 3:
            if header.table(3) != nil { throw ArrowError.unsupported("compressed record batches") }
            let nodes = header.structs(1, size: 16).map { (length: Int(readInt64(bytes, $0)), nullCount: Int(readInt64(bytes, $0 + 8))) }
            let buffers = header.structs(2, size: 16).map { (offset: Int(readInt64(bytes, $0)), length: Int(readInt64(bytes, $0 + 8))) }
            return (.recordBatch(length: Int(header.int64(0)), nodes: nodes, buffers: buffers), body)
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

    init(_ table: FlatTable) {
        name = table.string(0) ?? ""
        children = table.tables(5).map(ArrowField.init)
        var metadata: [String: String] = [:]
        for pair in table.tables(6) { if let key = pair.string(0) { metadata[key] = pair.string(1) ?? "" } }
        self.metadata = metadata
        let type = table.table(3)
        switch table.uint8(2) {
        case 1: kind = .null
        case 2: kind = .int(bits: Int(type?.int32(0) ?? 0), signed: type?.bool(1) ?? false)
        case 3: kind = .float(bits: [16, 32, 64][Int(min(type?.int16(0) ?? 0, 2))])
        case 4: kind = .binary(large: false)
        case 5: kind = .utf8(large: false)
        case 6: kind = .bool
        case 7: kind = .decimal(precision: Int(type?.int32(0) ?? 0), scale: Int(type?.int32(1) ?? 0), bits: Int(type?.int32(2, default: 128) ?? 128))
        case 8: kind = .date(millis: (type?.int16(0, default: 1) ?? 1) == 1)
        case 9: kind = .time(unit: Int(type?.int16(0, default: 1) ?? 1), bits: Int(type?.int32(1, default: 32) ?? 32))
        case 10: kind = .timestamp(unit: Int(type?.int16(0) ?? 0))
        case 13: kind = .structure
        case 15: kind = .fixedSizeBinary(width: Int(type?.int32(0) ?? 0))
        case 19: kind = .binary(large: true)
        case 20: kind = .utf8(large: true)
        case let other: kind = .other(other)
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
            let start = body.startIndex + offset
            guard offset >= 0, length >= 0, start + length <= body.endIndex else { throw ArrowError.malformed("buffer runs past the body") }
            return Array(body[start..<(start + length)])
        }
        switch field.kind {
        case .null:
            return ArrowArray(field: field, length: node.length, nullCount: node.length, validity: [], values: [], data: [], children: [])
        case .other(let type):
            throw ArrowError.unsupported("type id \(type) in column \(field.name)")
        case .structure:
            let validity = try buffer()
            let children = try field.children.map {
                try read($0, nodes: nodes, buffers: buffers, body: body, nodeIndex: &nodeIndex, bufferIndex: &bufferIndex)
            }
            return ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: validity, values: [], data: [], children: children)
        case .utf8, .binary:
            let validity = try buffer(), offsets = try buffer(), data = try buffer()
            return ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: validity, values: offsets, data: data, children: [])
        default:
            let validity = try buffer(), values = try buffer()
            return ArrowArray(field: field, length: node.length, nullCount: node.nullCount, validity: validity, values: values, data: [], children: [])
        }
    }

    func isNull(_ row: Int) -> Bool {
        if case .null = field.kind { return true }
        if nullCount == 0 || validity.isEmpty { return false }
        return validity[row >> 3] & (1 << UInt8(row & 7)) == 0
    }

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

/// A FlatBuffers table: fields are found through its vtable; absent fields take their default.
struct FlatTable {
    let bytes: [UInt8]
    let position: Int

    static func root(_ bytes: [UInt8], at base: Int) -> FlatTable {
        FlatTable(bytes: bytes, position: base + Int(readUInt32(bytes, base)))
    }

    private func fieldOffset(_ index: Int) -> Int? {
        let vtable = position - Int(Int32(bitPattern: readUInt32(bytes, position)))
        let vtableSize = Int(UInt16(bytes[vtable]) | UInt16(bytes[vtable + 1]) << 8)
        let entry = 4 + index * 2
        guard entry + 1 < vtableSize else { return nil }
        let offset = Int(UInt16(bytes[vtable + entry]) | UInt16(bytes[vtable + entry + 1]) << 8)
        return offset == 0 ? nil : position + offset
    }

    func uint8(_ index: Int) -> UInt8 { fieldOffset(index).map { bytes[$0] } ?? 0 }
    func bool(_ index: Int) -> Bool { uint8(index) != 0 }
    func int16(_ index: Int, default value: Int16 = 0) -> Int16 {
        fieldOffset(index).map { Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) } ?? value
    }
    func int32(_ index: Int, default value: Int32 = 0) -> Int32 {
        fieldOffset(index).map { Int32(bitPattern: readUInt32(bytes, $0)) } ?? value
    }
    func int64(_ index: Int) -> Int64 { fieldOffset(index).map { readInt64(bytes, $0) } ?? 0 }

    private func indirect(_ index: Int) -> Int? {
        fieldOffset(index).map { $0 + Int(readUInt32(bytes, $0)) }
    }

    func table(_ index: Int) -> FlatTable? {
        indirect(index).map { FlatTable(bytes: bytes, position: $0) }
    }

    func string(_ index: Int) -> String? {
        guard let at = indirect(index) else { return nil }
        let length = Int(readUInt32(bytes, at))
        return String(decoding: bytes[(at + 4)..<(at + 4 + length)], as: UTF8.self)
    }

    /// A vector of tables.
    func tables(_ index: Int) -> [FlatTable] {
        guard let at = indirect(index) else { return [] }
        let count = Int(readUInt32(bytes, at))
        return (0..<count).map { i in
            let slot = at + 4 + i * 4
            return FlatTable(bytes: bytes, position: slot + Int(readUInt32(bytes, slot)))
        }
    }

    /// Positions of the structs in a vector of fixed-size structs.
    func structs(_ index: Int, size: Int) -> [Int] {
        guard let at = indirect(index) else { return [] }
        let count = Int(readUInt32(bytes, at))
        return (0..<count).map { at + 4 + $0 * size }
    }
}
