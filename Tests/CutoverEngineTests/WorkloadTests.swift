import CutoverCore
@testable import CutoverEngine
import Foundation
import Testing

/// The statement reader on what real workloads send: T-SQL brackets and temp tables, CTEs,
/// subqueries, aliases, implicit joins, comments.
@Suite struct StatementReaderTests {
    @Test func joinsFiltersGroupsAndAggregatesWithAliases() {
        let use = StatementReader.read(
            """
            SELECT c.Country, SUM(il.UnitPrice * il.Quantity) AS revenue, count(*)
            FROM [dbo].[Invoice] AS i WITH (NOLOCK)
            JOIN dbo.InvoiceLine il ON il.InvoiceId = i.InvoiceId
            LEFT JOIN "dbo"."Customer" c ON c.CustomerId = i.CustomerId -- the buyer
            WHERE i.InvoiceDate >= @from AND c.Country IN ('Brazil', 'Canada') /* both */
            GROUP BY c.Country
            """)
        #expect(use.kind == "SELECT")
        #expect(use.tables == ["dbo.invoice", "dbo.invoiceline", "dbo.customer"])
        #expect(
            use.joins == [.init("dbo.invoiceline.invoiceid", "dbo.invoice.invoiceid"), .init("dbo.customer.customerid", "dbo.invoice.customerid")])
        #expect(use.filtered == ["dbo.invoice.invoicedate", "dbo.customer.country"])
        #expect(use.grouped == ["dbo.customer.country"])
        #expect(use.aggregated == ["dbo.invoiceline.unitprice", "dbo.invoiceline.quantity"])
    }

    @Test func ctesTempTablesSubqueriesAndImplicitJoins() {
        let use = StatementReader.read(
            """
            WITH recent AS (SELECT * FROM sales.orders o WHERE o.created_at > now() - interval '7 days'),
                 totals (customer_id, n) AS (SELECT customer_id, count(*) FROM recent GROUP BY customer_id)
            INSERT INTO #report
            SELECT t.customer_id, t.n FROM totals t, crm.customers cu
            WHERE cu.id = t.customer_id AND cu.id IN (SELECT customer_id FROM crm.vip)
            """)
        #expect(use.kind == "INSERT")
        #expect(use.tables == ["sales.orders", "crm.customers", "crm.vip"])
        #expect(use.tempTables == ["#report"])
        #expect(use.filtered.contains("sales.orders.created_at"))
    }

    /// Statements a real pg_stat_statements held (Cutover's own checksum and DDL SQL among them):
    /// read without crashing, whatever they hold — an empty quoted name, a dollar-quoted DO block.
    @Test func oddStatementsAreReadWithoutCrashing() {
        let statements = [
            #"SELECT "" FROM t WHERE "" = 1"#,
            #"SELECT a."" FROM t a WHERE a."" = $1 GROUP BY "" "#,
            #"DELETE FROM "public"."codes" WHERE "code" COLLATE "C" >= $1 AND "code" COLLATE "C" < $2"#,
            #"SELECT ("id" - $1) / $2 AS bucket, count(*), sum(hash_record_extended(ROW("id", "v" COLLATE "C"), $3))::text FROM "public"."t" WHERE "id" >= $4 AND "id" < $5 GROUP BY 1"#,
            #"DO $cutover$ DECLARE c name; BEGIN SELECT conname INTO c FROM pg_constraint WHERE conrelid = '"public"."items"'::regclass AND contype = 'p'; IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', '"public"."items"', c); END IF; END $cutover$"#,
            "SELECT . FROM . WHERE . = . GROUP BY .",
        ]
        for statement in statements { _ = StatementReader.read(statement) }
        #expect(StatementReader.read(#"SELECT "" FROM t WHERE "" = 1"#).tables == ["t"])
    }

    /// Whatever a query log holds, reading it never crashes: seeded random soups of SQL pieces.
    @Test func randomStatementsNeverCrashTheReader() {
        let pieces = [
            "SELECT", "FROM", "WHERE", "JOIN", "ON", "GROUP", "BY", "ORDER", "WITH", "AS", "(", ")", ",", ".", "=", "<", "\"\"", "\"a\"",
            "a", "b.c", "t", "$1", "'x'", "''", "::", "count", "sum", "*", "[x]", "#tmp", "@v", "--", "/*", "*/", ";", "MERGE", "USING", "INTO",
            "UPDATE", "SET", "DELETE", "INSERT", "VALUES", "$$", "$q$", "CASE", "WHEN", "THEN", "END", "UNION", "HAVING", "`", "\\", "\u{0}",
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33)
        }
        for _ in 0..<3_000 {
            let statement = (0..<(next() % 40)).map { _ in pieces[next() % pieces.count] }.joined(separator: next() % 3 == 0 ? "" : " ")
            _ = StatementReader.read(statement)
        }
    }

    @Test func updatesDeletesAndMerges() {
        #expect(StatementReader.read("UPDATE t SET a = 1 WHERE b = 2").tables == ["t"])
        #expect(StatementReader.read("UPDATE t SET a = 1 WHERE b = 2").filtered == ["t.b"])
        #expect(StatementReader.read("DELETE FROM public.events WHERE ts < $1").filtered == ["public.events.ts"])
        let merge = StatementReader.read(
            "MERGE INTO dim.customer AS d USING stage.customer s ON d.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name")
        #expect(merge.tables == ["dim.customer", "stage.customer"] && merge.joins == [.init("dim.customer.id", "stage.customer.id")])
        #expect(StatementReader.read("SELECT * FROM generate_series(1, 10) g").tables.isEmpty)
        #expect(StatementReader.read("select 'from x' as t").tables.isEmpty)
    }

    @Test func tokensOfEveryQuoting() {
        let tokens = SQLTokenizer.tokens(#"SELECT [a b], "c""d", `e`, N'it''s', 1.5e3, @p, $2, x::int FROM #t -- gone"#)
        #expect(
            tokens.map(\.text) == [
                "SELECT", "a b", ",", "c\"d", ",", "e", ",", "it's", ",", "1.5e3", ",", "@p", ",", "$2", ",", "x", "::", "int", "FROM", "#t",
            ])
    }
}
