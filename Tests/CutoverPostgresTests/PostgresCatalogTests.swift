import CutoverCore
import CutoverPostgres
import CutoverTesting
import Testing

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PostgresCatalogTests {
    @Test func introspectsEveryTypeKeyIndexAndObject() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(url, Schemas.everyPostgresType)
            let catalog = try await PostgresConnector(url: url).catalog(Scope(schemas: ["shop"]))
            let table = try #require(catalog.table(TableRef(schema: "shop", name: "all_types")))
            func type(_ name: String) -> CanonicalType? { table.column(named: name)?.canonical }
            #expect(type("small_value") == .integer(bits: 16))
            #expect(type("int_value") == .integer(bits: 32))
            #expect(type("big_value") == .integer(bits: 64))
            #expect(type("exact") == .decimal(precision: 38, scale: 10))
            #expect(type("loose") == .decimal(precision: nil, scale: nil))
            #expect(type("real_value") == .float(bits: 32))
            #expect(type("double_value") == .float(bits: 64))
            #expect(type("short_text") == .text(maxLength: 20))
            #expect(type("long_text") == .text(maxLength: nil))
            #expect(type("fixed") == .char(length: 3))
            #expect(type("flag") == .boolean)
            #expect(type("raw") == .binary)
            #expect(type("day") == .date)
            #expect(type("clock") == .time(withTimeZone: false))
            #expect(type("clock_tz") == .time(withTimeZone: true))
            #expect(type("stamp") == .timestamp(withTimeZone: false, precision: 6))
            #expect(type("stamp_tz") == .timestamp(withTimeZone: true, precision: 6))
            #expect(type("span") == .interval)
            #expect(type("uid") == .uuid)
            #expect(type("doc") == .json(binary: false))
            #expect(type("docb") == .json(binary: true))
            #expect(type("tags") == .array(of: .text(maxLength: nil)))
            #expect(type("scores") == .array(of: .integer(bits: 32)))
            #expect(type("feeling") == .enumeration(name: "mood", values: ["sad", "ok", "happy"]))
            #expect(type("amount") == .decimal(precision: 12, scale: 2))
            #expect(table.column(named: "amount")?.domain == "positive_amount")
            #expect(table.column(named: "id")?.identity == .always)
            #expect(table.column(named: "int_value")?.isNullable == false)
            #expect(table.column(named: "int_value")?.defaultExpression == "0")
            #expect(table.primaryKey?.columns == ["id"])
            #expect(table.foreignKeys.first?.referencedTable == TableRef(schema: "shop", name: "customers"))
            #expect(table.foreignKeys.first?.onDelete == "SET NULL")
            #expect(table.checks.contains { $0.name == "small_positive" })
            #expect(table.indexes.map(\.name) == ["all_types_day"])
            #expect(table.indexes.first?.columns == ["day", "customer_id"])

            let customers = try #require(catalog.table(TableRef(schema: "shop", name: "customers")))
            #expect(customers.column(named: "id")?.identity == .serial)
            #expect(customers.uniqueKeys.first?.columns == ["email"])
            #expect(customers.comment == "people who buy")
            #expect(customers.column(named: "email")?.comment == "login e-mail")
            #expect(customers.column(named: "created_at")?.canonical == .timestamp(withTimeZone: false, precision: 3))
            #expect(customers.rowCount == 2)
            #expect(customers.rowCountIsExact)
            #expect((customers.sizeBytes ?? 0) > 0)

            let events = try #require(catalog.table(TableRef(schema: "shop", name: "events")))
            #expect(events.kind == .partitioned)
            #expect(events.rowCount == 2)
            #expect(catalog.table(TableRef(schema: "shop", name: "events_2024"))?.partitionOf == events.ref)
            #expect(!catalog.dataTables.contains { $0.ref.name == "events_2024" })
            #expect(catalog.table(TableRef(schema: "shop", name: "happy_customers"))?.kind == .view)
            #expect(catalog.sequences.contains { $0.name == "invoice_numbers" && $0.start == 1000 && $0.increment == 10 })
            #expect(catalog.enums.first?.values == ["sad", "ok", "happy"])
            #expect(catalog.domains.first?.checks.first?.contains("VALUE > ") == true)
            #expect(catalog.table(TableRef(schema: "shop", name: "keyless"))?.rowKey == nil)
        }
    }

    @Test func missingSchemaNamesTheSchemaAndListsWhatExists() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            await #expect {
                try await PostgresConnector(url: url).catalog(Scope(schemas: ["nope"]))
            } throws: { error in
                let error = error as! CutoverError
                return error.code == .schemaNotFound && error.description.contains("'nope'") && error.description.contains("public")
            }
        }
    }

    @Test func missingTableIsNamed() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            await #expect {
                try await PostgresConnector(url: url).catalog(Scope(tables: ["ghost"]))
            } throws: { error in
                (error as? CutoverError)?.code == .tableNotFound && "\(error)".contains("ghost")
            }
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PostgresConnectionErrorTests {
    @Test func wrongPasswordSaysSoWithoutShowingIt() async throws {
        let admin = try TestEnvironment.postgresURL()
        let url = ConnectionURL(
            engine: .postgres, user: admin.user, password: "wrong-password-123", host: admin.host, port: admin.port, database: admin.database)
        await #expect {
            try await PostgresConnector(url: url)
        } throws: { error in
            let error = error as! CutoverError
            return error.code == .authenticationFailed && !error.description.contains("wrong-password-123") && error.hint != nil
        }
    }

    @Test func missingDatabaseIsNamed() async throws {
        var url = try TestEnvironment.postgresURL()
        url = ConnectionURL(engine: .postgres, user: url.user, password: url.password, host: url.host, port: url.port, database: "no_such_db")
        await #expect {
            try await PostgresConnector(url: url)
        } throws: { error in
            (error as? CutoverError)?.code == .databaseNotFound && "\(error)".contains("no_such_db")
        }
    }

    @Test func unreachableServerSaysWhereItLooked() async throws {
        let url = try ConnectionURL(parsing: "postgres://u:pw@127.0.0.1:1/db?connect_timeout=2")
        await #expect {
            try await PostgresConnector(url: url)
        } throws: { error in
            let error = error as! CutoverError
            return error.code == .connectionFailed && error.description.contains("127.0.0.1:1") && !error.description.contains(":pw@")
        }
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PostgresCopyTests {
    /// Values that break naive COPY/CSV handling survive a read → write round trip untouched.
    @Test func awkwardValuesRoundTripThroughCopy() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(
                url,
                """
                CREATE TABLE src (id int PRIMARY KEY, t text, b bytea, f float8, n numeric(38,10), ts timestamptz, flag boolean, j jsonb, a text[]);
                CREATE TABLE dst (LIKE src INCLUDING ALL);
                INSERT INTO src VALUES
                  (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (2, '', '\\x', '-0'::float8, 0, '2024-01-02 03:04:05.123456+02', true, '{"b":1,"a":2}', '{}'),
                  (3, E'\\\\N', '\\x00ff10', 'NaN', 1234567890123456789012345678.0123456789, '1970-01-01 00:00:00+00', false, '[]', '{NULL,"x y","a,b"}'),
                  (4, 'NULL', '\\x5c', 'Infinity', -0.0000000001, '2262-04-11 23:47:16.854775+00', NULL, '"s"', '{"{}"}'),
                  (5, E'tab\\tnew\\nline\\rcr back\\\\slash "quote" ''apos''', '\\x0a0d09', '-Infinity', 1, NULL, NULL, 'null', NULL),
                  (6, 'emoji 🚀 日本語 é', NULL, 1.7976931348623157e308, NULL, NULL, NULL, NULL, NULL),
                  (7, ' padded ', NULL, 1e-300, NULL, NULL, NULL, NULL, NULL),
                  (8, repeat('x', 100000), NULL, 5e-324, NULL, NULL, NULL, NULL, NULL);
                """)
            let connector = try await PostgresConnector(url: url)
            let table = try #require(try await connector.catalog(Scope(tables: ["src"])).table(TableRef(schema: "public", name: "src")))
            let stream = connector.read(ReadRequest(table: table.ref, columns: table.columns, orderBy: [table.columns[0]], batchSize: 3))
            let stats = try await connector.write(stream, to: TableRef(schema: "public", name: "dst"), columns: table.columns)
            #expect(stats.rows == 8)
            let diff = try await connector.execute(
                """
                SELECT count(*) FROM (
                  (SELECT id, t, b, f::text, n, ts, flag, j, a FROM src EXCEPT SELECT id, t, b, f::text, n, ts, flag, j, a FROM dst)
                  UNION ALL
                  (SELECT id, t, b, f::text, n, ts, flag, j, a FROM dst EXCEPT SELECT id, t, b, f::text, n, ts, flag, j, a FROM src)) d
                """)
            #expect(diff.rows.first?.first == .text("0"))
            let negativeZero = try await connector.execute("SELECT f::text FROM dst WHERE id = 2")
            #expect(negativeZero.rows.first?.first == .text("-0"))
        }
    }
}

