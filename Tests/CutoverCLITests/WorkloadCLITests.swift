import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// `cutover workload import` on exports as users make them: a Query Store JSON, a
/// pg_stat_statements CSV with a statement across lines, a Snowflake QUERY_HISTORY CSV.
@Suite struct WorkloadCLITests {
    struct Summary: Decodable {
        struct Table: Decodable { var table: String; var executions: Int64; var milliseconds: Double }
        struct Join: Decodable { var left: String; var right: String; var executions: Int64 }
        struct Column: Decodable { var column: String; var filtered: Int64; var grouped: Int64 }
        var statements: Int
        var formats: [String]
        var tables: [Table]
        var joins: [Join]
        var columns: [Column]
        var tempTables: [String]
    }

    @Test func ranksTablesJoinsAndColumnsFromThreeEngines() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try #"""
            [{"query_id": 1, "query_sql_text": "SELECT o.id FROM [dbo].[Orders] o JOIN dbo.Customers c ON c.Id = o.CustomerId WHERE o.Status = @s",
              "count_executions": 1000, "avg_duration": 2000, "last_execution_time": "2026-11-28T10:00:00Z"},
             {"query_id": 2, "query_sql_text": "INSERT INTO #stage SELECT * FROM dbo.Customers", "count_executions": 10, "avg_duration": 50000},
             {"query_id": 3, "query_sql_text": "SELECT CustomerId, SUM(Amount) FROM dbo.Payments GROUP BY CustomerId", "count_executions": 5, "avg_duration": 900000}]
            """#.write(toFile: dir + "/querystore.json", atomically: true, encoding: .utf8)
            try
                "userid,dbid,query,calls,total_exec_time\n10,5,\"SELECT *\nFROM public.orders o, public.customers c\nWHERE o.customer_id = c.id AND c.country = $1\",300,1500.5\n10,5,BEGIN,9000,3\n"
                .write(toFile: dir + "/pgss.csv", atomically: true, encoding: .utf8)
            try
                "QUERY_ID,QUERY_TEXT,TOTAL_ELAPSED_TIME\na,SELECT count(*) FROM ANALYTICS.RAW.ORDERS,120\nb,SELECT count(*) FROM ANALYTICS.RAW.ORDERS,80\n"
                .write(toFile: dir + "/history.csv", atomically: true, encoding: .utf8)

            let result = try await CLI.run(["workload", "import", "querystore.json", "pgss.csv", "history.csv", "--format", "json"], in: dir)
            #expect(result.status == 0, "\(result.output)")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let summary = try decoder.decode(Summary.self, from: Data(result.stdout.utf8))
            #expect(
                summary.statements == 7 && summary.formats == ["SQL Server Query Store", "PostgreSQL pg_stat_statements", "Snowflake QUERY_HISTORY"])
            // Payments: 5 × 900 ms = 4.5 s; Customers: 1000 × 2 ms + 10 × 50 ms = 2.5 s; Orders: 1000 × 2 ms = 2 s.
            #expect(summary.tables.prefix(3).map(\.table) == ["dbo.payments", "dbo.customers", "dbo.orders"], "\(summary.tables.map(\.table))")
            #expect(summary.tables.first { $0.table == "dbo.customers" }?.executions == 1010)
            #expect(summary.tables.first { $0.table == "analytics.raw.orders" }?.executions == 2)
            #expect(
                summary.joins.map { "\($0.left)=\($0.right)" }.sorted() == [
                    "dbo.customers.id=dbo.orders.customerid", "public.customers.id=public.orders.customer_id",
                ])
            #expect(summary.columns.contains { $0.column == "dbo.orders.status" && $0.filtered == 1000 })
            #expect(summary.columns.contains { $0.column == "dbo.payments.customerid" && $0.grouped == 5 })
            #expect(summary.columns.contains { $0.column == "public.customers.country" && $0.filtered == 300 })
            #expect(summary.tempTables == ["#stage"])
            // The store keeps it per table, join pair and column: the copilot answers from those tables with SQL.
            func answer(_ question: String) async throws -> [String: Any] {
                let asked = try await CLI.run(["copilot", "ask", question, "--format", "json"], in: dir)
                #expect(asked.status == 0, "\(asked.output)")
                return try JSONSerialization.jsonObject(with: Data(asked.stdout.utf8)) as? [String: Any] ?? [:]
            }
            let top = try await answer("which tables are queried most")
            #expect((top["sql"] as? String)?.contains("FROM workload_tables") == true)
            #expect((top["rows"] as? [[String?]])?.prefix(3).map { $0.first ?? nil } == ["dbo.payments", "dbo.customers", "dbo.orders"])
            let joins = try await answer("most common joins on orders")
            #expect((joins["rows"] as? [[String?]])?.count == 2, "\(joins)")
            let columns = try await answer("which columns are filtered most")
            #expect((columns["rows"] as? [[String?]])?.contains { $0.first == "dbo.orders.status" && $0[1] == "1000" } == true, "\(columns)")

            let text = try await CLI.run(["workload", "import", "querystore.json", "--top", "2"], in: dir)
            #expect(
                text.stdout.contains("dbo.payments") && text.stdout.contains("Join pairs:")
                    && text.stdout.contains("Temp tables (not migrated): #stage"), "\(text.output)")
            try "a,b\n1,2\n".write(toFile: dir + "/other.csv", atomically: true, encoding: .utf8)
            let unknown = try await CLI.run(["workload", "import", "other.csv"], in: dir)
            #expect(unknown.status == 2 && unknown.stderr.contains("not a workload export"), "\(unknown.output)")
            let missing = try await CLI.run(["workload", "import", "nope.csv"], in: dir)
            #expect(missing.status == 3 && missing.stderr.contains("cannot read the workload file nope.csv"), "\(missing.output)")
        }
    }

    @Test(.enabled(if: TestEnvironment.hasPostgres)) func readsPgStatStatementsLive() async throws {
        try await TestEnvironment.withPostgresDatabase { url in
            // scripts/test.sh's PostgreSQL loads pg_stat_statements; the database installs it.
            try await TestEnvironment.psql(
                url,
                """
                CREATE EXTENSION pg_stat_statements;
                CREATE TABLE shop_orders (id int PRIMARY KEY, customer_id int, status text);
                CREATE TABLE shop_customers (id int PRIMARY KEY, country text);
                """)
            for _ in 0..<3 {
                try await TestEnvironment.psql(
                    url, "SELECT o.id FROM shop_orders o JOIN shop_customers c ON c.id = o.customer_id WHERE c.country = 'BR'")
            }
            try await TestEnvironment.withTemporaryDirectory { dir in
                let result = try await CLI.run(["workload", "import", "--from", TestEnvironment.cliText(url), "--format", "json"], in: dir)
                #expect(result.status == 0, "\(result.stderr)")
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                let summary = try decoder.decode(Summary.self, from: Data(result.stdout.utf8))
                #expect(summary.formats == ["PostgreSQL pg_stat_statements (live)"])
                #expect(summary.tables.contains { $0.table == "shop_orders" && $0.executions >= 3 }, "\(summary.tables.map(\.table))")
                #expect(summary.joins.contains { $0.left == "shop_customers.id" && $0.right == "shop_orders.customer_id" }, "\(summary.joins)")
                #expect(!result.output.contains(url.password ?? "never-a-password"))
            }
            // A database without the extension: what to do, not a stack of SQL.
            try await TestEnvironment.psql(url, "DROP EXTENSION pg_stat_statements")
            try await TestEnvironment.withTemporaryDirectory { dir in
                let missing = try await CLI.run(["workload", "import", "--from", TestEnvironment.cliText(url)], in: dir)
                #expect(missing.status != 0 && missing.stderr.contains("CREATE EXTENSION pg_stat_statements"), "\(missing.output)")
            }
        }
    }

    @Test func suggestAddsChecksWhereTheWorkloadLooks() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try #"""
            [{"query_sql_text": "SELECT i.BillingCountry, SUM(i.Total) FROM Invoice i WHERE i.InvoiceDate >= @d GROUP BY i.BillingCountry", "count_executions": 40, "avg_duration": 90000},
             {"query_sql_text": "SELECT p.Name FROM PlaylistTrack pt JOIN Playlist p ON p.PlaylistId = pt.PlaylistId", "count_executions": 7, "avg_duration": 10}]
            """#.write(toFile: dir + "/qs.json", atomically: true, encoding: .utf8)
            let plain = try await CLI.run(
                ["pipeline", "suggest", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(chinook)", "--out", "plain.yml"], in: dir)
            let guided = try await CLI.run(
                [
                    "pipeline", "suggest", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(chinook)", "--out", "guided.yml",
                    "--workload", "qs.json",
                ], in: dir)
            #expect(plain.status == 0 && guided.status == 0, "\(guided.output)")
            let yaml = try String(contentsOfFile: dir + "/guided.yml", encoding: .utf8)
            #expect(
                yaml.contains(#"- {check: group_metrics, table: Invoice, columns: [BillingCountry], measure: Total, aggregate: sum}"#),
                "\(yaml.suffix(600))")
            #expect(yaml.contains(#"- {check: date_gaps, table: Invoice, column: InvoiceDate, severity: warn}"#))
            #expect(yaml.contains("# 40 execution(s) group by Invoice.BillingCountry"))
            // The declared foreign key PlaylistTrack → Playlist already has its check: not twice.
            #expect(!(yaml.components(separatedBy: "Where the workload looks").last ?? "").contains("fk_orphans"), "\(yaml.suffix(600))")
            let run = try await CLI.run(
                ["validate", "--source", "sqlite:\(chinook)", "--target", "sqlite:\(chinook)", "--pipeline", "guided.yml"], in: dir)
            #expect(run.status == 0, "\(run.output.suffix(800))")

            // analyze ranks the tables by the workload and names those it never uses.
            let analyzed = try await CLI.run(["analyze", "--source", "sqlite:\(chinook)", "--workload", "qs.json", "--out", "runs"], in: dir)
            #expect(analyzed.status == 0, "\(analyzed.output)")
            #expect(analyzed.stdout.contains("by workload (time share, executions):\n  Invoice  100.0%, 40"), "\(analyzed.stdout.suffix(600))")
            #expect(analyzed.stdout.contains("not used by the workload (maybe not worth migrating): Album, Artist"), "\(analyzed.stdout.suffix(600))")
            let reportPath = try #require(analyzed.stdout.split(separator: "\n").last { $0.hasPrefix("report: ") }).dropFirst("report: ".count)
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + reportPath))) as? [String: Any]
            #expect((report?["workload"] as? [[String: Any]])?.first?["table"] as? String == "Invoice")
            #expect((report?["unusedByWorkload"] as? [String])?.contains("Track") == true)

            // plan's recommendations say the same.
            let planned = try await CLI.run(
                ["plan", "--source", "sqlite:\(chinook)", "--target-dialect", "postgres", "--workload", "qs.json", "--out", "planruns"], in: dir)
            #expect(planned.status == 0 || planned.status == 1, "\(planned.output)")
            let runFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/planruns").first)
            let advice = try String(contentsOfFile: dir + "/planruns/\(runFolder)/improvement_recommendations.md", encoding: .utf8)
            #expect(advice.contains("Workload: the statements spend their time in Invoice (100.0% of the time)"), "\(advice)")
            #expect(advice.contains("Not used by the workload: Album, Artist"), "\(advice)")
        }
    }
}
