import CutoverCore
import CutoverSQLServer
import CutoverTesting
import Foundation
import Testing

@Suite struct SQLServerTypeTests {
    typealias Declared = SQLServerTypes.Declared

    /// Every SQL Server type: the canonical type, the native spelling, and what the rationale says.
    @Test(arguments: [
        (Declared(type: "bit"), CanonicalType.boolean, "bit", "boolean"),
        (Declared(type: "tinyint"), .integer(bits: 16), "tinyint", "unsigned (0–255)"),
        (Declared(type: "smallint"), .integer(bits: 16), "smallint", ""),
        (Declared(type: "int"), .integer(bits: 32), "int", ""),
        (Declared(type: "bigint"), .integer(bits: 64), "bigint", ""),
        (Declared(type: "decimal", precision: 12, scale: 2), .decimal(precision: 12, scale: 2), "decimal(12,2)", ""),
        (Declared(type: "numeric", precision: 38, scale: 10), .decimal(precision: 38, scale: 10), "numeric(38,10)", ""),
        (Declared(type: "money"), .decimal(precision: 19, scale: 4), "money", "1/10,000 units"),
        (Declared(type: "smallmoney"), .decimal(precision: 10, scale: 4), "smallmoney", "decimal(10,4)"),
        (Declared(type: "real", precision: 24), .float(bits: 32), "real", ""),
        (Declared(type: "float", precision: 24), .float(bits: 32), "float(24)", ""),
        (Declared(type: "float", precision: 53), .float(bits: 64), "float", ""),
        (Declared(type: "date"), .date, "date", ""),
        (Declared(type: "time", scale: 7), .time(withTimeZone: false), "time(7)", "7th digit is rounded"),
        (Declared(type: "time", scale: 3), .time(withTimeZone: false), "time(3)", ""),
        (Declared(type: "datetime", scale: 3), .timestamp(withTimeZone: false, precision: 3), "datetime", "1/300 s"),
        (Declared(type: "datetime2", scale: 7), .timestamp(withTimeZone: false, precision: 7), "datetime2(7)", "100 ns"),
        (Declared(type: "datetime2", scale: 2), .timestamp(withTimeZone: false, precision: 2), "datetime2(2)", ""),
        (Declared(type: "smalldatetime"), .timestamp(withTimeZone: false, precision: 0), "smalldatetime", "minute precision"),
        (Declared(type: "datetimeoffset", scale: 7), .timestamp(withTimeZone: true, precision: 7), "datetimeoffset(7)", "drops the offset"),
        (Declared(type: "char", maxLength: 2), .char(length: 2), "char(2)", ""),
        (Declared(type: "varchar", maxLength: 255), .text(maxLength: 255), "varchar(255)", ""),
        (Declared(type: "varchar", maxLength: -1), .text(maxLength: nil), "varchar(max)", ""),
        (
            Declared(type: "varchar", maxLength: 50, collation: "Latin1_General_100_CS_AS_SC_UTF8"), .text(maxLength: 50), "varchar(50)",
            "counts bytes"
        ),
        (Declared(type: "nchar", maxLength: 20), .char(length: 10), "nchar(10)", "UTF-16 code units"),
        (Declared(type: "nvarchar", maxLength: 200), .text(maxLength: 100), "nvarchar(100)", "UTF-16 code units"),
        (Declared(type: "nvarchar", maxLength: -1), .text(maxLength: nil), "nvarchar(max)", "UTF-16"),
        (Declared(type: "text"), .text(maxLength: nil), "text", "deprecated"),
        (Declared(type: "ntext"), .text(maxLength: nil), "ntext", "deprecated"),
        (Declared(type: "binary", maxLength: 16), .binary, "binary(16)", ""),
        (Declared(type: "varbinary", maxLength: -1), .binary, "varbinary(max)", ""),
        (Declared(type: "image"), .binary, "image", "deprecated"),
        (Declared(type: "uniqueidentifier"), .uuid, "uniqueidentifier", "mixed-endian"),
        (Declared(type: "xml"), .text(maxLength: nil), "xml", "as its text"),
        (Declared(type: "sql_variant"), .text(maxLength: nil), "sql_variant", "BaseType"),
        (Declared(type: "hierarchyid"), .text(maxLength: 4000), "hierarchyid", "/1/3/2/"),
        (Declared(type: "geography"), .text(maxLength: nil), "geography", "STAsText"),
        (Declared(type: "geometry"), .text(maxLength: nil), "geometry", "STAsText"),
        (Declared(type: "rowversion"), .binary, "rowversion", "change counter"),
        (Declared(type: "timestamp"), .binary, "rowversion", "change counter"),
        (Declared(type: "my_clr_type"), .unknown(native: "my_clr_type"), "my_clr_type", ""),
    ])
    func everyTypeHasItsRule(declared: Declared, canonical: CanonicalType, native: String, says: String) {
        let mapping = SQLServerTypes.map(declared)
        #expect(mapping.canonical == canonical, "\(declared.type)")
        #expect(mapping.native == native)
        if !says.isEmpty {
            #expect((mapping.notes + mapping.evidence).contains { $0.contains(says) }, "\(declared.type): \(mapping.notes + mapping.evidence)")
        }
    }

