import CutoverCore
import CutoverTesting
import Foundation
import Testing

@Suite struct RulesTests {
    @Test func rulesRunOnBothSidesWithSeveritiesThresholdsAndEnvironments() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try CLI.sqliteFile(
                dir + "/copy.db",
                "CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, Total NUMERIC(10,2)); INSERT INTO Invoice VALUES (1, -5), (2, 3);")
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
            let result = try await CLI.run(
                ["rules", "run", "--file", "rules.yml", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db"], in: dir)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stdout.contains("✓ no_negative_totals [source, error]: passed — 0 offending row(s)"))
            #expect(result.stdout.contains("✗ no_negative_totals [target, error]: failed — 1 offending row(s)"))
            #expect(result.stdout.contains("InvoiceId=1 Total=-5"))
            #expect(result.stdout.contains("! few_big_invoices [source, warn]: warning"))
            #expect(result.stdout.contains("✗ tracks_have_a_genre [source, error]: failed — 1,297 offending row(s)"))
            #expect(result.stdout.contains("3 rule(s) added or changed in the rulebook"))
            let again = try await CLI.run(
                ["rules", "run", "--file", "rules.yml", "--source", "sqlite:\(chinook)", "--target", "sqlite:copy.db"], in: dir)
            #expect(again.stdout.contains("0 rule(s) added or changed in the rulebook"))
            let list = try await CLI.run(["rules", "list"], in: dir)
            #expect(list.stdout.split(separator: "\n").count == 3)
        }
    }

    /// The shipped sample decisions run on the demo's target (one finds the demo's two call centers
    /// that close before they open); a changed rule file makes new versions of its rules.
    @Test func sampleDecisionsRunAndAChangedRuleBecomesItsNextVersion() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("examples/decisions.yml").path
            let ran = try await CLI.run(["rules", "run", "--file", examples, "--target", "sqlite:.cutover/demo/target.db"], in: dir)
            #expect(ran.status == 1 && ran.stdout.contains("3/4 checks without errors; 4 rule(s) added or changed in the rulebook"), "\(ran.output)")
            #expect(ran.stdout.contains("cc_call_center_sk=7 ") && ran.stdout.contains("cc_call_center_sk=28 "), "\(ran.stdout)")

            let edited = try String(contentsOfFile: examples, encoding: .utf8)
                .replacingOccurrences(of: "    description: A call center cannot close before it opens.", with: "    severity: warn")
            try edited.write(toFile: dir + "/decisions.yml", atomically: true, encoding: .utf8)
            let again = try await CLI.run(["rules", "run", "--file", "decisions.yml", "--target", "sqlite:.cutover/demo/target.db"], in: dir)
            #expect(again.status == 0 && again.stdout.contains("1 rule(s) added or changed in the rulebook"), "\(again.output)")
            let list = try await CLI.run(["rules", "list"], in: dir)
            #expect(
                list.stdout.split(separator: "\n").count == 4
                    && list.stdout.contains("call_centers_close_after_they_open v2 [warn, target, reference data]"),
                "\(list.stdout)")
            let history = try await CLI.run(["rules", "history", "call_centers_close_after_they_open"], in: dir)
            let versions = history.stdout.split(separator: "\n").map { $0.prefix(2) }
            #expect(history.status == 0 && versions == ["v2", "v1"], "\(history.output)")
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
