import CutoverCore
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Pipeline results that must not mislead: on a dim/fact layout in PostgreSQL, relationship checks
/// find the dimension in its own schema, results carry rows, match % and every differing column,
/// steps keep their order, NULLs are not duplicates, numbers read as numbers — and a cancelled
/// pipeline is never green.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct PipelineResultTests {
    static let layout = """
        CREATE SCHEMA dim; CREATE SCHEMA fact;
        CREATE TABLE dim.customer (id int PRIMARY KEY, email text, status text);
        INSERT INTO dim.customer SELECT n, 'c' || n || '@x.io', CASE WHEN n % 2 = 0 THEN 'active' ELSE 'new' END FROM generate_series(1, 500) n;
        INSERT INTO dim.customer VALUES (501, NULL, 'new'), (502, NULL, 'new');
        CREATE TABLE fact.sales (id int PRIMARY KEY, customer_id int, amount numeric(12,2), day date);
        INSERT INTO fact.sales SELECT n, 1 + n % 500, (n % 997) / 10.0 + 0.1, DATE '2026-01-01' + (n % 90) FROM generate_series(1, 4000) n;
        """

    @Test func resultsOnADimensionAndFactLayoutSayWhatWasCompared() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(source, Self.layout)
                    try await TestEnvironment.psql(
                        target,
                        Self.layout + """
                            UPDATE dim.customer SET email = 'changed-' || id, status = 'gone' WHERE id % 100 = 0;
                            UPDATE dim.customer SET email = upper(email) WHERE id BETWEEN 1 AND 400 AND id % 100 <> 0;
                            """)
                    var steps = [
                        "{ check: fk_orphans, table: fact.sales, column: customer_id, parent_table: customer, parent_column: id }",
                        "{ check: dimension_conformance, table: fact.sales, column: customer_id, parent_table: dim.customer, parent_column: id }",
                        "{ check: row_diff, table: dim.customer }",
                        "{ check: uniqueness, table: dim.customer, column: email }",
                        "{ check: row_count, table: fact.sales }",
                        "{ check: column_aggregates, table: fact.sales, columns: [amount] }",
                    ]
                    steps += (0..<6).map { _ in "{ check: row_count, table: dim.customer }" }
                    try ("parallel: 2\nsteps:\n" + steps.map { "  - " + $0 }.joined(separator: "\n") + "\n").write(
                        toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
                    let run = try await CLI.run(
                        [
                            "validate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                            "--pipeline", "p.yml",
                        ], in: dir)
                    #expect(run.status == 1, "\(run.output)")
                    #expect(!run.output.contains("does not exist"), "the dimension is found in dim: \(run.output)")

                    let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
                    let runID = try #require(try await store.runs(limit: 1).first?.id)
                    let results = try await store.validationResults(runID: runID)
                    func step(_ n: Int) -> ValidationResultRecord? { results.first { $0.step == n } }
                    #expect(
                        step(1)?.status == "passed" && step(2)?.status == "passed",
                        "\(results.map { "\($0.step ?? 0) \($0.status) \($0.message ?? "")" })")
                    let diff = try #require(step(3))
                    #expect(diff.sourceRows == 502 && diff.targetRows == 502)
                    #expect(diff.affectedColumns == ["email", "status"], "every differing column, not the first samples': \(diff.affectedColumns)")
                    // The stored details name the changed rows and their values, not only empty lists.
                    let details = try #require(
                        try JSONSerialization.jsonObject(with: Data((diff.details ?? "").utf8)) as? [String: Any], "\(diff.details ?? "")")
                    #expect(details["changed_rows"] as? String == "401" && details["missing"] == nil && details["extra"] == nil, "\(details)")
                    #expect(
                        (details["changed"] as? String)?.hasPrefix("id=1: email c1@x.io → C1@X.IO\nid=2: email c2@x.io → C2@X.IO\n") == true,
                        "\(details)")
                    #expect(
                        diff.matchPercent.map { abs($0 - 100.0 * 101 / 502) < 0.01 } == true,
                        "401 of 502 rows differ: \(String(describing: diff.matchPercent))")
                    #expect(step(4)?.status == "passed", "two NULL emails are not a duplicated value: \(step(4)?.message ?? "")")
                    #expect(step(5)?.sourceRows == 4000 && step(5)?.targetRows == 4000)
                    #expect(
                        step(6)?.message?.contains("99999999") == false && step(6)?.message?.contains("00000001") == false,
                        "\(step(6)?.message ?? "")")

                    // Steps in their order: 2 before 10, in every report.
                    let report = try await CLI.run(["report", runID, "--out", "report"], in: dir)
                    #expect(report.status == 1)
                    let markdown = try String(contentsOfFile: dir + "/report/report.md", encoding: .utf8)
                    let order = markdown.split(separator: "\n").compactMap { line -> Int? in
                        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                        return cells.count > 2 ? Int(cells[1].prefix { $0.isNumber }) : nil
                    }
                    #expect(order == Array(1...12), "\(order)")
                }
            }
        }
    }

    @Test func aCancelledPipelineIsNeverPassed() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try await TestEnvironment.psql(pg, Self.layout)
                let steps = (0..<30).map { _ in "  - { check: row_diff, table: fact.sales }" }.joined(separator: "\n")
                try ("parallel: 1\nsteps:\n" + steps + "\n").write(toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
                let url = TestEnvironment.cliText(pg)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CLI.executable)
                process.arguments = ["validate", "--source", url, "--target", url, "--pipeline", "p.yml"]
                process.currentDirectoryURL = URL(fileURLWithPath: dir)
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
                var runID: String?
                for _ in 0..<400 where runID == nil {
                    try await Task.sleep(nanoseconds: 25_000_000)
                    runID = try await store.runs(limit: 1).first { $0.kind == "pipeline" && $0.status == .running }?.id
                }
                let id = try #require(runID)
                #expect(try await CLI.run(["runs", "cancel", id], in: dir).status == 0)
                process.waitUntilExit()
                #expect(process.terminationStatus != 0, "a cancelled pipeline does not exit 0")
                let validation = try #require(try await store.validationRun(id: id))
                #expect(validation.status == "cancelled", "\(validation)")
                let report = try await CLI.run(["report", id, "--out", "report"], in: dir)
                #expect(report.status == 1, "\(report.output)")
                #expect(report.stdout.contains("not run"))
                let junit = try String(contentsOfFile: dir + "/report/report.junit.xml", encoding: .utf8)
                #expect(junit.contains("<skipped") && !junit.contains(#"skipped="0""#), "\(junit.prefix(400))")
                #expect(junit.contains(#"tests="30""#))
            }
        }
    }
}
