import CutoverCore
import CutoverStore
import Foundation
import Testing

@testable import CutoverEngine

/// The HTML documents Cutover writes (report.html, the sign-off page), compared with the pages kept
/// in `Snapshots/`; every value is escaped where it is placed, a `<script>` in a table name included.
@Suite struct HTMLDocumentTests {
    static func report(baseline: Bool) -> RunReport {
        let run = RunRecord(
            id: "20261129-080000-abcd", kind: "migrate", status: .failed, source: "sqlite:///data/app.db", target: "postgres://app:***@db/app",
            startedAt: "2026-11-29T08:00:00.000Z")
        var entries = [
            RunReport.Entry(
                name: "main.users", status: "moved", sourceRows: 1_204, targetRows: 1_204, message: "", history: ["moved", "failed"]),
            RunReport.Entry(
                name: "main.<script>alert(1)</script>", status: "failed", sourceRows: 15_000, targetRows: 14_998,
                message: "2 rows \"missing\" & 1 changed | see report", history: []),
            RunReport.Entry(
                name: "3:null_check main.events", status: "warning", sourceRows: nil, targetRows: 0, message: "5 NULLs", history: ["passed"]),
            RunReport.Entry(name: "4:row_count main.audit", status: "cancelled", sourceRows: nil, targetRows: nil, message: "", history: []),
        ]
        if baseline {
            entries[0].baselineStatus = "moved"
            entries[0].baselineTargetRows = 1_100
            entries[1].baselineStatus = "moved"
            entries[2].baselineStatus = "absent"
        }
        return RunReport(
            run: run, generatedAt: "2026-11-29T08:05:00.000Z", entries: entries, baseline: baseline ? "20261128-080000-0001" : nil,
            onlyInBaseline: baseline ? ["main.gone"] : [])
    }

    static func signOff(go: Bool) -> SignOff {
        SignOff(
            projectID: "p1", project: "Orders <move>", source: "postgres://app:***@db/app", target: "snowflake://app:***@acct/DB",
            decision: go ? "go" : "no-go", reasons: go ? [] : ["pipeline nightly: 1 check failed", "3 mapping(s) not reviewed"],
            pipelines: [
                .init(
                    name: "nightly", runID: "v-1", runAt: "2026-11-28T02:00:00.000Z", status: go ? "passed" : "failed", passed: 9, failed: go ? 0 : 1,
                    warned: 1, current: true),
                .init(name: "never run", runID: nil, runAt: nil, status: nil, passed: 0, failed: 0, warned: 0, current: false),
            ],
            failingChecks: go
                ? [] : [.init(pipeline: "nightly", runID: "v-1", step: 2, check: "row_diff", table: "public.orders", message: "id=7: amount 1 ≠ 2")],
            trend: [
                .init(runID: "v-0", at: "2026-11-27T02:00:00.000Z", passRate: 80),
                .init(runID: "v-1", at: "2026-11-28T02:00:00.000Z", passRate: go ? 100 : 90),
            ],
            mappings: go ? nil : .init(accepted: 10, excluded: 1, unreviewed: 3, typeProblems: 1), generatedAt: "2026-11-29T08:00:00.000Z")
    }

    @Test func reportPage() throws {
        try SnapshotFile.expect(try Self.report(baseline: false).html, matches: "report.html")
        try SnapshotFile.expect(try Self.report(baseline: true).html, matches: "report-baseline.html")
        #expect(try !Self.report(baseline: false).html.contains("<script>"))
    }

    @Test func signOffPage() throws {
        try SnapshotFile.expect(try Self.signOff(go: true).html, matches: "signoff-go.html")
        try SnapshotFile.expect(try Self.signOff(go: false).html, matches: "signoff-nogo.html")
        #expect(try !Self.signOff(go: false).html.contains("<move>"))
        let empty = SignOff(
            projectID: "p2", project: "New", source: nil, target: nil, decision: "no-go", reasons: ["no pipelines yet"], pipelines: [],
            failingChecks: [], trend: [], mappings: nil, generatedAt: "2026-11-29T08:00:00.000Z")
        try SnapshotFile.expect(try empty.html, matches: "signoff-empty.html")
    }
}
