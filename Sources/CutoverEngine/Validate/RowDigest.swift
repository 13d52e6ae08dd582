import Crypto
import CutoverCore

/// A row's canonical values and their SHA-256, computed the same way for both engines.
///
/// Each value is framed (NULL marker, or length + UTF-8 bytes) so that NULL ≠ '' and `1‖11` ≠
/// `11‖1`. Values are canonicalised with the *source* column's type on both sides, so the target
/// engine's representation never decides what "equal" means.
struct CanonicalRow {
    let values: [String?]
    let digest: [UInt8]

    init(_ batch: RowBatch, row: Int, types: [CanonicalType]) {
        var values: [String?] = []
        values.reserveCapacity(types.count)
        var hasher = SHA256()
        for (column, type) in types.enumerated() {
            let text = CanonicalForm.text(batch[row, column], as: type)
            values.append(text)
            if let text {
                var length = UInt32(text.utf8.count).littleEndian
                hasher.update(data: [1])
                withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
                hasher.update(data: Array(text.utf8))
            } else {
                hasher.update(data: [0])
            }
        }
        self.values = values
        self.digest = Array(hasher.finalize())
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
