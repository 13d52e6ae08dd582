import CutoverCore
import CutoverPostgres
import CutoverSnowflake
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// `cutover` as a user runs it against the Snowflake emulator: SQLite and PostgreSQL into
/// Snowflake, Snowflake back into PostgreSQL, upserts, validation and diff across engines.
@Suite(.enabled(if: TestEnvironment.hasSnowflake && TestEnvironment.hasPostgres)) struct SnowflakeCLITests {
    static func pgText(_ pg: ConnectionURL) -> String { "postgres://\(pg.user!):\(pg.password!)@\(pg.host!):\(pg.port!)/\(pg.database)" }

    /// A scratch directory, an emulator database and a PostgreSQL database.
    static func withBothEngines(_ body: (String, ConnectionURL, ConnectionURL) async throws -> Void) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withSnowflakeDatabase { sf in
                try await TestEnvironment.withPostgresDatabase { pg in try await body(dir, sf, pg) }
            }
        }
    }

    @Test func chinookFromSQLiteIntoSnowflakeAndOnIntoPostgres() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let snowflake = TestEnvironment.cliText(sf)
            let into = try await CLI.run(["migrate", "--source", "sqlite:\(chinook)", "--target", snowflake], in: dir)
            #expect(into.status == 0, "\(into.output)")
            #expect(into.stdout.contains("11/11 tables moved, 15,607 rows; validation: 11 passed, 0 failed"))
            #expect(!into.output.contains(sf.password!))

            let back = try await CLI.run(["migrate", "--source", snowflake, "--target", Self.pgText(pg)], in: dir)
            #expect(back.status == 0, "\(back.output)")
            #expect(back.stdout.contains("11/11 tables moved, 15,607 rows; validation: 11 passed, 0 failed"))

            // A change on the Snowflake side is found by validate and explained by diff.
            let connector = try await SnowflakeConnector(url: sf)
            try await connector.execute(#"UPDATE "PUBLIC"."Track" SET "Name" = 'changed' WHERE "TrackId" = 7"#)
            let validate = try await CLI.run(
                ["validate", "--source", "sqlite:\(chinook)", "--target", snowflake, "--tables", "Track,Album"], in: dir)
            #expect(validate.status == 1, "\(validate.output)")
            #expect(validate.stdout.contains("Track changed TrackId=7: Name"))
            let diff = try await CLI.run(
                ["diff", "--source", Self.pgText(pg), "--target", snowflake, "--table", "PUBLIC.Track", "--format", "json"], in: dir)
            #expect(diff.status == 1, "\(diff.output)")
            let report = try JSONSerialization.jsonObject(with: Data(diff.stdout.utf8)) as? [String: Any]
            let counts = report?["counts"] as? [String: Int]
            #expect(counts?["changed"] == 1 && counts?["missing"] == 0 && counts?["extra"] == 0, "\(diff.stdout)")
        }
    }

    @Test func postgresTypesIntoSnowflakeThenUpsert() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            try await TestEnvironment.psql(
                pg,
                """
                CREATE TABLE orders (
                  id bigint PRIMARY KEY, small smallint, amount numeric(12,2), ratio double precision, score real,
                  label varchar(20), code char(5), note text, paid boolean, due date, at timestamp(6), at_tz timestamptz,
                  clock time, doc jsonb, raw bytea, ref uuid);
                INSERT INTO orders VALUES
                  (1, -32768, 1234.50, -0.5, 1.5, 'héllo 世界', 'ab', E'line\\nbreak "q", c', true, '1969-07-20', '1960-01-02 03:04:05.123456',
                   '2024-01-02 03:04:05.25+02', '13:14:15.5', '{"b": 1, "a": [1, 2]}', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                  (2, NULL, NULL, NULL, NULL, '', NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (3, 7, -0.01, 'NaN', '-Infinity', 'x', 'abcde', NULL, false, '2000-02-29', '2000-02-29 23:59:59', '1999-12-31 23:00:00-05',
                   '00:00:00', '"s"', '\\x', NULL);
                """)
            let snowflake = TestEnvironment.cliText(sf)
            let into = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", snowflake], in: dir)
            #expect(into.status == 0, "\(into.output)")
            #expect(into.stdout.contains("1/1 tables moved, 3 rows; validation: 1 passed, 0 failed"), "\(into.output)")

            try await TestEnvironment.psql(
                pg, "UPDATE orders SET note = 'updated', amount = 99.99 WHERE id = 2; INSERT INTO orders (id, label) VALUES (4, 'new')")
            let upsert = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", snowflake, "--mode", "upsert"], in: dir)
            #expect(upsert.status == 0, "\(upsert.output)")
            #expect(upsert.stdout.contains("4 rows; validation: 1 passed, 0 failed"), "\(upsert.output)")
            let rows = try await SnowflakeConnector(url: sf).execute(#"SELECT "NOTE", "AMOUNT" FROM "PUBLIC"."ORDERS" WHERE "ID" = 2"#).rows
            #expect(rows == [[.text("updated"), .text("99.99")]])
            // CHAR(n) padding is not part of the value: Snowflake (whose CHAR is VARCHAR) holds 'ab', not 'ab   '.
            let code = try await SnowflakeConnector(url: sf).execute(#"SELECT "CODE" FROM "PUBLIC"."ORDERS" WHERE "ID" = 1"#).rows
            #expect(code == [[.text("ab")]], "\(code)")
        }
    }

    /// Every third query is refused with 429 (then 503) by a proxy: the run retries with backoff and
    /// completes exactly; with retries off, the error names the HTTP status.
    @Test(arguments: [429, 503])
    func throttledAndGatewayErrorsAreRetried(status: Int) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withSnowflakeDatabase { sf in
                let chinook = try TestEnvironment.chinookCopy(in: dir)
                let port = try FaultProxy.freePort()
                let emulatorPort = try #require(sf.parameters["port"].flatMap { Int($0) })
                let proxy = try FaultProxy.start(listen: port, target: emulatorPort, script: "throttling_proxy.py", extra: ["3", String(status)])
                // SIGKILL: a child spawned from a test thread may inherit a mask that blocks SIGTERM.
                defer { kill(proxy.processIdentifier, SIGKILL) }
                var parameters = sf.parameters
                parameters["port"] = String(port)
                let throughProxy = ConnectionURL(
                    engine: .snowflake, user: sf.user, password: sf.password, host: sf.host, database: sf.database,
                    schema: sf.schema, parameters: parameters)
                let migrate = try await CLI.run(
                    [
                        "migrate", "--source", "sqlite:\(chinook)", "--target", TestEnvironment.cliText(throughProxy),
                        "--tables", "Artist,Album", "--parallel", "1",
                    ], in: dir)
                #expect(migrate.status == 0, "\(migrate.output)")
                #expect(migrate.stdout.contains("2/2 tables moved, 622 rows; validation: 2 passed, 0 failed"), "\(migrate.output)")
                let refused = try await FaultProxy.refusals(port: port)
                #expect((Int(refused) ?? 0) > 5, "the proxy refused \(refused) requests")

                parameters["retries"] = "0"
                let noRetries = ConnectionURL(
                    engine: .snowflake, user: sf.user, password: sf.password, host: sf.host, database: sf.database,
                    schema: sf.schema, parameters: parameters)
                let analyze = try await CLI.run(["analyze", "--source", TestEnvironment.cliText(noRetries)], in: dir)
                #expect(analyze.status == 3, "\(analyze.output)")
                #expect(analyze.stderr.contains("Snowflake answered HTTP \(status)"), "\(analyze.output)")
            }
        }
    }

    @Test func aWrongSnowflakeURLIsAClearErrorThatKeepsThePasswordSecret() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let sf = try TestEnvironment.snowflakeURL()
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let closed = "snowflake://\(sf.user!):s3cret-pw@acct/DB/PUBLIC?host=127.0.0.1&port=9&protocol=http&retries=0&connect_timeout=1"
            let result = try await CLI.run(["migrate", "--source", "sqlite:\(chinook)", "--target", closed], in: dir)
            #expect(result.status == 3, "could not run")
            #expect(result.stderr.contains("cannot reach Snowflake at http://127.0.0.1:9"), "\(result.output)")
            #expect(!result.output.contains("s3cret-pw"))
            let noDatabase = try await CLI.run(["analyze", "--source", "snowflake://me:pw@acct"], in: dir)
            #expect(noDatabase.status == 2, "\(noDatabase.output)")
            #expect(noDatabase.stderr.contains("names no database"), "\(noDatabase.output)")
        }
    }
}

