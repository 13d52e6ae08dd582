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
