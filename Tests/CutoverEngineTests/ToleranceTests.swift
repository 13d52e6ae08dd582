@testable import CutoverEngine
import CutoverCore
import Testing

@Suite struct ToleranceTests {
    @Test(arguments: [
        ("0.01", "1.005", "1.01", true), ("0.01", "1", "1.02", false), ("ms", "2024-01-01 00:00:00.123456Z", "2024-01-01 00:00:00.123999Z", true),
        ("ms", "2024-01-01 00:00:00.123Z", "2024-01-01 00:00:00.124Z", false), ("s", "10:00:00.900000", "10:00:00.100000", true),
        ("case", "Ann", "ANN", true), ("case", "Ann", "Bob", false),
    ])
    func rulesHideOnlyWhatTheySay(rule: String, a: String, b: String, hidden: Bool) throws {
        #expect((try ColumnTolerance(parsing: rule).hides(a, b, type: .text(maxLength: nil)) != nil) == hidden)
    }

    @Test func emptyAndNullAndCombinations() throws {
        let tolerance = try ColumnTolerance(parsing: "empty-null+case")
        #expect(tolerance.hides("", nil, type: .text(maxLength: nil)) == "empty-null")
        #expect(tolerance.hides("X", "x", type: .text(maxLength: nil)) == "case")
        #expect(tolerance.hides(nil, "x", type: .text(maxLength: nil)) == nil)
        #expect(throws: CutoverError.self) { try ColumnTolerance(parsing: "roughly") }
    }
}

@Suite struct ToleranceScopeTests {
    @Test func qualifiedKeysApplyToTheirTableOnlyAndWinOverPlainOnes() throws {
        let all = try Tolerances.parse(["amount=0.5", "orders.amount=0.01", "public.items.note=case", "*=empty-null"], strict: false)
        let orders = all.forTable(TableRef(schema: "public", name: "orders"))
        #expect(orders.columns["amount"]?.epsilon == 0.01)
        #expect(orders.columns["note"] == nil)
        #expect(orders.columns["*"]?.emptyEqualsNull == true)
        let items = all.forTable(TableRef(schema: "public", name: "items"))
        #expect(items.columns["amount"]?.epsilon == 0.5)
        #expect(items.columns["note"]?.ignoreCase == true)
        #expect(throws: CutoverError.self) { try Tolerances.parse(["amount"], strict: false) }
    }
}
