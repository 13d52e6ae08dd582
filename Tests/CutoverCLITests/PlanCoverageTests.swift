import CutoverCore
import CutoverPostgres
import CutoverTesting
import Foundation
import Testing

/// What the plan covers besides tables: views, materialized views and sequences are named (the
/// standalone sequences created where the target has them), and names and shapes that need care
/// are flagged.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PlanCoverageTests {
    static let schema = """
        CREATE TABLE orders (id serial PRIMARY KEY, "order" int, note text);
        INSERT INTO orders ("order", note) VALUES (1, 'a'), (2, 'b');
        CREATE VIEW recent AS SELECT * FROM orders WHERE id > 1;
        CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n FROM orders;
        CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 5;
        SELECT nextval('invoice_numbers'), nextval('invoice_numbers');
        """

    static func file(_ outcome: CLI.Result, _ name: String, in dir: String) throws -> String {
        let line = try #require(outcome.stdout.split(separator: "\n").first { $0.hasPrefix("wrote ") && $0.hasSuffix(name) }, "\(outcome.output)")
        return try String(contentsOfFile: dir + "/" + String(line.dropFirst(6)), encoding: .utf8)
    }

    @Test func viewsSequencesAndNamesThatNeedCareAreInThePlan() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(source, Self.schema)
                    let plan = try await CLI.run(["plan", "--source", TestEnvironment.cliText(source), "--target-dialect", "snowflake"], in: dir)
                    #expect(plan.status == 0, "\(plan.output)")
                    let advice = try Self.file(plan, "improvement_recommendations.md", in: dir)
                    #expect(advice.contains("View public.recent is not created"), "\(advice)")
                    #expect(advice.contains("Materialized view public.totals is not created"), "\(advice)")
                    #expect(advice.contains("reserved words in snowflake") && advice.contains("public.orders.ORDER"), "\(advice)")
                    #expect(advice.contains("16 MB"), "\(advice)")
                    #expect(advice.contains("Sequence public.invoice_numbers is created to continue at 1010"), "\(advice)")
                    let ddl = try Self.file(plan, "target_objects.sql", in: dir)
                    #expect(ddl.contains(#"CREATE SEQUENCE IF NOT EXISTS "PUBLIC"."INVOICE_NUMBERS" START = 1010 INCREMENT = 5"#), "\(ddl)")
                    #expect(!ddl.contains("orders_id_seq"), "a serial's own sequence moves with its column: \(ddl)")

                    let move = try await CLI.run(
                        ["migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target)], in: dir)
                    #expect(move.status == 0, "\(move.output)")
                    let next = try await PostgresConnector(url: target).execute("SELECT nextval('invoice_numbers')")
                    #expect(next.rows.first == [.text("1010")])
                }
            }
        }
    }
}
