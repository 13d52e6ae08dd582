import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

/// The profiling aggregate (which only counts what the declared type vouches for) must reach the
/// same advice as observing every value one by one.
@Suite struct SQLiteProfilerTests {
    static let declared = [
        "NUMERIC(6,3)", "NUMERIC", "INTEGER", "SMALLINT", "BOOLEAN", "DATE", "TIMESTAMP", "TIME", "VARCHAR(5)", "TEXT", "BLOB", "",
    ]

    @Test func theAggregateAgreesWithObservingEveryValue() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let seed = FuzzGenerator.seed
            var generator = FuzzGenerator(seed: seed)
            let path = dir + "/profile.db"
            let session = try SQLiteSession(path: path, create: true)
            let columns = Self.declared.indices.map { "c\($0) \(Self.declared[$0])" }.joined(separator: ", ")
            try session.executeScript("CREATE TABLE t (\(columns))")
            let insert = try session.prepare("INSERT INTO t VALUES (\(Self.declared.map { _ in "?" }.joined(separator: ", ")))")
            for _ in 0..<400 {
                insert.reset()
                try insert.bind(Self.declared.map { _ in Self.awkwardValue(using: &generator) })
                _ = try insert.step()
            }
            let connector = try SQLiteConnector(url: ConnectionURL(engine: .sqlite, database: path), createIfMissing: false)
            for depth in [Scope.ProfileDepth.risky, .all] {
                let profiled = try #require(try await connector.catalog(Scope(profile: depth)).tables.first)
                let plain = try #require(try await connector.catalog(Scope()).tables.first)
                let all = try session.execute("SELECT * FROM t")
                for (index, column) in plain.columns.enumerated() {
                    guard let advised = profiled.columns.first(where: { $0.name == column.name }), advised.profile != nil else { continue }
                    var profile = ValueProfile()
                    for row in all.rows {
                        let value = row[index]
                        profile.observe(value, declared: column.canonical, invalidText: false)
                    }
                    var reference = column
                    reference.profile = profile
                    let expected = ProfileAdvice(reference)
                    let got = advised.advice ?? ProfileAdvice(reference.withProfile(nil))
                    #expect(got.canonical == expected.canonical, "seed \(seed) \(column.nativeType): \(got.canonical) vs \(expected.canonical)")
                    #expect(
                        got.evidence.count == expected.evidence.count, "seed \(seed) \(column.nativeType): \(got.evidence) vs \(expected.evidence)")
                    #expect(advised.profile?.timeSpellings == profile.timeSpellings, "seed \(seed) \(column.nativeType)")
                    #expect(advised.profile?.total == profile.total)
                }
            }
        }
    }

    static func awkwardValue(using g: inout FuzzGenerator) -> Value {
        func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &g)] }
        switch Int.random(in: 0..<8, using: &g) {
        case 0: return .null
        case 1: return .int(pick([0, 1, 2, -40_000, 70_000, 123, Int64.max, Int64.min]))
        case 2: return .double(pick([0.5, 1.25, 0.00188, 12.345, 1e20, -0.001, 2.5, 1e-7, 123.456, 999.999, 1000.5]))
        case 3:
            return .text(
                pick([
                    "2024-01-05", "2024-13-01", "2024-01-05 10:00:00", "2024-01-05T10:00:00.123", "2024-01-05 10:00:00+02:00",
                    "10:00:00", "25:00:00", "12:30:00.5", "03/15/2024", "abc", "12.5", "1e3", "123456789012345678901234",
                ]))
        case 4: return .text(pick(["yes", "no", "true", "", "héllo", "abcdefgh", "NaN"]))
        case 5: return .bytes(pick([[0xff, 0x00], [], [0x41]]))
        case 6: return .double(Double(Int.random(in: -100_000...100_000, using: &g)) / 1000)
        default:
            return .text(
                String(
                    format: "%04d-%02d-%02d %02d:%02d:%02d", Int.random(in: 1...9999, using: &g), Int.random(in: 1...12, using: &g),
                    Int.random(in: 1...28, using: &g), Int.random(in: 0...23, using: &g), Int.random(in: 0...59, using: &g),
                    Int.random(in: 0...59, using: &g)))
        }
    }
}

extension Column {
    func withProfile(_ profile: ValueProfile?) -> Column {
        var column = self
        column.profile = profile
        return column
    }
}
