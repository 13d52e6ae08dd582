/// An order-independent checksum of a set of rows: the row count plus the wrapping sum of a
/// 64-bit hash per row. It identifies a chunk's content as read from one engine, so a later run
/// can tell which chunks changed at the source without moving them again.
///
/// The hash is stable across processes and machines (unlike `Hasher`) and cheap: it mixes 8 bytes
/// at a time. `algorithm` names how rows were hashed, so only like checksums are compared.
public struct RowChecksum: Sendable, Hashable, CustomStringConvertible {
    public var algorithm: String
    public private(set) var rows: Int64 = 0
    public private(set) var sum: UInt64 = 0

    public init(algorithm: String) { self.algorithm = algorithm }

    public mutating func add(rowHash: UInt64) {
        rows += 1
        sum = sum &+ rowHash
    }

    public mutating func merge(_ other: RowChecksum) {
        rows += other.rows
        sum = sum &+ other.sum
    }

    /// `algorithm:rows:hex`, as stored in the ledger.
    public var description: String {
        let hex = String(sum, radix: 16)
        return "\(algorithm):\(rows):" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A small streaming 64-bit hash (multiply-xorshift, 8 bytes per step) for checksums.
public struct StableHasher {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    public init() {}

    @inline(__always) private mutating func mix(_ word: UInt64) {
        state = (state ^ word) &* 0xBF58_476D_1CE4_E5B9
        state ^= state >> 31
    }

    @inline(__always) public mutating func combine(_ value: UInt64) { mix(value) }

    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            mix(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        mix(tail ^ (UInt64(count) << 56))
    }

    public func finalize() -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The hash of one row of values, each framed by its kind so NULL ≠ '' and 1‖11 ≠ 11‖1.
    public static func hash(_ values: ArraySlice<Value>) -> UInt64 {
        var hasher = StableHasher()
        for value in values {
            switch value {
            case .null: hasher.combine(0)
            case .bool(let b): hasher.combine(b ? 0x11 : 0x10)
            case .int(let i): hasher.combine(2); hasher.combine(UInt64(bitPattern: i))
            case .double(let d): hasher.combine(3); hasher.combine(d.bitPattern)
            case .text(var s):
                hasher.combine(4)
                s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            case .bytes(let b):
                hasher.combine(5)
                b.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
        }
        return hasher.finalize()
    }
}