/// A connector pinned to an exported snapshot sees one moment in every session it opens.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PostgresSnapshotTests {
    @Test func queriesAndReadsThroughASnapshotSeeOneMoment() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(
                url, "CREATE TABLE t (id bigint PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;")
            let live = try await PostgresConnector(url: url)
            let snapshot = try #require(try await live.snapshot(of: []))
            let view = (connector: try #require(snapshot.connector), description: snapshot.description)
            #expect(view.description.contains("REPEATABLE READ"))
            try await TestEnvironment.psql(
                url, "INSERT INTO t VALUES (101, 'later'); DELETE FROM t WHERE id = 1; UPDATE t SET v = 'changed' WHERE id = 2;")
            #expect(try await view.connector.rowCount(TableRef(schema: "public", name: "t")) == 100)
            #expect(try await live.rowCount(TableRef(schema: "public", name: "t")) == 100)  // 101 - 1
            let now = try await live.execute("SELECT v FROM t WHERE id = 2").rows.first?.first?.displayText
            let then = try await view.connector.execute("SELECT v FROM t WHERE id = 2").rows.first?.first?.displayText
            #expect(now == "changed" && then == "v2")
            // A streamed read in its own session sees the same moment.
            let catalog = try await live.catalog(Scope(schemas: ["public"]))
            let table = try #require(catalog.table(TableRef(schema: "public", name: "t")))
            var ids: [String] = []
            for try await batch in view.connector.read(ReadRequest(table: table.ref, columns: table.columns, orderBy: [table.columns[0]])) {
                for row in 0..<batch.rowCount { ids.append(batch[row, 0].displayText) }
            }
            #expect(ids.first == "1" && ids.last == "100" && ids.count == 100)
        }
    }
}

extension PostgresCatalogTests {
    /// Pagila creates a materialized view WITH NO DATA: reading it fails (SQLSTATE 55000), so the
    /// catalog notes it instead of counting it, and the rest is analyzed.
    @Test func anUnpopulatedMaterializedViewIsNotedNotCounted() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            try await TestEnvironment.psql(
                url,
                """
                CREATE TABLE film (id int PRIMARY KEY, title text); INSERT INTO film VALUES (1, 'a'), (2, 'b');
                CREATE MATERIALIZED VIEW rental_by_category AS SELECT title, count(*) AS n FROM film GROUP BY title WITH NO DATA;
                """)
            let catalog = try await PostgresConnector(url: url).catalog(Scope(schemas: ["public"]))
            let view = try #require(catalog.table(TableRef(schema: "public", name: "rental_by_category")))
            #expect(view.rowCount == nil)
            #expect(view.notes?.first?.contains("not populated") == true)
            #expect(catalog.table(TableRef(schema: "public", name: "film"))?.rowCount == 2)
        }
    }
}
