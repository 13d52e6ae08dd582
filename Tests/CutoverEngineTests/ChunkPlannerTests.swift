import CutoverCore
import CutoverEngine
import Testing

@Suite struct ChunkPlannerTests {
    @Test func rangesCoverEveryKeyExactlyOnceWithOpenEnds() {
        let bounds = ChunkPlanner(rowsPerChunk: 100).integerRanges(column: "id", min: 1, max: 1000, rows: 1000)
        #expect(bounds.count == 10)
        #expect(bounds.first == .integerRange(column: "id", lower: nil, upper: 101))
        #expect(bounds.last == .integerRange(column: "id", lower: 901, upper: nil))
        for key: Int64 in [-5, 1, 100, 101, 500, 1000, 5000] {
            let owners = bounds.filter { bound in
                guard case .integerRange(_, let lower, let upper) = bound else { return false }
                return (lower.map { key >= $0 } ?? true) && (upper.map { key < $0 } ?? true)
            }
            #expect(owners.count == 1, "key \(key)")
        }
    }

    @Test func sameInputsGiveTheSameChunks() {
        let planner = ChunkPlanner(rowsPerChunk: 7)
        #expect(planner.integerRanges(column: "k", min: -50, max: 93, rows: 100) == planner.integerRanges(column: "k", min: -50, max: 93, rows: 100))
    }

    @Test func smallTablesAndExtremeKeysAreOneOrFewChunks() {
        #expect(ChunkPlanner(rowsPerChunk: 1000).integerRanges(column: "id", min: 1, max: 10, rows: 10).count == 1)
        let extreme = ChunkPlanner(rowsPerChunk: 1).integerRanges(column: "id", min: Int64.min, max: Int64.max, rows: 4)
        #expect(extreme.count == 1)  // the span overflows: one open chunk, never a wrong one
        let sparse = ChunkPlanner(rowsPerChunk: 2).integerRanges(column: "id", min: 0, max: 9_000_000_000, rows: 6)
        #expect(sparse.count == 3)
    }

    @Test func boundsRoundTripThroughTheLedgerJSON() throws {
        for bound in [ChunkBounds.all, .integerRange(column: "Id", lower: 5, upper: nil), .integerRange(column: "x", lower: nil, upper: -3)] {
            #expect(try ChunkBounds.parse(bound.encoded()) == bound)
        }
    }

    /// A ledger row that does not decode must not become "the whole table", which a copy-mode chunk
    /// would clear before loading.
    @Test func boundsThatDoNotDecodeAreAnErrorNotTheWholeTable() {
        for text in ["", "{", #"{"integerRange":{"column":"id","lower":"x"}}"#, "null"] {
            #expect(throws: CutoverError.self) { try ChunkBounds.parse(text) }
        }
    }

    @Test func filtersQuoteMixedCaseColumns() {
        let filter = ChunkBounds.integerRange(column: "OrderId", lower: 10, upper: 20).filter()
        #expect(filter.sql(TestDialect()) == "\"OrderId\" >= 10 AND \"OrderId\" < 20")
        let window = RowFilter.Window(
            column: "Updated At",
            terms: [
                .init(column: "Updated At", .greaterOrEqual, "2024-01-01 00:00:00", isNumeric: false),
                .init(column: "Updated At", .lessOrEqual, "2024-02-01 00:00:00", isNumeric: false),
            ])
        let chunk = RowFilter(terms: filter.terms, window: window)
        // The NULLs the window keeps are only those inside the chunk's own range.
        #expect(
            chunk.sql(TestDialect()) == "\"OrderId\" >= 10 AND \"OrderId\" < 20 AND "
                + "(\"Updated At\" >= '2024-01-01 00:00:00' AND \"Updated At\" <= '2024-02-01 00:00:00' OR \"Updated At\" IS NULL)")
        #expect(RowFilter(terms: [], window: .init(column: "u", terms: [])).sql(TestDialect()) == "1 = 1")
    }

    /// Text edges sort by bytes (not by a collation), repeat once, and leave both ends open.
    @Test func textRangesAreContiguousInByteOrder() {
        let ranges = ChunkPlanner().textRanges(column: "code", edges: ["b", "a", "B", "b", "é"])
        #expect(
            ranges == [
                .textRange(column: "code", lower: nil, upper: "B"), .textRange(column: "code", lower: "B", upper: "a"),
                .textRange(column: "code", lower: "a", upper: "b"), .textRange(column: "code", lower: "b", upper: "é"),
                .textRange(column: "code", lower: "é", upper: nil),
            ])
        #expect(ChunkPlanner().textRanges(column: "code", edges: []) == [.textRange(column: "code", lower: nil, upper: nil)])
        let filter = ChunkBounds.textRange(column: "code", lower: "a", upper: "b").filter(column: "Code")
        #expect(filter.terms.allSatisfy(\.bytewise) && filter.terms.map(\.column) == ["Code", "Code"])
    }

    @Test func backoffGrowsAndStaysWithinItsCeiling() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4)
        #expect(policy.delay(afterAttempt: 1, random: 1) == 0.5)
        #expect(policy.delay(afterAttempt: 3, random: 1) == 2)
        #expect(policy.delay(afterAttempt: 10, random: 1) == 4)
        #expect(policy.delay(afterAttempt: 3, random: 0) == 0)
    }

    @Test func transientErrorsAreRetriedPermanentOnesAreNot() {
        #expect(RetryPolicy.isTransient(CutoverError(.query, "x", context: ["sqlstate": "40P01"])))
        #expect(RetryPolicy.isTransient(CutoverError(.connectionFailed, "refused")))
        #expect(RetryPolicy.isTransient(CutoverError(.query, "PostgreSQL COPY write failed: server closed the connection unexpectedly")))
        #expect(!RetryPolicy.isTransient(CutoverError(.valueDoesNotFit, "too long", context: ["sqlstate": "22001"])))
        #expect(!RetryPolicy.isTransient(CutoverError(.authenticationFailed, "bad password")))
    }
}

