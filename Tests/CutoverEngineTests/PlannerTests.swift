import CutoverCore
import CutoverEngine
import CutoverPostgres
import CutoverSQLite
import CutoverTesting
import Testing

@Suite struct PlannerChinookTests {
    func chinookCatalog(_ directory: String) async throws -> (Catalog, ConnectionURL) {
        let url = ConnectionURL(engine: .sqlite, database: try TestEnvironment.chinookCopy(in: directory))
        return (try await SQLiteConnector(url: url, createIfMissing: false).catalog(Scope()), url)
    }

    @Test func chinookIsAnalyzedCompletely() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (catalog, _) = try await chinookCatalog(dir)
            #expect(
                catalog.dataTables.map(\.ref.name).sorted() == [
                    "Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "MediaType", "Playlist", "PlaylistTrack", "Track",
                ])
            let track = try #require(catalog.table(TableRef(schema: nil, name: "Track")))
            #expect(track.rowCount == 3503)
            #expect(track.primaryKey?.columns == ["TrackId"])
            #expect(track.column(named: "TrackId")?.identity == .rowid)
            #expect(track.column(named: "UnitPrice")?.canonical == .decimal(precision: 10, scale: 2))
            #expect(track.column(named: "Name")?.canonical == .text(maxLength: 200))
            #expect(Set(track.foreignKeys.map(\.referencedTable.name)) == ["Album", "Genre", "MediaType"])
            #expect(track.indexes.contains { $0.columns == ["AlbumId"] })
            #expect(catalog.table(TableRef(schema: nil, name: "PlaylistTrack"))?.primaryKey?.columns == ["PlaylistId", "TrackId"])
            #expect(
                catalog.table(TableRef(schema: nil, name: "Invoice"))?.column(named: "InvoiceDate")?.canonical
                    == .timestamp(withTimeZone: false, precision: nil))
        }
    }

    @Test func chinookToSnowflakeMapsEveryColumnWithARationale() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (catalog, url) = try await chinookCatalog(dir)
            let plan = try Planner(targetEngine: .snowflake).plan(catalog, source: url)
            let columns = plan.tables.flatMap(\.columns)
            #expect(columns.count == catalog.dataTables.reduce(0) { $0 + $1.columns.count })
            #expect(columns.allSatisfy { !$0.targetType.isEmpty && !$0.rationale.isEmpty })
            #expect(plan.unmappable.isEmpty)
            let track = try #require(plan.table(TableRef(schema: nil, name: "Track")))
            #expect(track.target == TableRef(schema: "PUBLIC", name: "Track"))
            #expect(track.columns.first { $0.column == "UnitPrice" }?.targetType == "NUMBER(10,2)")
            #expect(track.columns.first { $0.column == "TrackId" }?.targetType == "NUMBER(19,0)")
            #expect(track.columns.first { $0.column == "Name" }?.rationale.contains("SQLite never enforced") == true)
            let ddl = PlanArtifacts.ddl(plan)
            #expect(ddl.contains("CREATE TABLE IF NOT EXISTS \"PUBLIC\".\"Track\""))
            #expect(ddl.contains("\"TrackId\" NUMBER(19,0) IDENTITY(1,1) NOT NULL"))
            #expect(ddl.contains("FOREIGN KEY (\"AlbumId\") REFERENCES \"PUBLIC\".\"Album\" (\"AlbumId\")"))
            #expect(!ddl.contains("CREATE INDEX"))
            #expect(PlanArtifacts.recommendations(plan).contains("no secondary indexes"))
        }
    }

    @Test func mappingDecisionsAreWrittenAsYAMLWithEveryField() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (catalog, url) = try await chinookCatalog(dir)
            let plan = try Planner(targetEngine: .postgres).plan(catalog, source: url)
            let files = try PlanArtifacts.write(plan, to: dir + "/plan")
            #expect(files.count == 3)
            let yaml = try String(contentsOfFile: files[0], encoding: .utf8)
            for key in ["source_type:", "target_type:", "rationale:", "lossy:", "needs_review:", "canonical_type:"] { #expect(yaml.contains(key)) }
            #expect(yaml.contains("target_dialect: postgres"))
        }
    }

    @Test func overridesFromConfigWin() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (catalog, url) = try await chinookCatalog(dir)
            let overrides = TypeOverrides(types: ["NUMERIC(10,2)": "NUMBER(12,4)"], columns: ["Track.Composer": "VARCHAR(1000)"])
            let plan = try Planner(targetEngine: .snowflake, overrides: overrides).plan(catalog, source: url)
            let track = try #require(plan.table(TableRef(schema: nil, name: "Track")))
            #expect(track.columns.first { $0.column == "Composer" }?.targetType == "VARCHAR(1000)")
            #expect(track.columns.first { $0.column == "UnitPrice" }?.targetType == "NUMBER(12,4)")
            #expect(track.columns.first { $0.column == "UnitPrice" }?.override?.contains("cutover.yml") == true)
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PlannerPostgresTests {
    /// The PostgreSQL → Snowflake map from the issue, column by column.
    @Test func postgresToSnowflakeFollowsTheMap() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(url, Schemas.everyPostgresType)
            let catalog = try await PostgresConnector(url: url).catalog(Scope(schemas: ["shop"]))
            let plan = try Planner(targetEngine: .snowflake).plan(catalog, source: url)
            let table = try #require(plan.table(TableRef(schema: "shop", name: "all_types")))
            #expect(table.target == TableRef(schema: "SHOP", name: "ALL_TYPES"))
            func target(_ column: String) -> MappingDecision? { table.columns.first { $0.column == column } }
            let expected: [String: String] = [
                "small_value": "NUMBER(5,0)", "int_value": "NUMBER(10,0)", "big_value": "NUMBER(19,0)", "exact": "NUMBER(38,10)",
                "money_like": "NUMBER(12,2)", "real_value": "FLOAT", "double_value": "FLOAT", "short_text": "VARCHAR(20)", "long_text": "VARCHAR",
                "fixed": "CHAR(3)", "flag": "BOOLEAN", "raw": "BINARY", "day": "DATE", "clock": "TIME", "stamp": "TIMESTAMP_NTZ(6)",
                "stamp_tz": "TIMESTAMP_TZ(6)", "uid": "VARCHAR(36)", "doc": "VARIANT", "docb": "VARIANT", "tags": "ARRAY", "scores": "ARRAY",
                "feeling": "VARCHAR(5)", "amount": "NUMBER(12,2)", "id": "NUMBER(19,0)",
            ]
            for (column, type) in expected { #expect(target(column)?.targetType == type, "\(column)") }
            #expect(target("loose")?.needsReview == true)
            #expect(target("clock_tz")?.lossy == true)
            #expect(target("feeling")?.rationale.contains("sad, ok, happy") == true)
            #expect(target("amount")?.rationale.contains("positive_amount") == true)
            #expect(target("id")?.targetColumn == "ID")
            let customers = try #require(plan.table(TableRef(schema: "shop", name: "customers")))
            #expect(customers.columns.first { $0.column == "id" }?.rationale.contains("serial becomes an identity") == true)
            let ddl = PlanArtifacts.ddl(plan)
            #expect(ddl.contains("\"ID\" NUMBER(19,0) IDENTITY(1,1) NOT NULL"))
            #expect(ddl.contains("COMMENT ON TABLE \"SHOP\".\"CUSTOMERS\" IS 'people who buy'"))
            #expect(ddl.contains("CREATE SCHEMA IF NOT EXISTS \"SHOP\""))
            #expect(plan.recommendations.contains { $0.contains("small_positive") })
            #expect(plan.recommendations.contains { $0.contains("keyless") })
        }
    }

    @Test func postgresToPostgresKeepsNativeTypesEnumsAndDomains() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(url, Schemas.everyPostgresType)
            let catalog = try await PostgresConnector(url: url).catalog(Scope(schemas: ["shop"]))
            let plan = try Planner(targetEngine: .postgres).plan(catalog, source: url)
            let table = try #require(plan.table(TableRef(schema: "shop", name: "all_types")))
            #expect(table.columns.first { $0.column == "feeling" }?.targetType == "shop.mood")
            #expect(table.columns.first { $0.column == "stamp_tz" }?.targetType == "timestamp with time zone")
            let ddl = PlanArtifacts.ddl(plan)
            #expect(ddl.contains("CREATE TYPE \"shop\".\"mood\" AS ENUM ('sad', 'ok', 'happy')"))
            #expect(ddl.contains("CREATE DOMAIN \"shop\".\"positive_amount\""))
            #expect(ddl.contains("CONSTRAINT \"small_positive\" CHECK"))
            #expect(ddl.contains("CREATE INDEX IF NOT EXISTS all_types_day"))
            // The DDL runs cleanly on an empty database.
            try await TestEnvironment.withPostgresDatabase { empty in
                try await TestEnvironment.psql(empty, plan.preDataDDL.joined(separator: ";\n") + ";\n" + plan.postDataDDL.joined(separator: ";\n"))
            }
        }
    }
}
