import Foundation

/// One cell. Exact decimals, dates, times, timestamps, uuids, json and intervals travel as
/// `.text` in their canonical text form (see ``CanonicalType/storage``), so no precision is lost
/// between engines; the column's ``CanonicalType`` says how to read them.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The whole number a count or a sum came back as (an integer, an integral double, or text
    /// spelling one, `12.000` included); nil for anything else, NULL included.
    public var wholeNumber: Int64? {
        switch self {
        case .int(let n): return n
        case .double(let d): return Int64(exactly: d)
        case .text(let text): return Int64(text) ?? Double(text).flatMap { Int64(exactly: $0) }
        default: return nil
        }
    }

    /// Plain rendering for reports and samples (not the canonical comparison form).
    public var displayText: String {
        switch self {
        case .null: return "NULL"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .text(let s): return s
        case .bytes(let b): return "\\x" + b.map { byteHex($0) }.joined()
        }
    }
}

extension Value {
    /// Why this value cannot be stored in a column of `type` as it is — bytes (a BLOB) in a column
    /// that is not binary, or anything but bytes in a binary one — or nil when it can. A writer that
    /// would have to convert it refuses it instead, naming the value: Cutover never changes a value
    /// on its way without being told to.
    public func storageMismatch(for type: CanonicalType) -> String? {
        switch (self, type) {
        case (.null, _), (.bytes, .binary): return nil
        case (.bytes(let b), _):
            let head = b.prefix(16).map { byteHex($0) }.joined()
            return
                "a BLOB of \(b.count) byte(s) (x'\(head)\(b.count > 16 ? "…" : "")'\(String(validatingUTF8: b) == nil ? ", not valid UTF-8" : "")) is not \(type.description)"
        case (_, .binary): return "\(displayText.prefix(40)) is not bytes (a binary column)"
        default: return nil
        }
    }
}

extension String {
    /// The string, if `bytes` are valid UTF-8; nil otherwise (no replacement characters).
    public init?(validatingUTF8 bytes: some Collection<UInt8>) {
        guard let string = Array(bytes).withUnsafeBufferPointer({ String(exactly: $0) }) else { return nil }
        self = string
    }

    /// The string whose UTF-8 is exactly `bytes`, or nil when they are not valid UTF-8. Decoding
    /// repairs an invalid sequence with U+FFFD, which always changes the bytes, so comparing them
    /// tells; it is several times faster than `String(validating:as:)`, which is not specialized.
    @inline(__always)
    public init?(exactly bytes: UnsafeBufferPointer<UInt8>) {
        var string = String(decoding: bytes, as: UTF8.self)
        let same = string.withUTF8 { decoded in
            guard decoded.count == bytes.count else { return false }
            guard let left = decoded.baseAddress, let right = bytes.baseAddress else { return true }  // both empty
            return memcmp(left, right, bytes.count) == 0
        }
        guard same else { return nil }
        self = string
    }
}

@inline(__always) func byteHex(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}

/// A bounded slice of rows, row-major in one flat buffer (`rowCount × columnCount`).
///
/// Row-major keeps the reader and writer loops simple for v0; batches are small (default
/// 10,000 rows) so memory stays O(batch × parallelism).
public struct RowBatch: Sendable {
    public let columnCount: Int
    public private(set) var values: [Value]

    public init(columnCount: Int, reservingRows rows: Int = 0) {
        self.columnCount = columnCount
        self.values = []
        values.reserveCapacity(rows * columnCount)
    }

    public var rowCount: Int { columnCount == 0 ? 0 : values.count / columnCount }
    public var isEmpty: Bool { values.isEmpty }

    public mutating func append(row: some Collection<Value>) {
        precondition(row.count == columnCount, "row has \(row.count) values, batch has \(columnCount) columns")
        values.append(contentsOf: row)
    }

    public mutating func append(_ value: Value) { values.append(value) }

    public func row(_ index: Int) -> ArraySlice<Value> {
        values[(index * columnCount)..<((index + 1) * columnCount)]
    }

    public subscript(row: Int, column: Int) -> Value { values[row * columnCount + column] }

    /// A new batch with the rows in `range`.
    public func slice(_ range: Range<Int>) -> RowBatch {
        var batch = RowBatch(columnCount: columnCount, reservingRows: range.count)
        batch.values.append(contentsOf: values[(range.lowerBound * columnCount)..<(range.upperBound * columnCount)])
        return batch
    }
}
