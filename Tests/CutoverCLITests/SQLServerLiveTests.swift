import CutoverCore
import CutoverSQLServer
import CutoverTesting
import Foundation
import Testing

/// A real SQL Server, when `CUTOVER_TEST_SQLSERVER_URL` names one (a login that may create a table
/// in the URL's database): a table of every type read through FreeTDS, moved into PostgreSQL by the
/// CLI and validated, then a value changed on the target and the validation failing on it. Skipped
/// where no SQL Server is reachable — on the machines Cutover is built on, always.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CUTOVER_TEST_SQLSERVER_URL"] != nil, "CUTOVER_TEST_SQLSERVER_URL is not set"))
struct SQLServerLiveTests {
    static func serverURL() throws -> String { try #require(ProcessInfo.processInfo.environment["CUTOVER_TEST_SQLSERVER_URL"]) }

    /// A table `dbo.PREFIX…` with `columns`, dropped after `body` whether it passes or throws.
    static func withScratchTable(
        _ server: SQLServerConnector, prefix: String, columns: String, _ body: (String) async throws -> Void
    ) async throws {
        let table = prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try await server.execute("CREATE TABLE dbo.\(table) (\(columns))")
        do {
            try await body(table)
        } catch {
            try await server.execute("DROP TABLE IF EXISTS dbo.\(table)")
            throw error
        }
        try await server.execute("DROP TABLE IF EXISTS dbo.\(table)")
    }

    @Test func everyTypeIsReadMovedIntoPostgresAndValidated() async throws {
        let raw = try Self.serverURL()
        let server = try await SQLServerConnector(url: try ConnectionURL(parsing: raw))
        try await Self.withScratchTable(
            server, prefix: "cutover_t_",
            columns: """
                  id int NOT NULL PRIMARY KEY, flag bit, tiny tinyint, small smallint, big bigint, amount decimal(38,10), cash money, petty smallmoney,
                  ratio float, score real, born date, wakes time(7), created datetime, updated datetime2(7), reminder smalldatetime,
                  seen datetimeoffset(7), name nvarchar(50), code char(3), notes varchar(max), bytes varbinary(16), guid uniqueidentifier,
                  doc xml, node hierarchyid, place geography
                """
        ) { table in
            try await server.execute(
                """
                INSERT INTO dbo.\(table) VALUES
                (1, 1, 255, -32768, 9223372036854775807, 12345678901234567890.0123456789, 922337203685477.5807, -214748.3648,
                 0.1, 1.5, '0001-01-01', '23:59:59.9999999', '2024-02-29 10:15:30.997', '2024-02-29 10:15:30.1234567', '2024-02-29 10:15',
                 '2024-02-29 10:15:30.1234567 +05:30', N'Zoë 😀', 'abc', REPLICATE(CONVERT(varchar(max), 'x'), 10000), 0x00FF10,
                 '6F9619FF-8B86-D011-B42D-00C04FC964FF', N'<a b="1">t</a>', '/1/3/', geography::Point(47.65, -122.35, 4326)),
                (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, N'', NULL, '', 0x, NULL, NULL, NULL, NULL)
                """)
            let catalog = try await server.catalog(Scope(tables: [table]))
            let described = try #require(catalog.tables.first)
            #expect(described.rowCount == 2 && described.rowCountIsExact && described.primaryKey?.columns == ["id"])
            #expect(described.columns.first { $0.name == "tiny" }?.canonical == .integer(bits: 16))
            #expect(described.columns.first { $0.name == "seen" }?.canonical == .timestamp(withTimeZone: true, precision: 7))
            #expect(try await server.rowCount(TableRef(schema: "dbo", name: table)) == 2)

            var rows: [[Value]] = []
            for try await batch in server.read(
                ReadRequest(table: described.ref, columns: described.columns, orderBy: Array(described.columns.prefix(1))))
            {
                rows += (0..<batch.rowCount).map { Array(batch.row($0)) }
            }
            #expect(rows.count == 2)
            let first = Dictionary(uniqueKeysWithValues: zip(described.columns.map(\.name), rows[0]))
            #expect(first["tiny"] == .int(255) && first["big"] == .int(.max) && first["flag"] == .bool(true))
            #expect(first["amount"] == .text("12345678901234567890.0123456789") && first["cash"] == .text("922337203685477.5807"))
            #expect(first["updated"] == .text("2024-02-29 10:15:30.1234567") && first["wakes"] == .text("23:59:59.9999999"))
            #expect(first["name"] == .text("Zoë 😀") && first["bytes"] == .bytes([0, 0xFF, 0x10]))
            #expect(first["notes"].map { CanonicalForm.text($0, as: .text(maxLength: nil))?.count } == 10000)
            #expect(first["guid"].map { CanonicalForm.text($0, as: .uuid) } == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
            #expect(first["node"] == .text("/1/3/"))
            let second = Dictionary(uniqueKeysWithValues: zip(described.columns.map(\.name), rows[1]))
            #expect(second["flag"] == .null && second["name"] == .text("") && second["bytes"] == .bytes([]))

            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.withTemporaryDirectory { dir in
                    let target = TestEnvironment.cliText(pg)
                    let moved = try await CLI.run(["migrate", "--source", raw, "--target", target, "--tables", table], in: dir)
                    #expect(moved.status == 0, "\(moved.output)")
                    // datetime2(7), time(7) and datetimeoffset(7) lose their 7th digit in PostgreSQL: the rows
                    // without one validate, the value with one is named.
                    let validated = try await CLI.run(["validate", "--source", raw, "--target", target, "--tables", table], in: dir)
                    #expect(validated.status == 1 && validated.output.contains("updated"), "\(validated.output)")
                    try await TestEnvironment.psql(pg, "UPDATE \(table) SET cash = cash + 0.0001 WHERE id = 1")
                    let changed = try await CLI.run(["validate", "--source", raw, "--target", target, "--tables", table], in: dir)
                    #expect(changed.status == 1 && changed.output.contains("922337203685477.5807"), "\(changed.output)")
                    #expect(!changed.output.contains(try ConnectionURL(parsing: raw).password ?? "\u{0}"))
                }
            }
        }
    }