    /// The types whose values cannot move as they are need a person's decision; the others do not.
    @Test func onlyTypesThatLoseMeaningNeedADecision() {
        let needing = ["sql_variant", "geography", "geometry", "rowversion"]
        for type in ["bit", "int", "money", "datetime2", "uniqueidentifier", "xml", "hierarchyid"] + needing {
            #expect(SQLServerTypes.map(Declared(type: type, maxLength: -1)).evidence.isEmpty != needing.contains(type), "\(type)")
        }
    }

    @Test func collationsComputedAndSparseColumnsAreExplained() {
        let insensitive = SQLServerTypes.map(Declared(type: "nvarchar", maxLength: 40, collation: "Latin1_General_CI_AI"))
        #expect(insensitive.notes.contains { $0.contains("case-insensitively") } && insensitive.notes.contains { $0.contains("ignores accents") })
        #expect(
            !SQLServerTypes.map(Declared(type: "nvarchar", maxLength: 40, collation: "Latin1_General_CS_AS")).notes.contains {
                $0.contains("case-insensitively")
            })
        let computed = SQLServerTypes.map(Declared(type: "int", isComputed: true, computedDefinition: "([a]+[b])"))
        #expect(computed.notes.contains { $0.contains("([a]+[b])") })
        #expect(SQLServerTypes.map(Declared(type: "int", isSparse: true)).notes.contains { $0.contains("sparse") })
    }
}

@Suite struct SQLServerExportTests {
    static var fixture: String { TestEnvironment.fixturePath("sqlserver-export.json") ?? "" }

    @Test func theExportReadsIntoACatalog() throws {
        let export = try SQLServerExport(path: Self.fixture)
        let catalog = export.catalog
        #expect(catalog.engine == .sqlserver && catalog.database == "Retail" && catalog.schemas == ["dbo", "sales"])
        #expect(catalog.serverVersion == "Microsoft SQL Server 2022 (RTM-CU12) - 16.0.4125.3 (X64)")
        #expect(catalog.tables.map(\.ref.description) == ["dbo.Customers", "dbo.Orders", "sales.Payments", "dbo.ActiveCustomers"])
        // A view keeps its definition (for the plan's recommendations); an export without `kind` is of tables.
        let view = catalog.tables[3]
        #expect(view.kind == .view && view.viewDefinition?.hasPrefix("CREATE VIEW dbo.ActiveCustomers") == true && view.columns.count == 2)
        #expect(catalog.tables[1].kind == .table && catalog.tables[1].viewDefinition == nil)
        let customers = try #require(catalog.tables.first)
        #expect(customers.columns.count == 36 && customers.rowCount == 1200 && customers.sizeBytes == 401_408 && !customers.rowCountIsExact)
        #expect(customers.primaryKey?.columns == ["CustomerId"] && customers.uniqueKeys.map(\.columns) == [["Guid"]])
        #expect(customers.indexes.map(\.columns) == [["Email", "Country"]] && customers.checks.first?.expression == "([Age]<(130))")
        #expect(customers.column(named: "CustomerId")?.identity == .byDefault)
        #expect(customers.column(named: "Guid")?.defaultExpression == "(newid())")
        #expect(customers.column(named: "Name")?.canonical == .text(maxLength: 100) && customers.column(named: "Name")?.isNullable == false)
        #expect(customers.column(named: "DisplayName")?.advice?.notes.contains { $0.contains("computed column") } == true)
        #expect(customers.column(named: "Extra")?.advice?.needsReview == true)
        let orders = catalog.tables[1]
        #expect(orders.foreignKeys.first?.referencedTable == TableRef(schema: "dbo", name: "Customers"))
        #expect(orders.foreignKeys.first?.onDelete == "CASCADE" && orders.foreignKeys.first?.onUpdate == nil)
        #expect(catalog.tables[2].primaryKey == nil && catalog.tables[2].rowCount == 0)
    }