extension SnowflakeCLITests {
    /// Names read as each engine reads them, the same whichever side the engine is on: a table
    /// Cutover created in Snowflake as ORDERS is `orders` to a user, keys too; SQLite answers to `main.`.
    @Test func unquotedNamesResolveAsEachEngineResolvesThem() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withSnowflakeDatabase { sf in
                try CLI.sqliteFile(
                    dir + "/src.db",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC(10,2)); INSERT INTO orders VALUES (1, 1.5), (2, 2.5);")
                let snowflake = TestEnvironment.cliText(sf)
                let into = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", snowflake], in: dir)
                #expect(into.status == 0, "\(into.output)")
                let fromSnowflake = try await CLI.run(
                    ["diff", "--source", snowflake, "--target", "sqlite:src.db", "--table", "orders=orders", "--key", "id"], in: dir)
                #expect(fromSnowflake.status == 0, "\(fromSnowflake.output)")
                #expect(fromSnowflake.stdout.contains("identical"))
                let validate = try await CLI.run(["validate", "--source", snowflake, "--target", "sqlite:src.db", "--tables", "orders"], in: dir)
                #expect(validate.status == 0, "\(validate.output)")
                let sqliteSchema = try await CLI.run(["diff", "--source", "sqlite:src.db", "--target", snowflake, "--table", "main.orders"], in: dir)
                #expect(sqliteSchema.status == 0, "\(sqliteSchema.output)")
            }
        }
    }

    /// SQLite values that need more than their declared types land exactly in Snowflake too.
    @Test func sqliteValuesGetTypesThatHoldThemInSnowflake() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withSnowflakeDatabase { sf in
                try CLI.sqliteFile(dir + "/src.db", DataTrustTests.readings)
                let migrate = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", TestEnvironment.cliText(sf)], in: dir)
                #expect(migrate.status == 0, "\(migrate.output)")
                let connector = try await SnowflakeConnector(url: sf)
                let rows = try await connector.execute(
                    #"SELECT TO_VARCHAR("AMOUNT"), TO_VARCHAR("RATIO"), TO_VARCHAR("QTY"), "CODE" FROM "PUBLIC"."READINGS" ORDER BY "ID""#)
                #expect(rows.rows.first?.first == .text("0.00188"), "\(rows.rows)")
                #expect(rows.rows.dropFirst().first == [.text("12.50000"), .text("2.5"), .text("70000"), .text("abcdefg")], "\(rows.rows)")
            }
        }
    }

    /// PostgreSQL arrays land as Snowflake ARRAYs (nested, NULL elements, quoted text), also through
    /// an override to VARCHAR; a JSON number VARIANT rounds to a double is named by validation,
    /// never certified (the plan warns about json duplicate keys, which real Snowflake refuses or
    /// collapses; the emulator keeps them).
    @Test func arraysBecomeSnowflakeArraysAndCollapsedJSONIsNamed() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            try await TestEnvironment.psql(
                pg,
                """
                CREATE TABLE bags (id int PRIMARY KEY, ints int[], grid int[][], words text[], flags boolean[], amounts numeric[], kept text[]);
                INSERT INTO bags VALUES
                  (1, '{1,2,3}', '{{1,2},{3,NULL}}', ARRAY['a b', NULL, 'say "hi"', 'NULL', 'x,y'], '{t,f}', '{1.50,-0.25}', '{p,q}'),
                  (2, '{}', NULL, '{}', NULL, '{NaN}', NULL);
                CREATE TABLE docs (id int PRIMARY KEY, doc json);
                INSERT INTO docs VALUES (1, '{"a": 1, "dup": 1, "dup": 2}'), (2, '{"n": 12345678901234567890123.5}');
                """)
            try "overrides:\n  columns:\n    public.bags.kept: VARCHAR\n".write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let snowflake = TestEnvironment.cliText(sf)
            let plan = try await CLI.run(["plan", "--source", Self.pgText(pg), "--target-dialect", "snowflake"], in: dir)
            #expect(plan.stdout.contains("duplicate keys collapse"), "\(plan.output)")
            let arrays = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", snowflake, "--tables", "bags"], in: dir)
            #expect(arrays.status == 0, "\(arrays.output)")
            #expect(arrays.stdout.contains("validation: 1 passed, 0 failed"), "\(arrays.output)")
            let connector = try await SnowflakeConnector(url: sf)
            let stored = try await connector.execute(
                #"SELECT "words"[2]::VARCHAR, ARRAY_SIZE("grid"), "grid"::VARCHAR, "kept" FROM "PUBLIC"."bags" WHERE "id" = 1"#)
            #expect(stored.rows.first?.prefix(3).map(\.displayText) == ["say \"hi\"", "2", "[[1,2],[3,null]]"], "\(stored.rows)")
            #expect(stored.rows.first?.last?.displayText == #"["p","q"]"#, "an override to VARCHAR keeps the JSON text: \(stored.rows)")

            let docs = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", snowflake, "--tables", "docs"], in: dir)
            #expect(docs.status == 1, "\(docs.output)")
            #expect(docs.stdout.contains("docs changed id=2: doc"), "\(docs.output)")
            #expect(!docs.stdout.contains("id=1"), "\(docs.output)")
        }
    }

    /// The schema in a Snowflake target URL is where the tables go; two source tables that would
    /// land in one target table are refused before anything is written.
    @Test func theTargetURLsSchemaIsWhereTablesLand() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            try await TestEnvironment.psql(
                pg,
                """
                CREATE SCHEMA dim; CREATE SCHEMA fact;
                CREATE TABLE dim.customer (id int PRIMARY KEY, name text); INSERT INTO dim.customer VALUES (1, 'a');
                CREATE TABLE fact.customer (id int PRIMARY KEY, spend int); INSERT INTO fact.customer VALUES (1, 5);
                """)
            let raw = TestEnvironment.cliText(sf).replacingOccurrences(of: "/PUBLIC?", with: "/RAW?")
            let both = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", raw], in: dir)
            #expect(both.status == 2, "\(both.output)")
            #expect(both.stderr.contains("dim.customer and fact.customer would all land in one target table"), "\(both.output)")
            let one = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", raw, "--schema", "dim"], in: dir)
            #expect(one.status == 0, "\(one.output)")
            let rows = try await SnowflakeConnector(url: sf).execute(#"SELECT "name" FROM "RAW"."customer""#)
            #expect(rows.rows == [[.text("a")]])
        }
    }

    /// Snowflake sources split into chunks like the others: by NUMBER(38,0) keys (what Snowflake's
    /// INT is), by date keys, by text keys (in byte order) and, without a key, by row-hash buckets
    /// (duplicate and NULL rows included), and arrive exactly.
    @Test func snowflakeSourcesLoadInChunks() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            let connector = try await SnowflakeConnector(url: sf)
            try await connector.execute(#"CREATE TABLE "PUBLIC"."EVENTS" ("ID" NUMBER(38,0) PRIMARY KEY, "V" VARCHAR)"#)
            try await connector.execute(#"CREATE TABLE "PUBLIC"."DAYS" ("DAY" DATE PRIMARY KEY, "V" VARCHAR)"#)
            try await connector.execute(#"CREATE TABLE "PUBLIC"."CODES" ("CODE" VARCHAR(20) PRIMARY KEY, "V" VARCHAR)"#)
            let codes = (1...3000).map { "('\(["a", "B", "é"][$0 % 3])\($0)', 'c\($0)')" }.joined(separator: ", ")
            try await connector.execute(#"INSERT INTO "PUBLIC"."CODES" VALUES "# + codes)
            let ids = (1...3000).map { "(\($0 * 7), 'v\($0)')" }.joined(separator: ", ")
            try await connector.execute(#"INSERT INTO "PUBLIC"."EVENTS" VALUES "# + ids)
            let days = (0..<3000).map { "(DATEADD(day, \($0), '2015-01-01'::DATE), 'd\($0)')" }.joined(separator: ", ")
            try await connector.execute(#"INSERT INTO "PUBLIC"."DAYS" VALUES "# + days)
            try await connector.execute(#"CREATE TABLE "PUBLIC"."LOGS" ("AT" NUMBER(38,0), "MSG" VARCHAR)"#)
            let logs = (1...3000).map { "(\($0 % 700 == 0 ? "NULL" : String($0 % 1500)), \($0 % 11 == 0 ? "NULL" : "'m\($0 % 1500)'"))" }.joined(
                separator: ", ")
            try await connector.execute(#"INSERT INTO "PUBLIC"."LOGS" VALUES "# + logs)
            let move = try await CLI.run(
                ["migrate", "--source", TestEnvironment.cliText(sf), "--target", Self.pgText(pg), "--chunk-rows", "1000"], in: dir)
            #expect(move.status == 0, "\(move.output)")
            #expect(move.stdout.contains("validation: 4 passed, 0 failed"), "\(move.output)")
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
            let run = try #require(try await store.runs(limit: 1).first)
            let chunks = Dictionary(grouping: try await store.chunks(runID: run.id), by: \.table).mapValues(\.count)
            #expect(
                chunks["PUBLIC.EVENTS"] ?? 0 >= 3 && chunks["PUBLIC.DAYS"] ?? 0 >= 3 && chunks["PUBLIC.CODES"] ?? 0 >= 3
                    && chunks["PUBLIC.LOGS"] == 3, "\(chunks)")
            let landed = try await PostgresConnector(url: pg).execute(
                #"SELECT count(*), count(DISTINCT coalesce("AT"::text, '-') || '|' || coalesce("MSG", '-')), count("AT"), count("MSG") FROM "PUBLIC"."LOGS""#
            )
            #expect(landed.rows.first?.map(\.displayText) == ["3000", "1775", "2996", "2728"], "\(landed.rows)")
        }
    }

    /// Snowflake cannot restart an identity after the load, so the table is created with it
    /// starting past the source's largest value: the first row inserted afterwards does not collide.
    @Test func identitiesStartPastTheLoadedValues() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            try await TestEnvironment.psql(
                pg,
                "CREATE TABLE tickets (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title text); "
                    + "INSERT INTO tickets VALUES (1, 'a'), (2, 'b'), (40, 'c')")
            let move = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", TestEnvironment.cliText(sf)], in: dir)
            #expect(move.status == 0, "\(move.output)")
            let connector = try await SnowflakeConnector(url: sf)
            try await connector.execute(#"INSERT INTO "PUBLIC"."tickets" ("title") VALUES ('new')"#)
            let rows = try await connector.execute(#"SELECT "id" FROM "PUBLIC"."tickets" WHERE "title" = 'new'"#)
            #expect(rows.rows.first?.first?.displayText == "41", "\(rows.rows)")
        }
    }

    /// Staged files are gzip-compressed by default; `stage_compression=none` stages them plain, and
    /// both arrive exactly; `keep_staged_files=true` keeps them with a manifest. An unknown setting
    /// is a usage error.
    @Test func stagedFilesLoadCompressedOrPlain() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withSnowflakeDatabase { sf in
                let chinook = try TestEnvironment.chinookCopy(in: dir)
                for mode in ["gzip", "none"] {
                    let target = TestEnvironment.cliText(sf) + "&stage_compression=\(mode)"
                    let move = try await CLI.run(
                        ["migrate", "--source", "sqlite:\(chinook)", "--target", target, "--tables", "Track", "--replace"], in: dir)
                    #expect(move.status == 0 && move.stdout.contains("3,503 rows; validation: 1 passed"), "\(mode): \(move.output)")
                }
                // keep_staged_files: the files stay in CUTOVER_STAGE, named by run, table, chunk and attempt, with a manifest.
                let kept = try await CLI.run(
                    [
                        "migrate", "--source", "sqlite:\(chinook)", "--target", TestEnvironment.cliText(sf) + "&keep_staged_files=true",
                        "--tables", "Track", "--replace", "--chunk-rows", "2000",
                    ], in: dir)
                #expect(kept.status == 0 && kept.stdout.contains("3,503 rows; validation: 1 passed"), "\(kept.output)")
                let run = try #require(CLI.runID(in: kept.stdout))
                let listed = try await SnowflakeConnector(url: sf).execute("LIST @CUTOVER_STAGE").rows.compactMap { $0.first?.displayText }
                for chunk in ["0000", "0001"] {
                    for file in ["part_0001.csv.gz", "manifest.json"] {
                        #expect(listed.contains { $0.hasSuffix("\(run)/Track_chunk_\(chunk)_attempt_1/\(file)") }, "\(run) \(listed)")
                    }
                }
                for (setting, value) in [("stage_compression", "zip"), ("keep_staged_files", "yes")] {
                    let bad = try await CLI.run(["analyze", "--source", TestEnvironment.cliText(sf) + "&\(setting)=\(value)"], in: dir)
                    #expect(bad.status == 2 && bad.stderr.contains("\(setting)=\(value)"), "\(bad.output)")
                }
            }
        }
    }

    /// PostgreSQL money leaves as the number it is (its text follows lc_monetary: "$1,234.50"), so
    /// it lands in a NUMBER column in Snowflake and in SQLite, and validates.
    @Test func moneyMovesAsANumber() async throws {
        try await Self.withBothEngines { dir, sf, pg in
            try await TestEnvironment.psql(
                pg,
                "CREATE TABLE fees (id int PRIMARY KEY, amount money); "
                    + "INSERT INTO fees VALUES (1, 1.25), (2, -1234567.5), (3, NULL), (4, 92233720368547758.07)")
            for target in [TestEnvironment.cliText(sf), "sqlite:fees.db"] {
                let move = try await CLI.run(["migrate", "--source", Self.pgText(pg), "--target", target], in: dir)
                #expect(move.status == 0 && move.stdout.contains("validation: 1 passed"), "\(target): \(move.output)")
            }
            let rows = try await SnowflakeConnector(url: sf).execute(#"SELECT "amount" FROM "PUBLIC"."fees" ORDER BY "id""#)
            #expect(rows.rows.map { $0.first?.displayText } == ["1.25", "-1234567.50", "NULL", "92233720368547758.07"], "\(rows.rows)")
        }
    }
}