    /// On SQL Server 2019 or later the T-SQL portable checksum agrees with PostgreSQL's on every
    /// row of types both keep exactly, and a changed character is found by bisection; before 2019
    /// bisection is refused, naming why.
    @Test func checksumBisectionAgreesWithPostgres() async throws {
        let raw = try Self.serverURL()
        let server = try await SQLServerConnector(url: try ConnectionURL(parsing: raw))
        try await Self.withScratchTable(
            server, prefix: "cutover_c_",
            columns: """
                  id bigint NOT NULL PRIMARY KEY, flag bit, amount decimal(38,10), cash money, ratio float, score real, born date,
                  wakes time(6), created datetime, updated datetime2(6), seen datetimeoffset(6), name nvarchar(50), code nchar(4),
                  notes varchar(max), bytes varbinary(16), guid uniqueidentifier
                """
        ) { table in
            try await server.execute(
                """
                WITH n AS (SELECT TOP 30000 ROW_NUMBER() OVER (ORDER BY (SELECT 1)) AS i FROM sys.all_objects a CROSS JOIN sys.all_objects b)
                INSERT INTO dbo.\(table)
                SELECT i - 15000, i % 2, (i - 15000) / 7.0, i * 0.0001, i / 3.0, i / 7.0, DATEADD(day, i, '1900-01-01'),
                       DATEADD(microsecond, i, CAST('12:00:00' AS time(6))), DATEADD(millisecond, i * 3, CAST('2024-01-01' AS datetime)),
                       DATEADD(microsecond, i, CAST('1969-12-31 23:59:59' AS datetime2(6))),
                       TODATETIMEOFFSET(DATEADD(second, i, CAST('2024-01-01' AS datetime2(6))), '+05:30'),
                       CASE WHEN i % 5 = 0 THEN NULL ELSE N'Zoë 😀 ' + CONVERT(nvarchar(10), i) END, N'ab', 'x' + REPLICATE('y', i % 300),
                       CONVERT(varbinary(16), i), NEWID()
                FROM n
                """)
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.withTemporaryDirectory { dir in
                    let target = TestEnvironment.cliText(pg)
                    let moved = try await CLI.run(["migrate", "--source", raw, "--target", target, "--tables", table], in: dir)
                    #expect(moved.status == 0, "\(moved.output)")
                    let diff = ["diff", "--source", raw, "--target", target, "--table", table, "--strategy", "bisect"]
                    let same = try await CLI.run(diff, in: dir)
                    guard (server.majorVersion ?? 0) >= SQLServerChecksum.firstMajorVersion else {
                        #expect(same.status == 2 && same.output.contains("sqlserver has no in-database checksum"), "\(same.output)")
                        return
                    }
                    #expect(same.status == 0 && same.output.contains("portable MD5 row checksums"), "\(same.output)")
                    try await TestEnvironment.psql(pg, "UPDATE \(table) SET name = replace(name, 'ë', '?') WHERE id = 4242")
                    let changed = try await CLI.run(diff, in: dir)
                    #expect(changed.status == 1 && changed.output.contains("4242"), "\(changed.output)")
                }
            }
        }
    }
}