    /// sqlcmd breaks its output into lines; the reader puts them back together.
    @Test func lineBreaksFromSqlcmdDoNotMatter() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\n", with: "")
            var broken = "\u{FEFF}"
            var index = text.startIndex
            while index < text.endIndex {
                let end = text.index(index, offsetBy: 2033, limitedBy: text.endIndex) ?? text.endIndex
                broken += text[index..<end] + "\r\n"
                index = end
            }
            try broken.write(toFile: dir + "/export.json", atomically: true, encoding: .utf8)
            let export = try SQLServerExport(path: dir)
            #expect(export.catalog.tables.count == 4 && export.path == dir + "/export.json")
        }
    }

    @Test func badExportsAreNamedWithWhatToDo() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            func refused(_ path: String, _ words: String) {
                #expect(throws: CutoverError.self) { try SQLServerExport(path: path) }
                do { _ = try SQLServerExport(path: path) } catch let error as CutoverError {
                    #expect(error.message.contains(words), "\(error.message)")
                    #expect(error.exitCode == 2 || error.exitCode == 3)
                } catch {
                    Issue.record("\(error)")
                }
            }
            refused(dir + "/missing.json", "there is no SQL Server export")
            refused(dir, "holds no .json export")
            try #"{"format": "cutover-sqlserver-export/9", "database": "x", "tables": []}"#.write(
                toFile: dir + "/a.json", atomically: true, encoding: .utf8)
            refused(dir + "/a.json", "cutover-sqlserver-export/9")
            try "Msg 208, Level 16: Invalid object name".write(toFile: dir + "/b.json", atomically: true, encoding: .utf8)
            refused(dir, "holds 2 exports and 0 aggregates files")
            refused(dir + "/b.json", "is not a Cutover SQL Server export")
            try
                #"{"format": "cutover-sqlserver-export/1", "database": "x", "tables": [{"schema": "dbo", "name": "t", "columns": [{"name": "a", "ordinal": 1, "type": "int", "nullable": false}], "indexes": [{"name": "PK", "primary": true, "unique": true, "columns": [{"name": "b"}]}]}]}"#
                .write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
            refused(dir + "/c.json", "names a column it does not list: b")
        }
    }

    /// A folder holds the export and the aggregates script's output, told apart by their format.
    @Test func aggregatesAreReadFromTheExportsFolder() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: dir + "/export.json")
            #expect(try SQLServerExport(path: dir).aggregates == nil)
            let aggregates = try #require(TestEnvironment.fixturePath("sqlserver-aggregates.json"))
            try FileManager.default.copyItem(atPath: aggregates, toPath: dir + "/aggregates.json")
            let read = try #require(try SQLServerExport(path: dir).aggregates)
            #expect(
                read.table(TableRef(schema: "DBO", name: "orders"))?.columns.map(\.name) == ["OrderId", "CustomerId", "Total", "Status", "OrderedOn"])
            #expect(read.table(TableRef(schema: "sales", name: "Payments"))?.columns.last?.sum == "12.5000000000")
            let other = try String(contentsOfFile: aggregates, encoding: .utf8).replacingOccurrences(of: "\"Retail\"", with: "\"Other\"")
            try other.write(toFile: dir + "/aggregates.json", atomically: true, encoding: .utf8)
            #expect(throws: CutoverError.self) { try SQLServerExport(path: dir) }
            // The second script sums the export's integers, decimals and money, with their scale.
            let script = SQLServerExtractScript.aggregates(of: try SQLServerExport(path: dir + "/export.json").catalog)
            #expect(script.contains("SUM(CAST([Balance] AS decimal(38,4)))") && script.contains("SUM(CAST([Age] AS decimal(38,0)))"))
            // Every other column is counted, floats and spatial types included.
            #expect(script.contains("COUNT_BIG([Score])") && !script.contains("SUM(CAST([Score]") && script.contains("COUNT_BIG([Location])"))
            #expect(script.contains("FROM [sales].[Payments]") && !script.uppercased().contains("INSERT "))
        }
    }

    @Test func exportURLsParseAndLiveOnesSayWhatIsMissing() async throws {
        let url = try ConnectionURL(parsing: "sqlserver-export:exports/retail.json")
        #expect(
            url.engine == .sqlserver && url.parameters["export"] == "exports/retail.json" && url.description == "sqlserver-export:exports/retail.json"
        )
        let connector = try SQLServerExportConnector(url: try ConnectionURL(parsing: "sqlserver-export:" + Self.fixture))
        #expect(try await connector.rowCount(TableRef(schema: "dbo", name: "orders")) == 48211)
        #expect(try await connector.catalog(Scope(tables: ["Orders"])).tables.map(\.ref.name) == ["Orders"])
        #expect(try await connector.catalog(Scope(schemas: ["sales"])).tables.map(\.ref.name) == ["Payments"])
        await #expect(throws: CutoverError.self) { try await connector.execute("SELECT 1") }
        #expect(throws: CutoverError.self) { try SQLServerExportConnector(url: try ConnectionURL(parsing: "sqlserver://sa:pw@db:1433/Retail")) }
    }

    @Test func theExtractScriptReadsOnlyAndFilters() {
        let all = SQLServerExtractScript.text()
        #expect(
            all.contains("FOR JSON PATH, WITHOUT_ARRAY_WRAPPER") && all.contains("sys.dm_db_partition_stats") && all.contains(SQLServerExport.format))
        for write in ["INSERT ", "UPDATE ", "DELETE ", "DROP ", "CREATE ", "ALTER ", "EXEC"] {
            #expect(!all.uppercased().contains(write), "\(write)")
        }
        let some = SQLServerExtractScript.text(schemas: ["dbo"], tables: ["Orders", "sales.O'Brien"])
        #expect(
            some.contains("s.name IN (N'dbo')") && some.contains("t.name = N'Orders'")
                && some.contains("(s.name = N'sales' AND t.name = N'O''Brien')"))
    }
}

