import CutoverCore
import CutoverPostgres
import CutoverSQLServer
import CutoverSnowflake
import CutoverTesting
import Foundation
import Testing

/// SQL Server without a network path to it, as a user runs it: the extract script, then analyze and
/// plan from its export (written in the shapes SQL Server's FOR JSON gives), the planned DDL run on
/// PostgreSQL and the Snowflake emulator, and a clear refusal where rows are needed.
@Suite struct SQLServerCLITests {
    @Test func analyzeAndPlanFromAnExportAndTheDDLRunsOnBothTargets() async throws {
        let fixture = try #require(TestEnvironment.fixturePath("sqlserver-export.json"))
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: fixture, toPath: dir + "/retail.json")
            let script = try await CLI.run(["sqlserver", "extract-script", "--schema", "dbo", "--tables", "Orders,sales.Payments"], in: dir)
            #expect(script.status == 0 && script.stdout.contains("FOR JSON PATH") && script.stdout.contains("t.name = N'Orders'"), "\(script.output)")

            let analyzed = try await CLI.run(["analyze", "--source", "sqlserver-export:retail.json"], in: dir)
            #expect(analyzed.status == 0, "\(analyzed.output)")
            #expect(analyzed.stdout.contains("3 tables") && analyzed.stdout.contains("dbo.Orders") && analyzed.stdout.contains("48,211~"))
            #expect(analyzed.stdout.contains("what the types mean on the way to another engine") && analyzed.stdout.contains("review: sql_variant"))

