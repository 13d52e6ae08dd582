import CutoverCore
import CutoverStore
import Foundation
import Testing

@testable import CutoverEngine

/// What the CLI prints, compared with the texts kept in `Snapshots/`. A wording change is a change
/// of these files, reviewed like code: `CUTOVER_RECORD_SNAPSHOTS=1 swift test --filter TerminalText`
/// rewrites them (and the test fails, so a recording never passes unnoticed).
@Suite struct TerminalTextTests {
    func expectSnapshot(_ lines: [String], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try SnapshotFile.expect(lines.joined(separator: "\n") + "\n", matches: name + ".txt", sourceLocation: sourceLocation)
    }

    static func comparison(passed: Bool) -> TableComparison {
        var result = TableComparison(
            table: "public.orders", target: "PUBLIC.ORDERS", status: passed ? .passed : .failed,
            method:
                "checksum bisection by key (id) with portable MD5 row checksums, differing ranges compared row by row (1024 range checksums, 2 range(s) merged)",
            sourceRows: 1_000_000, targetRows: 999_999, missing: passed ? 0 : 25, extra: 0, changed: passed ? 0 : 1,
            missingKeys: passed ? [] : (1...20).map { "id=\($0 * 1000)" }, extraKeys: [],
            changedRows: passed
                ? []
                : [
                    .init(
                        key: "id=42", columns: ["amount", "note"], source: ["amount": "12.50", "note": "a"], target: ["amount": "12.5", "note": ""],
                        sourceSQL: "SELECT * FROM \"public\".\"orders\" WHERE \"id\" = 42",
                        targetSQL: "SELECT * FROM \"PUBLIC\".\"ORDERS\" WHERE \"ID\" = 42")
                ],
            sampleLimit: 20, sourceFingerprint: "", targetFingerprint: "", seconds: 1.5,
            message: passed ? "1,000,000 rows identical" : "25 missing, 0 extra, 1 changed of 1,000,000 source rows")
        if !passed {
            result.tolerated = 1
            result.toleratedRows = [
                .init(key: "id=7", hiddenBy: ["at": "ms"], source: ["at": "2024-01-01 00:00:00.000100"], target: ["at": "2024-01-01 00:00:00"])
            ]
        }
        result.consistency = "each side read by a single statement: a consistent snapshot per side, taken when its read started"
        return result
    }

    @Test func diff() throws {
        try expectSnapshot(TerminalText.diff(Self.comparison(passed: true)), "diff-identical")
        try expectSnapshot(TerminalText.diff(Self.comparison(passed: false)), "diff-different")
    }

    @Test func migrateAndValidate() throws {
        var failed = TableMoveResult(
            source: "main.events", target: "public.events", status: .failed, rows: 15_000, bytes: 900_000, seconds: 3, chunks: 4)
        failed.error = "the primary key could not be built after the load (duplicate key)"
        failed.chunksDone = 4
        failed.rejected = 2
        let moved = TableMoveResult(
            source: "main.users", target: "public.users", status: .moved, rows: 1_204, bytes: 64_000, seconds: 0.4, chunks: 1)
        let report = ValidationReport(
            runID: "20261129-080000-abcd", source: "sqlite:///data/app.db", target: "postgres://app:***@db/app", generatedAt: "2026-11-29T08:00:05Z",
            passed: 1, failed: 1, tables: [Self.comparison(passed: true), Self.comparison(passed: false)])
        let outcome = Jobs.MigrateOutcome(
            runID: "20261129-080000-abcd", directory: ".cutover/runs/20261129-080000-abcd", results: [moved, failed], validation: report)
        try expectSnapshot(TerminalText.migrated(outcome), "migrate-failed")
        try expectSnapshot(TerminalText.validated(report, path: ".cutover/runs/20261129-080000-abcd/validation_results.json"), "validate-failed")
    }

    @Test func runs() throws {
        let run = RunRecord(
            id: "20261129-080000-abcd", kind: "migrate", status: .failed, source: "sqlite:///data/app.db", target: "postgres://app:***@db/app",
            startedAt: "2026-11-29T08:00:00Z", finishedAt: "2026-11-29T08:00:05Z", artifactsDir: ".cutover/runs/20261129-080000-abcd",
            summary: "1/2 tables moved, 1,204 rows", error: "1 table failed")
        var pipeline = run
        pipeline.id = "20261129-070000-ef01"
        pipeline.kind = "validate-pipeline"
        pipeline.status = .succeeded
        pipeline.error = nil
        pipeline.summary = nil
        try expectSnapshot(TerminalText.runs([run, pipeline]), "runs-list")

        let chunk = { (number: Int, state: ChunkRecord.State) in
            ChunkRecord(runID: run.id, table: "main.events", number: number, bounds: "{}", state: state, attempts: 1)
        }
        let rejects = (1...52).map {
            RejectRecord(runID: run.id, table: "main.events", chunk: 0, key: "id=\($0)", reason: "value too long", values: nil)
        }
        try expectSnapshot(
            TerminalText.run(
                run,
                tables: [
                    RunTableRecord(runID: run.id, table: "main.users", status: "moved", targetRows: 1_204),
                    RunTableRecord(runID: run.id, table: "main.events", status: "failed", message: "the primary key could not be built"),
                ],
                chunks: [chunk(0, .done), chunk(1, .done), chunk(2, .failed)], rejects: rejects,
                log: [
                    LogEntry(
                        at: "2026-11-29T08:00:00Z", level: "info", runID: run.id, table: nil, event: "run.started", message: "migrating 2 tables")
                ]),
            "runs-show")
    }
}
