import Crypto
import CutoverCore

/// A row's canonical values and their SHA-256, computed the same way for both engines.
///
/// Each value is framed (NULL marker, or length + UTF-8 bytes) so that NULL ≠ '' and `1‖11` ≠
/// `11‖1`. Values are canonicalised with the *source* column's type on both sides, so the target
/// engine's representation never decides what "equal" means.
struct CanonicalRow {
    let values: [String?]
    /// Columns whose value is bytes in a column that is not binary (a SQLite BLOB in a TEXT
    /// column): never equal to text, whatever the text says.
    let bytes: [Bool]
    let digest: [UInt8]

    /// `raw[i]`: column i is read from two engines that render its values identically (PostgreSQL
    /// on both sides, same declared type, sessions pinned to UTC/ISO), so its text needs no
    /// canonicalising — the costly part of a compare.
    init(_ batch: RowBatch, row: Int, types: [CanonicalType], raw: [Bool]) {
        var values: [String?] = []
        var bytes: [Bool] = []
        values.reserveCapacity(types.count)
        bytes.reserveCapacity(types.count)
        var hasher = SHA256()
        for (column, type) in types.enumerated() {
            let value = batch[row, column]
            let isBytes = CanonicalForm.isBytes(value, as: type)
            bytes.append(isBytes)
            if var text = raw[column] ? Self.rawText(value) : CanonicalForm.text(value, as: type) {
                var length = UInt32(text.utf8.count).littleEndian
                hasher.update(data: [isBytes ? 2 : 1])
                withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
                text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
                values.append(text)
            } else {
                hasher.update(data: [0])
                values.append(nil)
            }
        }
        self.values = values
        self.bytes = bytes
        self.digest = Array(hasher.finalize())
    }

    /// True when column `index` holds something else here than in `other`: another value, or the
    /// same spelling in another storage class.
    func differs(from other: CanonicalRow, at index: Int) -> Bool {
        values[index] != other.values[index] || bytes[index] != other.bytes[index]
    }

    /// The value as the engine rendered it; doubles by their exact shortest form (-0.0 and NaN included).
    static func rawText(_ value: Value) -> String? {
        switch value {
        case .null: return nil
        case .text(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d.description
        case .bool(let b): return b ? "true" : "false"
        case .bytes: return value.displayText
        }
    }
}

/// An order-independent fingerprint of a multiset of rows: the wrapping sum of each row digest's
/// first 16 bytes (as two 64-bit lanes) and the row count. Equal multisets give equal fingerprints.
struct MultisetFingerprint: Equatable, CustomStringConvertible {
    var rows: Int64 = 0
    var lane0: UInt64 = 0
    var lane1: UInt64 = 0

    mutating func add(_ digest: [UInt8]) {
        rows += 1
        lane0 = lane0 &+ digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        lane1 = lane1 &+ digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    var description: String { String(format: "%016llx%016llx", lane0, lane1) }
}