            for (dialect, target) in [("postgres", "pg"), ("snowflake", "sf")] {
                let planned = try await CLI.run(
                    ["plan", "--source", "sqlserver-export:\(dir)", "--target-dialect", dialect, "--out", dir + "/plan-" + target], in: dir)
                #expect(planned.status == 0, "\(planned.output)")
                #expect(planned.stdout.contains("4 to review"), "\(planned.stdout)")
                let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/plan-" + target)
                let folder = dir + "/plan-\(target)/" + (try #require(runs.first))
                let ddl = try String(contentsOfFile: folder + "/target_objects.sql", encoding: .utf8)
                let decisions = try String(contentsOfFile: folder + "/mapping_decisions.yml", encoding: .utf8)
                #expect(decisions.contains("1/300 s") && decisions.contains("mixed-endian"))
                if dialect == "postgres" {
                    #expect(ddl.contains(#""LastSeen" timestamp"#) && ddl.contains(#""Guid" uuid"#) && ddl.contains(#""Age" smallint"#), "\(ddl)")
                    try await TestEnvironment.withPostgresDatabase { pg in try await TestEnvironment.psql(pg, ddl) }
                } else {
                    #expect(ddl.contains(#""LastSeen" TIMESTAMP_TZ(7)"#) && ddl.contains(#""Balance" NUMBER(19,4)"#), "\(ddl)")
                    try await TestEnvironment.withSnowflakeDatabase { sf in
                        let connector = try await SnowflakeConnector(url: sf)
                        // The emulator (DuckDB) cannot add a foreign key to an existing table; Snowflake can.
                        let beforeTheData = ddl.components(separatedBy: "-- Part 2").first ?? ddl
                        for statement in beforeTheData.components(separatedBy: ";\n") {
                            let sql = statement.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n")
                            if !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { try await connector.execute(sql) }
                        }
                        let columns = try await connector.execute(
                            "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'DBO' AND TABLE_NAME = 'Customers'")
                        #expect(columns.rows.first?.first?.displayText == "36")
                    }
                }
            }

            // Rows need a live connection: said plainly, nothing written.
            let migrate = try await CLI.run(["migrate", "--source", "sqlserver-export:retail.json", "--target", "sqlite:out.db"], in: dir)
            #expect(migrate.status == 2 && migrate.output.contains("not rows") && migrate.output.contains("sqlserver://"), "\(migrate.output)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.db"))
            // A live URL goes through FreeTDS: a server out of reach is named (not its password), exit 3.
            let live = try await CLI.run(["analyze", "--source", "sqlserver://sa:secret-pw@127.0.0.1:1/Retail"], in: dir)
            #expect(
                live.status == 3 && live.output.contains("cannot connect to SQL Server at sqlserver://sa:***@127.0.0.1:1/Retail")
                    && !live.output.contains("secret-pw"), "\(live.output)")
            let noLibrary = try await CLI.run(
                ["analyze", "--source", "sqlserver://sa:secret-pw@127.0.0.1:1/Retail"], in: dir,
                environment: ["CUTOVER_FREETDS_LIBRARY": dir + "/no-libsybdb.so"])
            #expect(
                noLibrary.status == 3 && noLibrary.output.contains("FreeTDS's DB-Library (libsybdb)")
                    && noLibrary.output.contains("apt-get install libsybdb5")
                    && noLibrary.output.contains("sqlserver-export"), "\(noLibrary.output)")
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            let asTarget = try await CLI.run(
                ["migrate", "--source", "sqlite:\(chinook)", "--target", "sqlserver://sa:secret-pw@127.0.0.1:1/Retail"], in: dir)
            #expect(asTarget.status == 2 && asTarget.output.contains("source only") && !asTarget.output.contains("secret-pw"), "\(asTarget.output)")
            let missing = try await CLI.run(["analyze", "--source", "sqlserver-export:nowhere.json"], in: dir)
            #expect(missing.status == 2 && missing.output.contains("there is no SQL Server export"), "\(missing.output)")
        }
    }

    /// Validation without reading SQL Server's rows: the second script's exact counts and numeric
    /// aggregates against PostgreSQL and the Snowflake emulator; a changed value or a missing row fails
    /// with the column and both values named.
    @Test func aTargetIsValidatedAgainstTheExportedAggregates() async throws {
        let export = try #require(TestEnvironment.fixturePath("sqlserver-export.json"))
        let aggregates = try #require(TestEnvironment.fixturePath("sqlserver-aggregates.json"))
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/retail", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: export, toPath: dir + "/retail/cutover-export.json")
            let script = try await CLI.run(
                ["sqlserver", "extract-script", "--aggregates-for", "sqlserver-export:retail", "--tables", "Orders"], in: dir)
            #expect(script.status == 0 && script.stdout.contains("SUM(CAST([Total] AS decimal(38,4)))") && !script.stdout.contains("[Customers]"))
            #expect(script.stdout.contains("COUNT_BIG([Status]) AS [c3]") && script.stdout.contains("(N'Status', a.[c3], CAST(NULL AS varchar(64))"))
            // Without the aggregates an export cannot validate anything, and says what to add.
            let without = try await CLI.run(["validate", "--source", "sqlserver-export:retail", "--target", "sqlite:none.db"], in: dir)
            #expect(without.status == 2 && without.output.contains("--aggregates-for"), "\(without.output)")
            try FileManager.default.copyItem(atPath: aggregates, toPath: dir + "/retail/cutover-aggregates.json")

            let rows = """
                INSERT INTO {S}"Orders" VALUES (1, 10, 19.9900, 'new', '2026-01-01'), (2, 10, 5.5000, 'shipped', '2026-01-02'), (3, 11, 100.0000, 'new', '2026-01-03');
                INSERT INTO {S}"Payments" VALUES ('p-1', 12.5), (NULL, NULL);
                """
            func check(_ target: String, change: (String) async throws -> Void) async throws {
                let validate = ["validate", "--source", "sqlserver-export:retail", "--target", target, "--tables", "Orders,Payments"]
                let passed = try await CLI.run(validate, in: dir)
                #expect(passed.status == 0, "\(passed.output)")
                // Payments has no single integer key: its aggregates only. Orders' rows are checksummed by key bucket.
                #expect(passed.output.contains("rows are not compared one by one"), "\(passed.output)")
                #expect(passed.output.contains("and the checksums of every row in 3 key bucket(s) of 1 key(s) agree"), "\(passed.output)")
                // A change no aggregate sees (the same count of values) is found by its bucket's checksum, and named by its keys.
                try await change("UPDATE {S}\"Orders\" SET \"Status\" = 'New' WHERE \"OrderId\" = 3")
                let recased = try await CLI.run(validate, in: dir)
                #expect(recased.status == 1, "\(recased.output)")
                #expect(
                    recased.output.contains("rows differ in 1 of 3 key bucket(s) of OrderId: keys 3–3 (source 1 rows, target 1)"), "\(recased.output)"
                )
                try await change("UPDATE {S}\"Orders\" SET \"Status\" = 'new' WHERE \"OrderId\" = 3")
                // A row with a key the source never had is named too, even when the row count matches.
                try await change("UPDATE {S}\"Orders\" SET \"OrderId\" = 40 WHERE \"OrderId\" = 2")
                let moved = try await CLI.run(validate, in: dir)
                #expect(moved.status == 1 && moved.output.contains("1 target row(s) have keys outside the source's 1–3"), "\(moved.output)")
                #expect(moved.output.contains("keys 2–2 (source 1 rows, target 0)"), "\(moved.output)")
                try await change("UPDATE {S}\"Orders\" SET \"OrderId\" = 2 WHERE \"OrderId\" = 40")
                try await change("UPDATE {S}\"Orders\" SET \"Total\" = 5.5001 WHERE \"OrderId\" = 2")
                let failed = try await CLI.run(validate, in: dir)
                #expect(failed.status == 1, "\(failed.output)")
                #expect(failed.output.contains("sum(Total): source 125.4900, target 125.49"), "\(failed.output)")
                try await change("DELETE FROM {S}\"Payments\" WHERE \"PaymentRef\" IS NULL")
                let missing = try await CLI.run(validate, in: dir)
                #expect(missing.status == 1 && missing.output.contains("rows: source 2, target 1"), "\(missing.output)")
                try await change("UPDATE {S}\"Orders\" SET \"Status\" = NULL WHERE \"OrderId\" = 3")
                let nulled = try await CLI.run(validate, in: dir)
                #expect(nulled.status == 1 && nulled.output.contains("count(Status): source 3, target 2"), "\(nulled.output)")
            }
            try await TestEnvironment.withPostgresDatabase { pg in
                let schema = { (sql: String) in
                    sql.replacingOccurrences(of: "{S}\"Orders\"", with: "dbo.\"Orders\"").replacingOccurrences(
                        of: "{S}\"Payments\"", with: "sales.\"Payments\"")
                }
                try await TestEnvironment.psql(
                    pg,
                    """
                    CREATE SCHEMA dbo; CREATE SCHEMA sales;
                    CREATE TABLE dbo."Orders" ("OrderId" bigint PRIMARY KEY, "CustomerId" integer NOT NULL, "Total" numeric(18,4) NOT NULL, "Status" varchar(20), "OrderedOn" date);
                    CREATE TABLE sales."Payments" ("PaymentRef" varchar(32), "Amount" numeric(38,10));
                    """ + schema(rows))
                try await check(TestEnvironment.cliText(pg)) { try await TestEnvironment.psql(pg, schema($0)) }
                // An export is a file: one claiming a billion one-key buckets is refused, not held in memory.
                let tampered = try String(contentsOfFile: dir + "/retail/cutover-aggregates.json", encoding: .utf8)
                    .replacingOccurrences(of: #""high":3,"width":1"#, with: #""high":1000000000,"width":1"#)
                #expect(tampered.contains(#""high":1000000000"#))
                try tampered.write(toFile: dir + "/retail/cutover-aggregates.json", atomically: true, encoding: .utf8)
                let refused = try await CLI.run(
                    ["validate", "--source", "sqlserver-export:retail", "--target", TestEnvironment.cliText(pg), "--tables", "Orders"], in: dir)
                #expect(
                    refused.output.contains("row checksums not compared: the export's key range 1–1000000000 in buckets of 1"), "\(refused.output)")
                try FileManager.default.removeItem(atPath: dir + "/retail/cutover-aggregates.json")
                try FileManager.default.copyItem(atPath: aggregates, toPath: dir + "/retail/cutover-aggregates.json")
            }
            try await TestEnvironment.withSnowflakeDatabase { sf in
                // A Snowflake target URL's schema is where the tables are (both source schemas land in it).
                let connector = try await SnowflakeConnector(url: sf)
                let local = { (sql: String) in sql.replacingOccurrences(of: "{S}", with: "") }
                try await connector.execute(
                    #"CREATE TABLE "Orders" ("OrderId" NUMBER(19,0), "CustomerId" NUMBER(10,0), "Total" NUMBER(18,4), "Status" VARCHAR(20), "OrderedOn" DATE)"#
                )
                try await connector.execute(#"CREATE TABLE "Payments" ("PaymentRef" VARCHAR(32), "Amount" NUMBER(38,10))"#)
                for statement in local(rows).split(separator: "\n") { try await connector.execute(String(statement.dropLast())) }
                try await check(TestEnvironment.cliText(sf)) { try await connector.execute(local($0)) }
            }
        }
    }
    /// No SQL Server runs where Cutover is built, so every T-SQL text it writes is at least put
    /// through a T-SQL parser (sqlglot's, from PyPI): the extract and aggregates scripts as printed,
    /// and per table of the export the checksum query bisection sends and the read of its rows. A
    /// broken statement beside them must be reported, or the check proves nothing.
    @Test(.enabled(if: OperationsTests.required)) func everyTSQLCutoverWritesParses() async throws {
        let python = try #require(OperationsTests.python, "scripts/test.sh installs .venv-ops and sets CUTOVER_TEST_OPS_PYTHON")
        let parser = try #require(TestEnvironment.fixturePath("tsql_parse.py"))
        let fixture = try #require(TestEnvironment.fixturePath("sqlserver-export.json"))
        try await TestEnvironment.withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: fixture, toPath: dir + "/export.json")
            var files: [String] = []
            for (name, arguments) in [
                ("extract.sql", ["--schema", "dbo", "--tables", "Orders,sales.O'Brien"]), ("aggregates.sql", ["--aggregates-for", "export.json"]),
            ] {
                let printed = try await CLI.run(["sqlserver", "extract-script"] + arguments + ["--out", dir + "/" + name], in: dir)
                #expect(printed.status == 0, "\(printed.output)")
                files.append(dir + "/" + name)
            }
            #expect(try String(contentsOfFile: dir + "/aggregates.sql", encoding: .utf8).contains("HASHBYTES('MD5'"))
            let dialect = SQLServerDialect(utf8Collations: true)
            for table in try SQLServerExport(path: dir + "/export.json").catalog.tables where table.kind == .table {
                let columns: [ChecksumColumn] = table.columns.compactMap { column in
                    guard case .success(let form) = ChecksumForm.common(source: column.canonical, target: column.canonical) else { return nil }
                    return (column.name, form, column.nativeType)
                }
                let key = table.primaryKey?.columns.first ?? table.columns[0].name
                let checksum = try #require(
                    dialect.portableChecksumSQL(table.ref, columns: columns, key: key, range: -10..<5_000_000_000, width: 4_882_813), "\(table.ref)")
                let read = ReadRequest(table: table.ref, columns: table.columns, orderBy: Array(table.columns.prefix(1)))
                    .selectSQL(dialect, expression: SQLServerReading.expression)
                let file = dir + "/\(table.ref.name).sql"
                try (checksum + ";\n" + dialect.limit(read, rows: 10, offset: 5) + ";\n").write(toFile: file, atomically: true, encoding: .utf8)
                files.append(file)
            }
            let parsed = try await CLI.shell(([python, parser] + files).map { "'\($0)'" }.joined(separator: " "), in: dir)
            #expect(parsed.status == 0, "\(parsed.output)")
            #expect(parsed.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == files.count, "\(parsed.output)")

            // A missing operand, and a parenthesis left open before FROM (which the parser alone would close).
            for (name, broken) in [
                ("operand.sql", "SELECT CONVERT(varchar(max), (N'a' + ) COLLATE Latin1_General_100_BIN2_UTF8)"),
                ("paren.sql", "SELECT CONVERT(varchar(40), SUM(CONVERT(decimal(38, 0), h)) FROM t"),
            ] {
                try broken.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
                let refused = try await CLI.shell("'\(python)' '\(parser)' '\(dir)/\(name)'", in: dir)
                #expect(refused.status == 1 && refused.stdout.contains("error "), "\(name): \(refused.output)")
            }
        }
    }
}
