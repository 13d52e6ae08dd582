import CutoverCore
import CutoverPostgres
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

            // Rows need a live connection, which is not built: said plainly, nothing written.
            let migrate = try await CLI.run(["migrate", "--source", "sqlserver-export:retail.json", "--target", "sqlite:out.db"], in: dir)
            #expect(migrate.status == 2 && migrate.output.contains("not rows"), "\(migrate.output)")
            let live = try await CLI.run(["analyze", "--source", "sqlserver://sa:secret-pw@db.example.com:1433/Retail"], in: dir)
            #expect(live.status == 2 && live.output.contains("not built yet") && !live.output.contains("secret-pw"), "\(live.output)")
            let missing = try await CLI.run(["analyze", "--source", "sqlserver-export:nowhere.json"], in: dir)
            #expect(missing.status == 2 && missing.output.contains("there is no SQL Server export"), "\(missing.output)")
        }
    }
}
