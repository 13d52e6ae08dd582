import Testing

@testable import CutoverStore

/// Values written into a store statement are bound, never spliced; only what the code writes goes in as text.
@Suite struct StoreSQLTests {
    @Test func valuesAreBoundAndFragmentsKeepTheirOrder() {
        let name = "x'); DROP TABLE runs; --"
        let since: String? = nil
        let filter: StoreSQL = "status = \(name)" + (since.map { " AND at >= \($0)" } ?? "")
        let sql: StoreSQL = "SELECT \(raw: "id, status") FROM runs WHERE id = \(42) AND \(filter) AND note = \(since) LIMIT \(10)"
        #expect(sql.text == "SELECT id, status FROM runs WHERE id = ? AND status = ? AND note = ? LIMIT ?")
        #expect(sql.parameters == ["42", name, nil, "10"])
        let list = StoreSQL.joined(["a", "b"].map { "\($0)" }, separator: ", ")
        #expect(list.text == "?, ?" && list.parameters == ["a", "b"])
    }

    @Test func jsonIsBoundTheWayTheBackendStoresIt() {
        let sql: StoreSQL = "INSERT INTO t (a, doc, b) SELECT \("1"), \(json: "{}"), \("2")"
        #expect(sql.parameters == ["1", "{}", "2"])
        #expect(sql.text.components(separatedBy: StoreSQL.jsonMarker).count == 2)
    }
}
