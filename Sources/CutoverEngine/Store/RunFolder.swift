import CutoverCore
import CutoverStore
import Foundation

/// What a run folder holds and how its run is read back from it.
public enum RunFolder {
    public static let logName = "run_log.ndjson"
    /// Files only a run writes (beside its log and results), which mean nothing outside their folder.
    static let artifactNames: Set<String> = [
        "analysis_report.json", PlanArtifacts.mappingFile, PlanArtifacts.ddlFile, PlanArtifacts.recommendationsFile,
        "summary.md",
    ]

    /// A folder is a run's when it is named after the run its log's first line names (a log
    /// export that happens to be called run_log.ndjson, among other files, is not).
    static func isRunFolder(_ folder: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: (folder as NSString).appendingPathComponent(logName)) else { return false }
        defer { try? handle.close() }  // a read handle: closing cannot lose data
        guard let head = try? handle.read(upToCount: 64 * 1024), let line = String(decoding: head, as: UTF8.self).split(separator: "\n").first,  // unreadable: not a run folder, imported file by file
            let entry = try? StoreImporter.logEntry(ndjson: String(line), line: 1)
        else { return false }
        return entry.runID == (folder as NSString).lastPathComponent
    }

    /// The run a folder's log describes: its id, and from the final `run.*` event its kind, status,
    /// connections (masked as written) and error; the first and last lines give its times. Logs
    /// written before the final event named the kind are read by their events.
    static func run(fromLog path: String, folder: String) async throws -> RunRecord {
        var first: LogEntry?, last: LogEntry?, final: LogEntry?
        var events: Set<String> = []
        try await LineReader.forEachLine(path) { line, number in
            guard let entry = try StoreImporter.logEntry(ndjson: line, line: number) else { return }
            if first == nil { first = entry }
            last = entry
            events.insert(entry.event)
            if ["run.completed", "run.failed", "run.interrupted"].contains(entry.event) { final = entry }
        }
        guard let first, let last else { throw CutoverError(.config, "\(path) is empty: not a run's log") }
        guard let id = first.runID ?? last.runID else { throw CutoverError(.config, "\(path): its lines name no run") }
        let kind =
            final?.fields["kind"]
            ?? (events.contains("chunk.done") || events.contains("table.started")
                ? "migrate"
                : events.contains { $0.hasPrefix("step.") } ? "validate" : events.contains("analyze.done") ? "analyze" : "imported")
        let written = final?.fields["status"] ?? (final?.event == "run.failed" ? "failed" : final == nil ? "interrupted" : "succeeded")
        guard let status = RunStatus(rawValue: written) else {
            throw CutoverError(
                .usage, "the run folder \(folder) ends with status \(written), which is not a run status",
                hint: "its run_log.ndjson was changed or written by another tool; fix its last line's status")
        }
        return RunRecord(
            id: id, kind: kind, status: status, source: final?.fields["source"], target: final?.fields["target"], startedAt: first.at,
            finishedAt: final?.at ?? last.at, artifactsDir: (folder as NSString).standardizingPath,
            error: final?.fields["error"] ?? (status == .failed ? final?.message : nil))
    }
}
