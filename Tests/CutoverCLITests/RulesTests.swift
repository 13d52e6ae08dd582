import CutoverCore
import CutoverTesting
import Foundation
import Testing

@Suite struct RulesTests {
    @Test func rulesRunOnBothSidesWithSeveritiesThresholdsAndEnvironments() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try CLI.sqliteFile(dir + "/copy.db", "CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, Total NUMERIC(10,2)); INSERT INTO Invoice VALUES (1, -5), (2, 3);")
            try """
                default_environment: DEV
                environments:
                  DEV: { database: main, schema: main }
                """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            try """
                rules:
                  - name: no_negative_totals
                    side: both
                    sql: SELECT InvoiceId, Total FROM {{schema}}.Invoice WHERE Total < 0
                  - name: few_big_invoices
                    severity: warn
                    side: source
                    sql: SELECT InvoiceId FROM Invoice WHERE Total > 20
                  - name: tracks_have_a_genre
                    side: source
                    error_if: "> 100"
                    sql: SELECT TrackId FROM Track WHERE GenreId IS NULL OR GenreId = 1
                """.write(toFile: dir + "/rules.yml", atomically: true, encoding: .utf8)
            let result = try await CLI.run(["rules", "run", "--file", "rules.yml", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db"], in: dir)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stdout.contains("✓ no_negative_totals [source, error]: passed — 0 offending row(s)"))
            #expect(result.stdout.contains("✗ no_negative_totals [target, error]: failed — 1 offending row(s)"))
            #expect(result.stdout.contains("InvoiceId=1 Total=-5"))
            #expect(result.stdout.contains("! few_big_invoices [source, warn]: warning"))
            #expect(result.stdout.contains("✗ tracks_have_a_genre [source, error]: failed — 1,297 offending row(s)"))
            #expect(result.stdout.contains("3 new rule(s) stored"))
            let again = try await CLI.run(["rules", "run", "--file", "rules.yml", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db"], in: dir)
            #expect(again.stdout.contains("0 new rule(s) stored"))
            let list = try await CLI.run(["rules", "list"], in: dir)
            #expect(list.stdout.split(separator: "\n").count == 3)
        }
    }

    @Test func badRuleFilesAreUsageErrors() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try "rules:\n  - name: x\n    sql: SELECT 1\n    error_if: lots\n".write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
            let bad = try await CLI.run(["rules", "run", "--file", "bad.yml", "--target", "sqlite:t.db"], in: dir)
            #expect(bad.status == 2 && bad.stderr.contains("threshold 'lots'"))
            try "rules:\n  - name: x\n    sql: SELECT * FROM {{schema}}.t\n".write(toFile: dir + "/env.yml", atomically: true, encoding: .utf8)
            try CLI.sqliteFile(dir + "/t.db", "CREATE TABLE t (a INTEGER);")
            let noEnv = try await CLI.run(["rules", "run", "--file", "env.yml", "--target", "sqlite:t.db"], in: dir)
            #expect(noEnv.status == 1 && noEnv.stdout.contains("{{schema}}"))
        }
    }
}
