import CutoverCore
import CutoverStore
import Crypto
import Foundation
import Yams

/// `cutover store import DIR`: brings a file-based history into the store — validation result
/// JSON (Cutover's own `validation_results.json` / `pipeline_results.json`, and suite files
/// `<suite>_YYYY-MM-DD.json` holding a `results` list), run logs as NDJSON or CSV, rulebook and
/// pipeline YAML, and column metadata JSON. Each file is checked whole before anything of it is
/// written, and remembered by its content hash, so a rerun imports nothing twice and a bad file
/// is reported while the rest goes on.
public struct StoreImporter: Sendable {
    public struct FileOutcome: Sendable, Codable {
        public var path: String
        public var kind: String
        /// imported, would import, already imported, skipped or failed.
        public var status: String
        public var items: Int
        public var reason: String?
    }

    let store: any MetadataStore
    /// Log lines are written in batches of this many.
    let batchSize = 5_000

    public init(store: any MetadataStore) { self.store = store }

    public func importDirectory(_ directory: String, dryRun: Bool) async throws -> [FileOutcome] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CutoverError(.usage, "\(directory) is not a directory", hint: "pass the folder that holds the history files")
        }
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
            .filter { var dir: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue }
        var outcomes: [FileOutcome] = []
        for path in files { outcomes.append(await importFile(path, dryRun: dryRun)) }
        return outcomes
    }

    func importFile(_ path: String, dryRun: Bool) async -> FileOutcome {
        let kind = Self.kind(of: path)
        var outcome = FileOutcome(path: path, kind: kind?.rawValue ?? "unknown", status: "skipped", items: 0, reason: nil)
        guard let kind else {
            outcome.reason = "not a history file Cutover knows (.json, .ndjson, .csv, .yml)"
            return outcome
        }
        do {
            let hash = try Self.contentHash(path)
            if try await store.wasImported(contentHash: hash) {
                outcome.status = "already imported"
                return outcome
            }
            let items = try await load(kind, path: path, hash: hash, write: false)
            outcome.items = items
            outcome.kind = kind.rawValue
            if dryRun {
                outcome.status = "would import"
                return outcome
            }
            _ = try await load(kind, path: path, hash: hash, write: true)
            try await store.recordImport(contentHash: hash, path: path, kind: kind.rawValue, items: items)
            outcome.status = "imported"
        } catch {
            outcome.status = "failed"
            outcome.reason = (error as? CutoverError)?.message ?? "\(error)"
        }
        return outcome
    }

    enum Kind: String {
        case logNDJSON = "log (ndjson)", logCSV = "log (csv)", yaml = "rules or pipeline (yaml)", json = "validation results or column metadata (json)"
    }

    static func kind(of path: String) -> Kind? {
        switch (path as NSString).pathExtension.lowercased() {
        case "ndjson", "jsonl": return .logNDJSON
        case "csv": return .logCSV
        case "yml", "yaml": return .yaml
        case "json": return .json
        default: return nil
        }
    }

    static func contentHash(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CutoverError(.io, "cannot read \(path)") }
        defer { try? handle.close() }  // a read handle: closing cannot lose data
        var hash = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hash.update(data: data) }
        return Hex.encode(hash.finalize())
    }

    /// Parses the file (and with `write`, stores it); returns how many items it holds.
    private func load(_ kind: Kind, path: String, hash: String, write: Bool) async throws -> Int {
        switch kind {
        case .logNDJSON: return try await loadLog(path, write: write) { line, number in try Self.logEntry(ndjson: line, line: number) }
        case .logCSV: return try await loadCSVLog(path, write: write)
        case .yaml: return try await loadYAML(path, hash: hash, write: write)
        case .json: return try await loadJSON(path, hash: hash, write: write)
        }
    }

    // MARK: Logs

    private func loadLog(_ path: String, write: Bool, parse: (String, Int) throws -> LogEntry?) async throws -> Int {
        var batch: [LogEntry] = []
        var count = 0
        try await LineReader.forEachLine(path) { line, number in
            guard let entry = try parse(line, number) else { return }
            count += 1
            guard write else { return }
            batch.append(entry)
            if batch.count >= batchSize {
                try await store.addLogs(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if write, !batch.isEmpty { try await store.addLogs(batch) }
        return count
    }

    static func logEntry(ndjson line: String, line number: Int) throws -> LogEntry? {
        if line.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {  // else: an error naming the line
            throw CutoverError(.config, "line \(number) is not a JSON object")
        }
        return try logEntry(object, line: number)
    }

    /// Reads the common spellings: Cutover's own (`at`, `level`, `run`, `event`, `message`) and
    /// unified-log exports (`TIMESTAMP`, `STATUS`, `PLUGIN`, `NOTE`, …); the rest become fields.
    static func logEntry(_ object: [String: Any], line: Int) throws -> LogEntry {
        var fields: [String: String] = [:]
        var known: [String: String] = [:]
        let aliases: [String: String] = ["at": "at", "timestamp": "at", "time": "at", "ts": "at", "level": "level", "status": "level", "severity": "level",
                                         "run": "run", "run_id": "run", "table": "table", "table_name": "table", "event": "event", "plugin": "event",
                                         "message": "message", "note": "message", "msg": "message"]
        for (key, value) in object {
            let text: String
            switch value {
            case let string as String: text = string
            case is NSNull: continue
            case let nested as [String: Any]:
                if key == "fields" { for (k, v) in nested { fields[k] = "\(v)" } }
                continue
            default: text = "\(value)"
            }
            if let name = aliases[key.lowercased()], known[name] == nil { known[name] = text } else { fields[key] = text }
        }
        guard let rawTime = known["at"], let at = ISOTime.normalize(rawTime) else {
            throw CutoverError(.config, "line \(line) has no readable time (at/timestamp)")
        }
        let level = known["level"].map { ["failed": "error", "success": "info"][$0.lowercased()] ?? $0.lowercased() } ?? "info"
        return LogEntry(at: at, level: level, runID: known["run"], table: known["table"], event: known["event"] ?? "imported",
                        message: known["message"] ?? "", fields: fields)
    }

    private func loadCSVLog(_ path: String, write: Bool) async throws -> Int {
        var header: [String]? = nil
        var parser = CSVRecordParser()
        return try await loadLog(path, write: write) { line, number in
            guard let record = parser.feed(line) else { return nil }
            guard let names = header else {
                header = record
                return nil
            }
            guard record.count == names.count else {
                throw CutoverError(.config, "line \(number) has \(record.count) fields where the header has \(names.count)")
            }
            var object: [String: Any] = [:]
            for (name, value) in zip(names, record) where !value.isEmpty { object[name] = value }
            return try Self.logEntry(object, line: number)
        }
    }

    // MARK: YAML

    private func loadYAML(_ path: String, hash: String, write: Bool) async throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = (try? Yams.load(yaml: text)) as? [String: Any]  // nil is reported below as not a pipeline
        if document?["rules"] != nil {
            let rules = try Rulebook.load(path: path)
            if write { try await store.saveRules(try rules.map { try $0.stored() }) }
            return rules.count
        }
        if document?["steps"] != nil {
            let pipeline = try Pipeline.load(path: path)
            if write {
                try await store.savePipeline(PipelineRecord(name: pipeline.name ?? "pipeline", content: text, contentHash: hash))
            }
            return 1
        }
        throw CutoverError(.config, "a YAML file with neither rules: nor steps:")
    }

    // MARK: JSON

    private func loadJSON(_ path: String, hash: String, write: Bool) async throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let json = try? JSONSerialization.jsonObject(with: data) else { throw CutoverError(.config, "not valid JSON") }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let origin = "import:" + path
        let runID = "import-" + hash.prefix(16)
        let fileTime = ISOTime.string((try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date())  // no modification time: the import time stands in

        // Cutover's validation_results.json.
        if let object = json as? [String: Any], object["tables"] != nil, object["runID"] != nil {
            let report = try JSONDecoder().decode(ValidationReport.self, from: data)
            let at = ISOTime.normalize(report.generatedAt) ?? fileTime
            let results = report.tables.map { table -> ValidationResultRecord in
                var record = table.resultRecord(runID: report.runID)
                record.at = at
                return record
            }
            if write {
                try await store.recordValidationRun(ValidationRunRecord(id: report.runID, suite: "row compare", source: report.source, target: report.target,
                                                                        startedAt: at, finishedAt: at, status: report.allPassed ? "passed" : "failed",
                                                                        passed: report.passed, failed: report.failed, origin: origin))
                try await store.addValidationResults(results)
            }
            return results.count
        }
        // Cutover's pipeline_results.json: a list of step results.
        if let list = json as? [[String: Any]], list.first?["check"] != nil, list.first?["step"] != nil {
            let steps = try JSONDecoder().decode([StepResult].self, from: data)
            let results = try steps.map { step -> ValidationResultRecord in
                var record = try step.resultRecord(runID: runID)
                record.at = fileTime
                return record
            }
            if write { try await storeRun(runID, suite: name, at: fileTime, origin: origin, results) }
            return results.count
        }
        // Column metadata: an object or list describing columns.
        if name.lowercased().contains("column_metadata") {
            if write {
                try await store.saveColumnMetadata([ColumnMetadataRecord(connection: "imported", schema: "", table: name,
                                                                         payload: String(decoding: data, as: UTF8.self), fetchedAt: fileTime)])
            }
            return (json as? [Any])?.count ?? (json as? [String: Any])?.count ?? 1
        }
        // A suite's results file: `<suite>_YYYY-MM-DD.json` with a `results` list.
        if let object = json as? [String: Any], let list = object["results"] as? [[String: Any]] {
            let (suite, date) = Self.suiteAndDate(name, object)
            let at = date.map { $0 + "T00:00:00.000Z" } ?? fileTime
            let results = try list.enumerated().map { index, item in try Self.suiteResult(item, index: index, runID: runID, at: at) }
            if write { try await storeRun(runID, suite: suite, at: at, origin: origin, results) }
            return results.count
        }
        throw CutoverError(.config, "JSON that is neither validation results (tables/results/steps) nor column metadata")
    }

    private func storeRun(_ id: String, suite: String, at: String, origin: String, _ results: [ValidationResultRecord]) async throws {
        try await store.recordValidationRun(ValidationRunRecord(id: id, suite: suite, startedAt: at, finishedAt: at, summarizing: results, origin: origin))
        try await store.addValidationResults(results)
    }

    static func suiteAndDate(_ name: String, _ object: [String: Any]) -> (String, String?) {
        let explicit = (object["suite_name"] ?? object["suite"]) as? String
        let dateFromObject = (object["data_date"] ?? object["date"]) as? String
        if let range = name.range(of: #"_\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) {
            return (explicit ?? String(name[..<range.lowerBound]), dateFromObject ?? String(name[range].dropFirst()))
        }
        return (explicit ?? name, dateFromObject)
    }

    /// One result of a suite file: `status` or `success`, and the check, table, column and message
    /// under the names such files use (`expectation_type`, `kwargs.column`, …).
    static func suiteResult(_ item: [String: Any], index: Int, runID: String, at: String) throws -> ValidationResultRecord {
        let config = (item["expectation_config"] as? [String: Any]) ?? [:]
        let kwargs = (config["kwargs"] as? [String: Any]) ?? (item["kwargs"] as? [String: Any]) ?? [:]
        let status: String
        if let text = item["status"] as? String {
            status = ["pass": "passed", "success": "passed", "fail": "failed", "error": "failed", "warn": "warning"][text.lowercased()] ?? text.lowercased()
        } else if let success = item["success"] as? Bool {
            status = success ? "passed" : "failed"
        } else {
            throw CutoverError(.config, "result \(index + 1) has neither status nor success")
        }
        let check = (item["check"] ?? item["expectation_type"] ?? config["expectation_type"] ?? item["rule"]) as? String ?? "imported"
        let column = (item["column"] ?? kwargs["column"]) as? String
        let details = (try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }  // re-encoding parsed JSON cannot fail
        return ValidationResultRecord(validationRunID: runID, step: index + 1, check: check, table: (item["table"] ?? item["table_name"]) as? String,
                                      status: status, severity: item["severity"] as? String, message: (item["message"] ?? item["note"]) as? String,
                                      affectedColumns: column.map { [$0] } ?? [], details: details, at: at)
    }
}

/// Lines of a text file, read a megabyte at a time.
enum LineReader {
    static func forEachLine(_ path: String, _ body: (String, Int) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CutoverError(.io, "cannot read \(path)") }
        defer { try? handle.close() }  // a read handle: closing cannot lose data
        var buffer = Data()
        var number = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                number += 1
                var line = buffer[buffer.startIndex..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                try await body(String(decoding: line, as: UTF8.self), number)
                buffer.removeSubrange(buffer.startIndex...newline)
            }
            if chunk.isEmpty {
                if !buffer.isEmpty {
                    number += 1
                    try await body(String(decoding: buffer, as: UTF8.self), number)
                }
                return
            }
        }
    }
}

/// RFC 4180 records fed line by line: a quoted field may span lines, `""` is a quote.
struct CSVRecordParser {
    private var fields: [String] = []
    private var field = ""
    private var inQuotes = false

    /// The record this line completes, or nil while a quoted field is still open.
    mutating func feed(_ line: String) -> [String]? {
        if inQuotes { field += "\n" }
        var characters = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? characters.next() {
            pending = nil
            if inQuotes {
                if ch == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(ch)
                }
            } else if ch == "\"" && field.isEmpty {
                inQuotes = true
            } else if ch == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(ch)
            }
        }
        if inQuotes { return nil }
        fields.append(field)
        defer { fields = []; field = "" }
        return fields
    }
}
