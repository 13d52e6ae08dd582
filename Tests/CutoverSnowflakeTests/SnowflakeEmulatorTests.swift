import CutoverCore
import CutoverTesting
import Foundation
import Testing

@testable import CutoverSnowflake

/// Against the Snowflake emulator that scripts/test.sh starts (fakesnow, over the same REST protocol).
@Suite(.enabled(if: TestEnvironment.hasSnowflake)) struct SnowflakeEmulatorTests {
    static let columns: [Column] = [
        Column(name: "ID", ordinal: 1, nativeType: "bigint", canonical: .integer(bits: 64), isNullable: false),
        Column(name: "AMOUNT", ordinal: 2, nativeType: "numeric(12,2)", canonical: .decimal(precision: 12, scale: 2)),
        Column(name: "RATIO", ordinal: 3, nativeType: "float8", canonical: .float(bits: 64)),
        Column(name: "NAME", ordinal: 4, nativeType: "text", canonical: .text(maxLength: nil)),
        Column(name: "FLAG", ordinal: 5, nativeType: "boolean", canonical: .boolean),
        Column(name: "DAY", ordinal: 6, nativeType: "date", canonical: .date),
        Column(name: "AT", ordinal: 7, nativeType: "timestamp", canonical: .timestamp(withTimeZone: false, precision: 6)),
        Column(name: "AT_TZ", ordinal: 8, nativeType: "timestamptz", canonical: .timestamp(withTimeZone: true, precision: 6)),
        Column(name: "DOC", ordinal: 9, nativeType: "jsonb", canonical: .json(binary: true)),
        Column(name: "RAW", ordinal: 10, nativeType: "bytea", canonical: .binary),
        Column(name: "CLOCK", ordinal: 11, nativeType: "time", canonical: .time(withTimeZone: false)),
    ]

    static let rows: [[Value]] = [
        [
            .int(1), .text("1234.50"), .double(-0.5), .text("héllo 世界 🚀 \"quoted\", comma\nnewline"), .bool(true), .text("1969-07-20"),
            .text("1960-01-02 03:04:05.123456"), .text("2024-01-02 03:04:05.25+02"), .text(#"{"b": 1, "a": [1, 2]}"#), .bytes([0, 255, 16]),
            .text("13:14:15.5"),
        ],
        [.int(2), .null, .null, .text(""), .null, .null, .null, .null, .null, .null, .null],
        [
            .int(3), .text("-0.01"), .double(1.7976931348623157e308), .null, .bool(false), .text("2000-02-29"),
            .text("2000-02-29 23:59:59"), .text("1999-12-31 23:00:00-05"), .text("[1, \"x\", null]"), .bytes([]), .text("00:00:00"),
        ],
        [
            .int(4), .text("0.00"), .double(.nan), .text("\\N"), .bool(true), .text("0001-01-01"),
            .text("9999-12-31 23:59:59.999999"), .text("2024-06-01 00:00:00+00"), .text("\"just a string\""), .bytes([1]), .text("23:59:59.999999"),
        ],
    ]

    static func createTable(_ connector: SnowflakeConnector, _ name: String) async throws {
        let dialect = SnowflakeDialect()
        let definitions = columns.map { "\(dialect.quote($0.name)) \(dialect.typeChoice(for: $0.canonical).sqlType)" }
        try await connector.execute("CREATE OR REPLACE TABLE \(dialect.quote(name)) (\(definitions.joined(separator: ", ")), PRIMARY KEY (\"ID\"))")
    }

    static func batch(_ rows: [[Value]]) -> RowStream {
        var batch = RowBatch(columnCount: columns.count)
        for row in rows { batch.append(row: row) }
        return .batches([batch])
    }

    static func readBack(_ connector: SnowflakeConnector, _ name: String) async throws -> [[String?]] {
        var out: [[String?]] = []
        for try await batch in connector.read(
            ReadRequest(table: TableRef(schema: "PUBLIC", name: name), columns: columns, orderBy: [columns[0]], batchSize: 3))
        {
            for row in 0..<batch.rowCount {
                out.append(batch.row(row).enumerated().map { CanonicalForm.text($0.element, as: columns[$0.offset].canonical) })
            }
        }
        return out
    }

    static func canonical(_ rows: [[Value]]) -> [[String?]] {
        rows.map { $0.enumerated().map { CanonicalForm.text($0.element, as: columns[$0.offset].canonical) } }
    }

    @Test(arguments: ["stage", "binds"])
    func valuesRoundTripExactlyThroughEachLoadPath(load: String) async throws {
        try await TestEnvironment.withSnowflakeDatabase(["load": load]) { url in
            let connector = try await SnowflakeConnector(url: url)
            try await Self.createTable(connector, "ROUND_TRIP")
            let stats = try await connector.write(Self.batch(Self.rows), to: TableRef(schema: "PUBLIC", name: "ROUND_TRIP"), columns: Self.columns)
            #expect(stats.rows == 4)
            let back = try await Self.readBack(connector, "ROUND_TRIP")
            #expect(back == Self.canonical(Self.rows))
            #expect(try await connector.rowCount(TableRef(schema: "PUBLIC", name: "ROUND_TRIP")) == 4)
        }
    }

    @Test func upsertMergesOnTheKeyAndReplacingARangeIsIdempotent() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let connector = try await SnowflakeConnector(url: url)
            try await Self.createTable(connector, "UPSERTED")
            let table = TableRef(schema: "PUBLIC", name: "UPSERTED")
            _ = try await connector.write(Self.batch(Array(Self.rows.prefix(2))), to: table, columns: Self.columns)
            var changed = Self.rows[1]
            changed[3] = .text("changed")
            _ = try await connector.write(
                Self.batch([changed, Self.rows[2]]), to: table, columns: Self.columns,
                options: WriteOptions(mode: .upsert(key: ["ID"])))
            let back = try await Self.readBack(connector, "UPSERTED")
            #expect(back == Self.canonical([Self.rows[0], changed, Self.rows[2]]))
            // Reloading a key range twice leaves exactly one copy of it.
            let range = RowFilter(terms: [.init(column: "ID", .greaterOrEqual, "3", isNumeric: true)])
            for _ in 0..<2 {
                _ = try await connector.write(
                    Self.batch([Self.rows[2], Self.rows[3]]), to: table, columns: Self.columns,
                    options: WriteOptions(replacing: range))
            }
            #expect(try await Self.readBack(connector, "UPSERTED") == Self.canonical([Self.rows[0], changed, Self.rows[2], Self.rows[3]]))
        }
    }

    @Test func aFailedLoadLeavesTheTargetUntouched() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let connector = try await SnowflakeConnector(url: url)
            try await Self.createTable(connector, "GUARDED")
            let table = TableRef(schema: "PUBLIC", name: "GUARDED")
            _ = try await connector.write(Self.batch([Self.rows[0]]), to: table, columns: Self.columns)
            var bad = Self.rows[2]
            bad[1] = .text("not a number")
            let error = await #expect(throws: CutoverError.self) {
                try await connector.write(
                    Self.batch([Self.rows[3], bad]), to: table, columns: Self.columns,
                    options: WriteOptions(replacing: RowFilter(terms: [])))
            }
            #expect(error?.context["table"] == "PUBLIC.GUARDED")
            #expect(try await Self.readBack(connector, "GUARDED") == Self.canonical([Self.rows[0]]))
        }
    }

    @Test func catalogReadsTablesColumnsTypesAndKeys() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let connector = try await SnowflakeConnector(url: url)
            try await Self.createTable(connector, "CATALOGED")
            let catalog = try await connector.catalog(Scope())
            let table = try #require(catalog.table(TableRef(schema: "PUBLIC", name: "CATALOGED")))
            #expect(table.primaryKey?.columns == ["ID"])
            #expect(table.columns.map(\.name) == Self.columns.map(\.name))
            #expect(table.column(named: "AMOUNT")?.canonical == .decimal(precision: 12, scale: 2))
            #expect(table.column(named: "AT_TZ")?.canonical == .timestamp(withTimeZone: true, precision: nil))
            #expect(table.column(named: "DOC")?.canonical == .json(binary: true))
            #expect(table.rowCount == 0 && table.rowCountIsExact)
            await #expect(throws: CutoverError.self) { try await connector.catalog(Scope(tables: ["NOPE"])) }
            let missingSchema = await #expect(throws: CutoverError.self) { try await connector.catalog(Scope(schemas: ["missing"])) }
            #expect(missingSchema?.code == .schemaNotFound)
        }
    }

    @Test func sqlErrorsCarrySnowflakesCodeStateAndQueryText() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let connector = try await SnowflakeConnector(url: url)
            let missing = await #expect(throws: CutoverError.self) { try await connector.execute("SELECT * FROM NO_SUCH_TABLE") }
            #expect(missing?.code == .tableNotFound)
            #expect(missing?.context["snowflake_code"] == "002003")
            #expect(missing?.context["sqlstate"] == "42S02")
            #expect(missing?.context["query"] == "SELECT * FROM NO_SUCH_TABLE")
            let result = try await connector.execute("SELECT 1 AS ONE, 'x' AS TWO")
            #expect(result.columns == ["ONE", "TWO"] && result.rows == [[.int(1), .text("x")]])
        }
    }

    @Test func bindParametersTravelAsTypedValues() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let client = SnowflakeClient(settings: try SnowflakeSettings(url))
            let data = try await client.run(
                "SELECT ? AS A, ? AS B", bindings: ["1": Binding(type: "TEXT", value: .one("it's")), "2": Binding(type: "FIXED", value: .one("42"))])
            let rows = try await SnowflakeResultPages(data, client: client).all()
            #expect(rows == [[.text("it's"), .int(42)]])
            await client.close()
        }
    }

    @Test func sessionsHeartbeatCloseAndLogInAgain() async throws {
        try await TestEnvironment.withSnowflakeDatabase { url in
            let client = SnowflakeClient(settings: try SnowflakeSettings(url))
            try await client.login()
            try await client.heartbeat()
            await client.close()
            // A closed client logs in again on its next query.
            let data = try await client.run("SELECT 2 AS TWO")
            #expect(try await SnowflakeResultPages(data, client: client).all() == [[.int(2)]])
            await client.close()
        }
    }

    @Test func anUnreachableEndpointFailsClearlyWithoutLeakingThePassword() async throws {
        let url = try ConnectionURL(
            parsing: "snowflake://me:hunter2-secret@acct/DB/PUBLIC?host=127.0.0.1&port=9&protocol=http&retries=1&connect_timeout=1")
        let error = await #expect(throws: CutoverError.self) { try await SnowflakeConnector(url: url) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("127.0.0.1:9") == true)
        #expect(error?.description.contains("hunter2-secret") == false)
    }
}
