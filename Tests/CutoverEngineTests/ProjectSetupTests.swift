import CutoverCore
@testable import CutoverEngine
import Testing

@Suite struct ProjectSetupTests {
    @Test func namesScoreByHowAlikeTheyAre() {
        #expect(ProjectSetup.score("Track", "Track")?.0 == 1)
        #expect(ProjectSetup.score("Track", "TRACK")?.0 == 0.95)
        #expect(ProjectSetup.score("invoice_line", "InvoiceLine")?.0 == 0.9)
        let near = ProjectSetup.score("customers", "customer")?.0 ?? 0
        #expect(near > 0.6 && near < 0.9)
        #expect(ProjectSetup.score("Artist", "Invoice") == nil)
        #expect(ProjectSetup.distance("", "abc") == 3 && ProjectSetup.distance("kitten", "sitting") == 3)
    }

    static func table(_ name: String, _ columns: [(String, CanonicalType)]) -> Table {
        Table(
            ref: TableRef(schema: "s", name: name), kind: .table,
            columns: columns.enumerated().map { Column(name: $1.0, ordinal: $0 + 1, nativeType: "\($1.1)", canonical: $1.1, isNullable: true) },
            primaryKey: nil, uniqueKeys: [], foreignKeys: [], indexes: [], checks: [])
    }

    @Test func eachTargetIsUsedOnceAndNarrowTypesLowerTheConfidence() {
        let source = Catalog(
            engine: .postgres, database: "a", schemas: ["s"],
            tables: [
                Self.table("orders", [("id", .integer(bits: 64)), ("total", .decimal(precision: 12, scale: 2))]),
                Self.table("order", [("id", .integer(bits: 64))]),
            ])
        let target = Catalog(
            engine: .snowflake, database: "b", schemas: ["s"],
            tables: [
                Self.table("ORDERS", [("ID", .integer(bits: 16)), ("TOTAL", .decimal(precision: 12, scale: 2))]),
                Self.table("audit", [("id", .integer(bits: 64))]),
            ])
        let proposal = ProjectSetup.propose(source: source, target: target)
        let orders = proposal.tables.first { $0.source == "s.orders" }
        #expect(orders?.target == "s.ORDERS" && orders?.confidence == 0.95)
        #expect(proposal.tables.first { $0.source == "s.order" }?.target == nil, "ORDERS is taken by the better match")
        let id = orders?.columns.first { $0.source == "id" }
        #expect(id?.typeFits == false && (id?.confidence ?? 1) < 0.9)
        #expect(orders?.columns.first { $0.source == "total" }?.typeFits == true)
        #expect(proposal.unmatchedTargets == ["s.audit"])
    }
}
