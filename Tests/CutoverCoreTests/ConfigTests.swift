import CutoverCore
import Testing

@Suite struct ConfigTests {
    let yaml = """
        connections:
          source: postgres://app:${PGPASS}@localhost:5432/shop
          target: sqlite:${TARGET_DIR:-/tmp}/t.db
        store: sqlite:.cutover/cutover.db
        default_environment: DEV
        environments:
          DEV: { database: ANALYTICS_DEV, schema: RAW }
        tables:
          include: [public.*]
          exclude: ["*_backup"]
        overrides:
          types: { numeric: "NUMBER(38,10)" }
          columns: { "public.orders.note": "VARCHAR(2000)" }
        """

    @Test func readsEverySection() throws {
        let config = try CutoverConfig.parse(yaml)
        #expect(config.connections.count == 2)
        #expect(config.environments["DEV"]?.database == "ANALYTICS_DEV")
        #expect(config.tables.includes(TableRef(schema: "public", name: "orders")))
        #expect(!config.tables.includes(TableRef(schema: "public", name: "orders_backup")))
        #expect(!config.tables.includes(TableRef(schema: "audit", name: "log")))
    }

    @Test func connectionNamesResolveWithEnvironmentVariables() throws {
        let config = try CutoverConfig.parse(yaml)
        let url = try config.resolveConnection("source", environment: ["PGPASS": "s3cret"])
        #expect(url.password == "s3cret")
        let target = try config.resolveConnection("target", environment: [:])
        #expect(target.database == "/tmp/t.db")
    }

    @Test func unsetVariableIsNamedInTheError() throws {
        let config = try CutoverConfig.parse(yaml)
        #expect {
            try config.resolveConnection("source", environment: [:])
        } throws: { error in
            (error as? CutoverError)?.description.contains("PGPASS") == true
        }
    }

    @Test func unknownConnectionNameListsTheKnownOnes() throws {
        let config = try CutoverConfig.parse(yaml)
        #expect {
            try config.resolveConnection("warehouse", environment: [:])
        } throws: { error in
            let text = (error as? CutoverError)?.description ?? ""
            return text.contains("warehouse") && text.contains("source, target")
        }
    }

    @Test func malformedYAMLSaysWhere() {
        #expect {
            try CutoverConfig.parse("connections: [unclosed", source: "bad.yml")
        } throws: { error in
            let error = error as! CutoverError
            return error.code == .config && error.description.contains("bad.yml")
        }
    }

    @Test func wrongShapeSaysWhichKey() {
        #expect {
            try CutoverConfig.parse("tables:\n  include: 5\n")
        } throws: { error in
            (error as? CutoverError)?.description.contains("tables.include") == true
        }
    }

    @Test func overridesMatchColumnFirstThenType() throws {
        let config = try CutoverConfig.parse(yaml)
        let note = Column(name: "note", ordinal: 1, nativeType: "text", canonical: .text(maxLength: nil))
        let amount = Column(name: "amount", ordinal: 2, nativeType: "numeric", canonical: .decimal(precision: nil, scale: nil))
        let orders = TableRef(schema: "public", name: "orders")
        #expect(config.overrides.override(table: orders, column: note)?.type == "VARCHAR(2000)")
        #expect(config.overrides.override(table: orders, column: amount)?.type == "NUMBER(38,10)")
    }

    @Test(arguments: [("public.*", "public.orders", true), ("*_tmp", "x_tmp", true), ("a?c", "abc", true), ("a*", "ba", false)])
    func globMatching(pattern: String, text: String, matches: Bool) {
        #expect(Glob.matches(pattern, text) == matches)
    }
}