struct TestDialect: Dialect {
    var engine: ConnectionURL.Engine { .postgres }
    var nameFolding: NameFolding { .lower }
    func typeChoice(for type: CanonicalType) -> TypeChoice { TypeChoice("text", "test") }
    func identityClause(for kind: IdentityKind, type: CanonicalType) -> String? { nil }
}

@Suite struct LiteralRangeTests {
    @Test func uuidRangesAreContiguousAndOrdered() {
        let bounds = ChunkPlanner(rowsPerChunk: 10).uuidRanges(column: "uid", rows: 40)
        #expect(bounds.count == 4)
        #expect(bounds.first == .literalRange(column: "uid", lower: nil, upper: "40000000-0000-0000-0000-000000000000"))
        #expect(bounds.last == .literalRange(column: "uid", lower: "c0000000-0000-0000-0000-000000000000", upper: nil))
        for (a, b) in zip(bounds, bounds.dropFirst()) {
            guard case .literalRange(_, _, let upper) = a, case .literalRange(_, let lower, _) = b else { Issue.record("shape"); return }
            #expect(upper == lower)
        }
    }

    @Test func dateRangesSplitTheDaySpan() {
        let first = Timestamp.daysFromCivil(2024, 1, 1), last = Timestamp.daysFromCivil(2024, 12, 31)
        let bounds = ChunkPlanner(rowsPerChunk: 100).dateRanges(column: "day", first: first, last: last, rows: 366)
        #expect(bounds.count == 4)
        #expect(bounds[1] == .literalRange(column: "day", lower: "2024-04-02", upper: "2024-07-03"))
        #expect(bounds.last?.filter().sql(TestDialect()) == "\"day\" >= '2024-10-03'")
    }
}

@Suite struct ChunkSizeTests {
    @Test func chunkBytesUseTheTablesAverageRowSize() {
        let table = Table(ref: TableRef(schema: nil, name: "t"), columns: [], rowCount: 1_000_000, sizeBytes: 200_000_000)
        #expect(Mover.rowsPerChunk(MoveOptions(rowsPerChunk: 7, bytesPerChunk: 20_000_000), table) == 100_000)
        #expect(Mover.rowsPerChunk(MoveOptions(rowsPerChunk: 7), table) == 7)
        let unknownSize = Table(ref: TableRef(schema: nil, name: "t"), columns: [], rowCount: 10)
        #expect(Mover.rowsPerChunk(MoveOptions(rowsPerChunk: 7, bytesPerChunk: 1_000), unknownSize) == 7)
    }
}

@Suite struct PageRangeTests {
    @Test func ctidRangesCoverAllPagesWithOpenEnds() {
        let bounds = ChunkPlanner(rowsPerChunk: 100).pageRanges(column: "ctid", pages: 10, rows: 400)
        #expect(
            bounds == [
                .literalRange(column: "ctid", lower: nil, upper: "(3,0)"), .literalRange(column: "ctid", lower: "(3,0)", upper: "(6,0)"),
                .literalRange(column: "ctid", lower: "(6,0)", upper: "(9,0)"), .literalRange(column: "ctid", lower: "(9,0)", upper: nil),
            ])
        #expect(ChunkPlanner(rowsPerChunk: 100).pageRanges(column: "ctid", pages: 1, rows: 400).count == 1)
    }
}