/// The SQL the mover and the checks build through the dialect comes out in T-SQL's spelling.
@Suite struct SQLServerDialectTests {
    @Test func rowLimitsIndexesAndNamesAreTSQL() {
        let dialect = SQLServerDialect()
        #expect(
            dialect.limit("SELECT [id] FROM [dbo].[t] ORDER BY [id]", rows: 1, offset: 41)
                == "SELECT [id] FROM [dbo].[t] ORDER BY [id] OFFSET 41 ROWS FETCH NEXT 1 ROWS ONLY")
        #expect(
            dialect.dropIndex(TableRef(schema: "dbo", name: "ix_t]x"), on: TableRef(schema: "dbo", name: "t"))
                == "DROP INDEX IF EXISTS [ix_t]]x] ON [dbo].[t]")
        #expect(dialect.deleteAll(TableRef(schema: "dbo", name: "t")) == "DELETE FROM [dbo].[t]")
        #expect(dialect.literal("O'Brien") == "N'O''Brien'")
        // The standard spelling stays for the engines that have LIMIT.
        #expect(PortableDialectProbe.limit == "SELECT 1 ORDER BY 1 LIMIT 5 OFFSET 2")
    }

    /// What the pipeline checks measure reads the same on SQL Server: LEN would drop trailing
    /// blanks and count an emoji twice; AVG of an int would be an int and int * int would overflow;
    /// COUNT would overflow past 2^31 rows.
    @Test func lengthsAndAveragesMeanWhatTheyMeanElsewhere() {
        let dialect = SQLServerDialect()
        #expect(dialect.characterLength("[Name]") == "(LEN(CONVERT(nvarchar(max), [Name]) COLLATE Latin1_General_100_CI_AS_SC + N'.') - 1)")
        #expect(dialect.asDouble("[Qty]") == "CAST([Qty] AS float)")
        // COUNT is an int in T-SQL, which fails past 2^31 rows.
        #expect(dialect.count("*") == "COUNT_BIG(*)" && dialect.count("DISTINCT [Name]") == "COUNT_BIG(DISTINCT [Name])")
        #expect(PortableDialectProbe().characterLength("x") == "length(x)" && PortableDialectProbe().asDouble("x") == "x")
        #expect(PortableDialectProbe().count("*") == "count(*)")
    }

    /// A read merged with another engine's is ordered as the merge compares: text by code point
    /// whatever the collation, a uniqueidentifier by its text (SQL Server sorts it by its last group).
    @Test func keyOrderAndRangesAreTheMergesOrder() {
        let name = Column(name: "Name", ordinal: 1, nativeType: "nvarchar(50)", canonical: .text(maxLength: 50), isNullable: false)
        let guid = Column(name: "Guid", ordinal: 2, nativeType: "uniqueidentifier", canonical: .uuid, isNullable: false)
        let id = Column(name: "Id", ordinal: 3, nativeType: "int", canonical: .integer(bits: 32), isNullable: false)
        let request = ReadRequest(
            table: TableRef(schema: "dbo", name: "People"), columns: [name, guid, id], orderBy: [name, guid, id],
            filter: RowFilter(terms: [RowFilter.Term(column: "Name", .greaterOrEqual, "O'Brien", isNumeric: false, bytewise: true)]))
        #expect(
            request.selectSQL(SQLServerDialect(), expression: SQLServerReading.expression)
                == "SELECT [Name], CONVERT(char(36), [Guid]) AS [Guid], [Id] FROM [dbo].[People] "
                + "WHERE CONVERT(nvarchar(max), [Name]) COLLATE Latin1_General_100_BIN2 >= N'O''Brien' "
                + "ORDER BY CONVERT(nvarchar(max), [Name]) COLLATE Latin1_General_100_BIN2, CONVERT(char(36), [Guid]) COLLATE Latin1_General_100_BIN2, [Id]"
        )
    }
}

/// The portable checksum in T-SQL. No SQL Server runs here, so these pin the text; the export
/// fixture's checksums are PortableChecksum's own, so a target must agree with them to pass.
@Suite struct SQLServerChecksumTests {
    static let table = TableRef(schema: "dbo", name: "Customers")

    @Test func onlyServersWithUTF8CollationsChecksum() {
        #expect(SQLServerDialect().portableChecksumSQL(Self.table, columns: [], key: "Id", range: 0..<10, width: 5) == nil)
        #expect(SQLServerDialect(utf8Collations: true).portableChecksumSQL(Self.table, columns: [], key: "Id", range: 0..<10, width: 5) != nil)
        #expect(SQLServerChecksum.isSupported(version: "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 (X64)"))
        #expect(SQLServerChecksum.isSupported(version: "Microsoft SQL Server 2022 (RTM-CU12) - 16.0.4125.3 (X64)"))
        #expect(SQLServerChecksum.isSupported(version: "Microsoft SQL Azure (RTM) - 12.0.2000.8"))
        #expect(!SQLServerChecksum.isSupported(version: "Microsoft SQL Server 2017 (RTM-CU31) - 14.0.3456.2 (X64)"))
        #expect(!SQLServerChecksum.isSupported(version: nil))
    }

    @Test func everyFormIsSpelledFromTheTextTheConnectorReads() throws {
        let columns: [ChecksumColumn] = [
            ("Id", .number(scale: 0), "bigint"), ("Balance", .number(scale: 4), "money"),
            ("Name", .text(trimmed: false, lowercased: false), "nvarchar(200)"),
            ("Code", .text(trimmed: true, lowercased: false), "nchar(10)"), ("Guid", .text(trimmed: false, lowercased: true), "uniqueidentifier"),
            ("OrgNode", .text(trimmed: false, lowercased: false), "hierarchyid"), ("CreatedAt", .timestamp(zoned: false), "datetime"),
            ("LastSeen", .timestamp(zoned: true), "datetimeoffset(7)"), ("Score", .float(bits: 32), "float(24)"),
            ("Ratio", .float(bits: 64), "float"),
            ("IsActive", .boolean, "bit"), ("Photo", .binary, "varbinary(max)"), ("Born", .date, "date"), ("WakesAt", .time, "time(7)"),
        ]
        let sql = try #require(
            SQLServerDialect(utf8Collations: true).portableChecksumSQL(Self.table, columns: columns, key: "Id", range: -5..<3_000_000_000, width: 7))
        for fragment in [
            // The frames as UTF-8, hashed; lengths in Unicode scalars, trailing blanks counted.
            "HASHBYTES('MD5', CONVERT(varchar(max), (", ") COLLATE Latin1_General_100_BIN2_UTF8))",
            "LEN(([cutover_texts].[v2] + N'.') COLLATE Latin1_General_100_CI_AS_SC) - 1",
            // Each column's text is computed once, beside the table.
            "FROM [dbo].[Customers] AS [cutover_t] CROSS APPLY (SELECT REPLACE(CONVERT(nvarchar(60), CAST([cutover_t].[Id] AS decimal(38, 0))), N'.', N'') AS [d0], "
                + "REPLACE(CONVERT(nvarchar(60), CAST([cutover_t].[Balance] AS decimal(38, 4))), N'.', N'') AS [d1]) AS [cutover_digits] CROSS APPLY (SELECT ",
            "SUBSTRING([cutover_digits].[d1], PATINDEX(N'%[1-9]%', [cutover_digits].[d1]), 60)",
            // Bounds past int's range are bigints, so the bucket is integer division.
            "(CAST([cutover_t].[Id] AS bigint) - CAST(-5 AS bigint)) / CAST(7 AS bigint) AS bucket", "[cutover_t].[Id] < CAST(3000000000 AS bigint)",
            "CONVERT(bigint, 0x00 + SUBSTRING(h, 1, 7)) * 16 + CONVERT(int, SUBSTRING(h, 8, 1)) / 16",
            "RTRIM(CONVERT(nvarchar(max), [cutover_t].[Code])) AS [v3]",
            "LOWER(CONVERT(nvarchar(max), CONVERT(char(36), [cutover_t].[Guid]))) AS [v4]",
            "CONVERT(nvarchar(max), [cutover_t].[OrgNode].ToString()) AS [v5]",
            "CONVERT(datetime2(7), CONVERT(varchar(27), [cutover_t].[CreatedAt], 121), 121)",
            "DATEDIFF_BIG(microsecond, CAST('1970-01-01 00:00:00 +00:00' AS datetimeoffset(7)), [cutover_t].[LastSeen])",
            "CONVERT(binary(4), [cutover_t].[Score])", "CONVERT(binary(8), [cutover_t].[Ratio])",
            "CASE WHEN [cutover_t].[IsActive] = 1 THEN N'1' WHEN [cutover_t].[IsActive] = 0 THEN N'0' END",
            "LOWER(CONVERT(varchar(max), CONVERT(varbinary(max), [cutover_t].[Photo]), 2))",
            "DATEDIFF(day, CONVERT(date, '19700101', 112), [cutover_t].[Born])",
            "DATEDIFF_BIG(microsecond, CONVERT(time(7), '00:00:00', 108), [cutover_t].[WakesAt])",
        ] {
            #expect(sql.contains(fragment), "\(fragment)")
        }
        // A form the type cannot give, or that T-SQL has no spelling of, means no checksum at all.
        let dialect = SQLServerDialect(utf8Collations: true)
        for column: ChecksumColumn in [("Doc", .json, "nvarchar(max)"), ("Ratio", .number(scale: 2), "float"), ("At", .date, "datetime2(7)")] {
            #expect(dialect.portableChecksumSQL(Self.table, columns: [column], key: "Id", range: 0..<10, width: 5) == nil, "\(column)")
        }
    }

    /// The fixture's checksums are what the script computes for the rows the CLI test loads into
    /// each target: PortableChecksum of their frames, one row a bucket.
    @Test func theFixturesChecksumsArePortableChecksums() throws {
        let path = try #require(TestEnvironment.fixturePath("sqlserver-aggregates.json"))
        let document = try JSONDecoder().decode(AggregatesFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let checksum = try #require(document.tables.first { $0.name == "Orders" }?.checksum)
        let forms = try #require(checksum.checksumForms)
        let rows: [[Value]] = [
            [.int(1), .int(10), .text("19.9900"), .text("new"), .text("2026-01-01")],
            [.int(2), .int(10), .text("5.5000"), .text("shipped"), .text("2026-01-02")],
            [.int(3), .int(11), .text("100.0000"), .text("new"), .text("2026-01-03")],
        ]
        #expect(checksum.forms == "n0,n0,n4,t,d" && checksum.low == 1 && checksum.high == 3 && checksum.width == 1)
        for (index, row) in rows.enumerated() {
            let hash = PortableChecksum.hash(zip(forms, row).map { form, value in form.text(value) })
            #expect(checksum.buckets[index] == .init(bucket: Int64(index), rows: 1, sum: String(hash)))
        }
        // The export's server is SQL Server 2022, so the script it writes computes them; a table without a single integer key has none.
        let script = SQLServerExtractScript.aggregates(of: try SQLServerExport(path: SQLServerExportTests.fixture).catalog)
        #expect(script.contains("SELECT @lo = MIN([OrderId]), @hi = MAX([OrderId]) FROM [dbo].[Orders];"))
        #expect(
            script.contains("(CAST([cutover_t].[OrderId] AS bigint) - @lo) / @w AS bucket")
                && script.contains("FROM [dbo].[Orders] AS [cutover_t] CROSS APPLY"))
        #expect(script.contains("N'n0,n0,n4,t,d' AS [forms]") && script.contains("JSON_QUERY(@checksum) AS [checksum]"))
        #expect(script.components(separatedBy: "SET @checksum").count == 3, "Customers and Orders, not Payments")
        var old = try SQLServerExport(path: SQLServerExportTests.fixture).catalog
        old.serverVersion = "Microsoft SQL Server 2017 (RTM-CU31) - 14.0.3456.2 (X64)"
        let without = SQLServerExtractScript.aggregates(of: old)
        #expect(!without.contains("@checksum") && without.contains("Without row checksums: they need SQL Server 2019"))
    }

    private struct AggregatesFile: Decodable {
        var tables: [SourceAggregates.Table]
    }
}

/// A dialect with every default, to see the standard spellings.
private struct PortableDialectProbe: Dialect {
    static let limit = PortableDialectProbe().limit("SELECT 1 ORDER BY 1", rows: 5, offset: 2)
    var engine: ConnectionURL.Engine { .postgres }
    var nameFolding: NameFolding { .lower }
    func typeChoice(for type: CanonicalType) -> TypeChoice { TypeChoice("text", "a probe") }
    func identityClause(for kind: IdentityKind, type: CanonicalType) -> String? { nil }
}
