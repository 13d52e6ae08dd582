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
    /// What happened to one file of an import: read, skipped (and why) or refused.
    public struct FileOutcome: Sendable, Codable {
        public var path: String
        public var kind: String
        /// imported, would import, already imported, skipped or failed.
        public var status: String
        public var items: Int
        /// Items already in the store (the same log line, the same suite run), not added again.
        public var duplicates: Int = 0
        public var reason: String?
    }

    /// What reading (and with `write`, storing) one file found.
    struct Loaded {
        var items: Int
        var duplicates = 0
    }

    let store: any MetadataStore
    /// Log lines are written in batches of this many, one transaction each (fewer, larger commits:
    /// a batch rewrites each index page it touches once).
    let batchSize = 50_000

    /// While importing what a `.tar.gz` was unpacked into: the scratch folder and the archive's
    /// path shown (in outcomes and records) in its place.
    private var unpacked: (scratch: String, archive: String)?

    public init(store: any MetadataStore) { self.store = store }

    /// The path as the user knows it: a member of an archive is `archive.tar.gz/member`.
    func shown(_ path: String) -> String {
        guard let unpacked, path.hasPrefix(unpacked.scratch + "/") else { return path }
        return unpacked.archive + "/" + path.dropFirst(unpacked.scratch.count + 1)
    }

    public func importDirectory(_ directory: String, dryRun: Bool) async throws -> [FileOutcome] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CutoverError(.usage, "\(directory) does not exist", hint: "pass the folder (or one file) that holds the history files")
        }
        let files =
            !isDirectory.boolValue
            ? [directory]
            : (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
                .map { (directory as NSString).appendingPathComponent($0) }
                .filter {
                    var dir: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue
                }
        // A folder holding run_log.ndjson is a Cutover run folder: imported as one run with its artifacts.
        let runFolders = Set(
            files.filter { ($0 as NSString).lastPathComponent == RunFolder.logName }.map { ($0 as NSString).deletingLastPathComponent }
                .filter(RunFolder.isRunFolder))
        var outcomes: [FileOutcome] = []
        for folder in runFolders.sorted() {
            outcomes += await importRunFolder(folder, files: files.filter { ($0 as NSString).deletingLastPathComponent == folder }, dryRun: dryRun)
        }
        for path in files where !runFolders.contains((path as NSString).deletingLastPathComponent) {
            if Self.kind(of: path) == .tarball {
                outcomes += await importTarball(path, dryRun: dryRun)
            } else {
                outcomes.append(await importFile(path, dryRun: dryRun))
            }
        }
        return outcomes.sorted { $0.path < $1.path }
    }

    func importFile(_ path: String, dryRun: Bool) async -> FileOutcome {
        let kind = Self.kind(of: path)
        var outcome = FileOutcome(path: shown(path), kind: kind?.rawValue ?? "unknown", status: "skipped", items: 0, reason: nil)
        guard let kind else {
            outcome.reason = "not a history file Cutover knows (.json, .ndjson, .csv, .yml, store archives)"
            return outcome
        }
        if kind == .archiveManifest {
            outcome.reason = "read with the archive files it lists"
            return outcome
        }
        if kind == .runArtifact {
            outcome.reason = "an artifact of a Cutover run: import the run folder that holds it (with its \(RunFolder.logName))"
            return outcome
        }
        do {
            let hash = try Self.contentHash(path)
            if try await store.wasImported(contentHash: hash) {
                outcome.status = "already imported"
                return outcome
            }
            // Each kind reads its whole file before writing, except logs, which are written as
            // they are read and taken back (by import id) if a later line fails.
            let loaded = try await load(kind, path: path, hash: hash, write: !dryRun)
            outcome.items = loaded.items
            outcome.duplicates = loaded.duplicates
            outcome.kind = kind.rawValue
            if dryRun {
                outcome.status = "would import"
                return outcome
            }
            try await store.recordImport(contentHash: hash, path: shown(path), kind: kind.rawValue, items: loaded.items)
            outcome.status = "imported"
        } catch {
            outcome.status = "failed"
            outcome.reason = (error as? CutoverError)?.message ?? "\(error)"
        }
        return outcome
    }

    enum Kind: String {
        case logNDJSON = "log (ndjson)", logCSV = "log (csv)", yaml = "rules or pipeline (yaml)", json =
            "validation results or column metadata (json)"
        case archive = "Cutover store archive (ndjson.gz)", archiveManifest = "Cutover store archive manifest"
        case registry = "rulebook registry (json)", reportedMonths = "monthly overview (json)", failures = "failing rows of a suite (csv)"
        case tarball = "monthly archive (tar.gz)", runArtifact = "run artifact"
    }

    static func kind(of path: String) -> Kind? {
        let name = (path as NSString).lastPathComponent
        let lower = name.lowercased()
        if ArchivableTable.archived(inFile: name) != nil { return .archive }
        if name.hasPrefix("archive-before-"), name.hasSuffix(".json") { return .archiveManifest }
        if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") { return .tarball }
        if RunFolder.artifactNames.contains(name) { return .runArtifact }
        if lower.hasSuffix(".json") {
            if lower.contains("rulebook") { return .registry }
            if lower.contains("overview_cache") || (lower.contains("summary") && lower.range(of: #"\d{4}-\d{2}"#, options: .regularExpression) != nil)
            {
                return .reportedMonths
            }
        }
        if lower.range(of: #"_failures_\d{4}-\d{2}-\d{2}\.csv$"#, options: .regularExpression) != nil { return .failures }
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
    private func load(_ kind: Kind, path: String, hash: String, write: Bool) async throws -> Loaded {
        switch kind {
        case .logNDJSON: return try await loadLog(path, hash: hash, write: write) { line, number in try Self.logEntry(ndjson: line, line: number) }
        case .logCSV: return try await loadCSVLog(path, hash: hash, write: write)
        case .yaml: return Loaded(items: try await loadYAML(path, hash: hash, write: write))
        case .json: return try await loadJSON(path, hash: hash, write: write)
        case .archive: return try await loadArchive(path, write: write)
        case .registry: return try await loadRegistry(path, write: write)
        case .reportedMonths: return try await loadReportedMonths(path, write: write)
        case .failures: return try await loadFailures(path, hash: hash, write: write)
        case .archiveManifest, .tarball, .runArtifact: return Loaded(items: 0)
        }
    }

    /// One of Cutover's own archive files: restored (checked against its manifest when one is beside it).
    private func loadArchive(_ path: String, write: Bool) async throws -> Loaded {
        guard write else { return Loaded(items: try await StoreArchiver.count(path)) }
        let restored = try await StoreArchiver(store: store).restore(from: path)
        return Loaded(items: restored.reduce(0) { $0 + $1.rows }, duplicates: restored.reduce(0) { $0 + $1.rows - $1.added })
    }

    // MARK: Files other tools kept

    private func loadRegistry(_ path: String, write: Bool) async throws -> Loaded {
        let records = try RulebookRegistry.entries(try Self.json(path))
        guard write else { return Loaded(items: records.count) }
        let added = try await store.saveRegistryRules(records)
        return Loaded(items: records.count, duplicates: records.count - added)
    }

    private func loadReportedMonths(_ path: String, write: Bool) async throws -> Loaded {
        let months = try ReportedMonths.parse(
            try Self.json(path), fileName: (path as NSString).lastPathComponent, origin: shown(path),
            fileTime: Self.modificationTime(path))
        if write { try await store.saveReportedMonths(months) }
        return Loaded(items: months.count)
    }

    /// `<suite>_failures_YYYY-MM-DD.csv`: the failing rows as the file holds them (kept byte for
    /// byte), with their header and count; one snapshot per suite and date.
    private func loadFailures(_ path: String, hash: String, write: Bool) async throws -> Loaded {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let range = name.range(of: #"_failures_\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) else {
            throw CutoverError(.config, "not named <suite>_failures_YYYY-MM-DD.csv")
        }
        let suite = String(name[..<range.lowerBound]), date = String(name.suffix(10))
        var parser = CSVRecordParser()
        var header: [String]? = nil
        var rows: Int64 = 0
        try await LineReader.forEachLine(path) { line, number in
            guard let record = parser.feed(line) else { return }
            guard let header else {
                header = record
                return
            }
            if record == [""] { return }  // a blank line
            guard record.count == header.count else {
                throw CutoverError(.config, "line \(number) has \(record.count) fields where the header has \(header.count)")
            }
            rows += 1
        }
        guard let header else { throw CutoverError(.config, "an empty file: no header row") }
        guard write else { return Loaded(items: Int(rows)) }
        let snapshot = FailureSnapshotRecord(
            suite: suite, dataDate: date, rows: rows, columns: header, bytes: 0, sha256: hash,
            cachedAt: Self.modificationTime(path), origin: shown(path))
        let added = try await store.saveFailureSnapshot(snapshot, content: try Data(contentsOf: URL(fileURLWithPath: path)))
        return Loaded(items: Int(rows), duplicates: added ? 0 : Int(rows))
    }

    static func json(_ path: String) throws -> Any {
        try json(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func json(_ data: Data) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CutoverError(.config, "not valid JSON")
        }
    }

    /// The file's modification time, or now when the file system has none.
    static func modificationTime(_ path: String) -> String {
        ISOTime.string((try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date())  // no modification time: the import time stands in
    }

    // MARK: Archives of files and run folders

    /// A `.tar.gz` of history files: unpacked into a temporary folder as it streams, then each file
    /// imported as if it lay in a folder (members are named `archive.tar.gz/member`).
    private func importTarball(_ path: String, dryRun: Bool) async -> [FileOutcome] {
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("cutover-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }  // a temporary copy: nothing to keep
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let unpacked = try await TarExtractor.extract(path, into: scratch)
            var outcomes = unpacked.refused.map {
                FileOutcome(path: shown(path) + "/" + $0.path, kind: "unknown", status: "skipped", items: 0, reason: $0.reason)
            }
            if !unpacked.files.isEmpty {
                var inner = self
                inner.unpacked = (scratch, shown(path))
                outcomes += try await inner.importDirectory(scratch, dryRun: dryRun)
            }
            if outcomes.isEmpty {
                outcomes.append(FileOutcome(path: shown(path), kind: Kind.tarball.rawValue, status: "skipped", items: 0, reason: "no files in it"))
            }
            return outcomes
        } catch {
            return [
                FileOutcome(
                    path: shown(path), kind: Kind.tarball.rawValue, status: "failed", items: 0,
                    reason: (error as? CutoverError)?.message ?? "\(error)")
            ]
        }
    }

    /// A Cutover run folder: its run (made from the log's first and final events when the store
    /// does not know it), its log lines and validation results, and every file as an artifact.
    private func importRunFolder(_ folder: String, files: [String], dryRun: Bool) async -> [FileOutcome] {
        let logPath = (folder as NSString).appendingPathComponent(RunFolder.logName)
        var run: RunRecord
        do {
            run = try await RunFolder.run(fromLog: logPath, folder: folder)
            if unpacked != nil { run.artifactsDir = nil }  // unpacked for the import only: the store keeps its files
            if !dryRun, try await store.run(id: run.id) == nil { try await store.startRun(run) }
        } catch {
            return files.map {
                FileOutcome(path: shown($0), kind: "run folder", status: "failed", items: 0, reason: (error as? CutoverError)?.message ?? "\(error)")
            }
        }
        var outcomes: [FileOutcome] = []
        // The digests of the artifacts the store has already: an unchanged file is not written again.
        let stored = Dictionary(
            ((try? await store.artifacts(runID: run.id)) ?? []).map { ($0.name, $0.sha256) }, uniquingKeysWith: { first, _ in first })  // unreadable: every file is written again, which is harmless
        for path in files {
            let name = (path as NSString).lastPathComponent
            var outcome: FileOutcome
            switch Self.kind(of: path) {
            case .logNDJSON?, .json?: outcome = await importFile(path, dryRun: dryRun)
            default: outcome = FileOutcome(path: shown(path), kind: Kind.runArtifact.rawValue, status: dryRun ? "would import" : "imported", items: 1)
            }
            if !dryRun, outcome.status != "failed" {
                do {
                    let content = try Data(contentsOf: URL(fileURLWithPath: path))
                    if stored[name] == Hex.encode(SHA256.hash(data: content)) {
                        if outcome.kind == Kind.runArtifact.rawValue { outcome.status = "already imported" }
                    } else {
                        try await store.saveArtifact(runID: run.id, name: name, content: content)
                    }
                } catch {
                    outcome.status = "failed"
                    outcome.reason = "as an artifact of run \(run.id): " + ((error as? CutoverError)?.message ?? "\(error)")
                }
            }
            outcome.reason = outcome.reason ?? "run \(run.id)"
            outcomes.append(outcome)
        }
        return outcomes
    }

    // MARK: Logs

    private func loadLog(_ path: String, hash: String, write: Bool, parse: (String, Int) throws -> LogEntry?) async throws -> Loaded {
        var batch: [LogEntry] = []
        var loaded = Loaded(items: 0)
        var times: (first: String, last: String)?
        // The store writes one batch while the next is parsed, so both cores work; at most two
        // batches are held.
        var writing: Task<Int, any Error>?
        // Marks this import's lines so a failure takes back only them (within its time range); 64
        // bits tell imports apart, the file's whole hash would cost every line 48 more bytes.
        let importID = String(hash.prefix(16))
        func finishWriting() async throws {
            guard let task = writing else { return }
            writing = nil
            loaded.duplicates += try await task.value
        }
        func flush() async throws {
            try await finishWriting()
            let entries = batch
            batch = []
            batch.reserveCapacity(batchSize)
            writing = Task { [store] in entries.count - (try await store.addLogs(entries, importID: importID)) }
        }
        do {
            try await LineReader.forEachLine(path) { line, number in
                guard var entry = try parse(line, number) else { return }
                loaded.items += 1
                guard write else { return }
                entry.identify()
                times = times.map { (min($0.first, entry.at), max($0.last, entry.at)) } ?? (entry.at, entry.at)
                batch.append(entry)
                if batch.count >= batchSize { try await flush() }
            }
            if write, !batch.isEmpty { try await flush() }
            try await finishWriting()
        } catch {
            if write {
                // The batch in flight lands (or fails) first, or it could land after the take-back.
                _ = try? await writing?.value  // its own error, if any, is second to the one thrown
                if let times { try await store.deleteImportedLogs(importID: importID, from: times.first, through: times.last) }
            }
            throw error
        }
        return loaded
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
        var pairs: [(String, String)] = []
        for (key, value) in object {
            switch value {
            case let string as String: pairs.append((key, string))
            case is NSNull: continue
            case let nested as [String: Any]:
                if key == "fields" { for (k, v) in nested { pairs.append((k, "\(v)")) } }
            default: pairs.append((key, "\(value)"))
            }
        }
        return try LogShape(names: pairs.map(\.0)).entry(pairs.map(\.1), line: line)
    }

    /// Which column of a log export is which part of a ``LogEntry``, worked out once per header.
    struct LogShape {
        enum Role: Equatable { case at, level, run, table, event, message, field(String) }
        static let aliases: [String: Role] = [
            "at": .at, "timestamp": .at, "time": .at, "ts": .at, "level": .level, "status": .level, "severity": .level,
            "run": .run, "run_id": .run, "table": .table, "table_name": .table, "event": .event, "plugin": .event,
            "message": .message, "note": .message, "msg": .message,
        ]
        /// Unified-log statuses as levels.
        static let levels = ["failed": "error", "success": "info"]
        let roles: [Role]
        /// How many columns are kept as fields: each line's dictionary is made that size at once.
        let fieldCount: Int

        init(names: [String]) {
            var taken: [Role] = []
            roles = names.map { name in
                // The first column spelling a role takes it; a later one is kept as a field.
                if let role = Self.aliases[name.lowercased()], !taken.contains(role) {
                    taken.append(role)
                    return role
                }
                return .field(name)
            }
            fieldCount = roles.count { if case .field = $0 { true } else { false } }
        }

        /// The entry of one record; empty values count as absent.
        func entry(_ values: [String], line: Int) throws -> LogEntry {
            var at: String?, level: String?, run: String?, table: String?, event: String?, message: String?
            var fields = [String: String](minimumCapacity: fieldCount)
            for (role, value) in zip(roles, values) where !value.isEmpty {
                switch role {
                case .at: at = value
                case .level: level = value
                case .run: run = value
                case .table: table = value
                case .event: event = value
                case .message: message = value
                case .field(let name): fields[name] = value
                }
            }
            guard let at, let stored = ISOTime.normalize(at) else {
                throw CutoverError(.config, "line \(line) has no readable time (at/timestamp)")
            }
            let normalizedLevel = level.map { Self.levels[$0.lowercased()] ?? $0.lowercased() } ?? "info"
            return LogEntry(
                at: stored, level: normalizedLevel, runID: run, table: table, event: event ?? "imported", message: message ?? "", fields: fields)
        }
    }

    private func loadCSVLog(_ path: String, hash: String, write: Bool) async throws -> Loaded {
        var shape: LogShape? = nil
        var width = 0
        var parser = CSVRecordParser()
        return try await loadLog(path, hash: hash, write: write) { line, number in
            guard let record = parser.feed(line) else { return nil }
            guard let shape else {
                shape = LogShape(names: record)
                width = record.count
                return nil
            }
            guard record.count == width else {
                throw CutoverError(.config, "line \(number) has \(record.count) fields where the header has \(width)")
            }
            return try shape.entry(record, line: number)
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

    private func loadJSON(_ path: String, hash: String, write: Bool) async throws -> Loaded {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let json = try Self.json(data)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let origin = "import:" + shown(path)
        let runID = "import-" + hash.prefix(16)
        let fileTime = Self.modificationTime(path)

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
                if try await store.validationRun(id: report.runID) != nil { return Loaded(items: results.count, duplicates: results.count) }
                try await store.recordValidationRun(
                    ValidationRunRecord(
                        id: report.runID, suite: "row compare", source: report.source, target: report.target,
                        startedAt: at, finishedAt: at, status: report.allPassed ? "passed" : "failed",
                        passed: report.passed, failed: report.failed, origin: origin))
                try await store.addValidationResults(results)
            }
            return Loaded(items: results.count)
        }
        // Cutover's pipeline_results.json: a list of step results.
        if let list = json as? [[String: Any]], list.first?["check"] != nil, list.first?["step"] != nil {
            let steps = try JSONDecoder().decode([StepResult].self, from: data)
            let results = try steps.map { step -> ValidationResultRecord in
                var record = try step.resultRecord(runID: runID)
                record.at = fileTime
                return record
            }
            return Loaded(items: results.count, duplicates: write ? try await storeRun(runID, suite: name, at: fileTime, origin: origin, results) : 0)
        }
        // Column metadata: an object or list describing columns.
        if name.lowercased().contains("column_metadata") {
            // The time the file says it was cached at, else the file's own time.
            let object = json as? [String: Any]
            let inside = ["cached_at", "CACHED_AT", "fetched_at", "generated_at", "timestamp"].lazy.compactMap { object?[$0] as? String }.compactMap(
                ISOTime.normalize
            ).first
            if write {
                try await store.saveColumnMetadata([
                    ColumnMetadataRecord(
                        connection: "imported", schema: "", table: name,
                        payload: String(decoding: data, as: UTF8.self), fetchedAt: inside ?? fileTime)
                ])
            }
            return Loaded(items: (json as? [Any])?.count ?? (json as? [String: Any])?.count ?? 1)
        }
        // A suite's results file: `<suite>_YYYY-MM-DD.json` with a `results` list.
        if let object = json as? [String: Any], let list = object["results"] as? [[String: Any]] {
            let (suite, date) = Self.suiteAndDate(name, object)
            let ranAt = ((object["run_timestamp"] ?? object["timestamp"]) as? String).flatMap(ISOTime.normalize)
            let at = ranAt ?? date.map { $0 + "T00:00:00.000Z" } ?? fileTime
            // One suite run is one run whichever file holds it (a results file, a daily cache): it is
            // known by its suite and time, as the reference's UNIQUE (SUITE_NAME, RUN_TIMESTAMP).
            let suiteRunID =
                ranAt != nil || date != nil ? "import-" + Hex.encode(Array(SHA256.hash(data: Array("\(suite)\u{1F}\(at)".utf8)).prefix(8))) : runID
            var results = try list.enumerated().map { index, item in try Self.suiteResult(item, index: index, runID: suiteRunID, at: at) }
            // Statuses derived from the results (the reference's DERIVED_STATUS_RESULTS) are results too, named as such.
            let derived = object["derived_status_results"] as? [[String: Any]] ?? []
            results += try derived.enumerated().map { index, item in
                var result = try Self.suiteResult(item, index: results.count + index, runID: suiteRunID, at: at)
                result.check = "derived_status/" + result.check
                return result
            }
            let materials = (object["validated_materials"] as? [Any])?.map { "\($0)" }
            return Loaded(
                items: results.count,
                duplicates: write
                    ? try await storeRun(
                        suiteRunID, suite: suite, at: at, origin: origin, results,
                        materials: materials) : 0)
        }
        // Months keyed by YYYY-MM: an overview cache under another name.
        if let object = json as? [String: Any], !object.isEmpty,
            object.keys.allSatisfy({ $0.range(of: #"^\d{4}-\d{2}$"#, options: .regularExpression) != nil })
        {
            return try await loadReportedMonths(path, write: write)
        }
        throw CutoverError(.config, "JSON that is neither validation results (tables/results/steps), column metadata nor months (YYYY-MM keys)")
    }

    /// Stores a run and its results unless the store has it already; returns how many results were
    /// skipped as already there.
    private func storeRun(
        _ id: String, suite: String, at: String, origin: String, _ results: [ValidationResultRecord],
        materials: [String]? = nil
    ) async throws -> Int {
        if try await store.validationRun(id: id) != nil { return results.count }
        var run = ValidationRunRecord(id: id, suite: suite, startedAt: at, finishedAt: at, summarizing: results, origin: origin)
        run.materials = materials
        try await store.recordValidationRun(run)
        try await store.addValidationResults(results)
        return 0
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
            status =
                ["pass": "passed", "success": "passed", "fail": "failed", "error": "failed", "warn": "warning"][text.lowercased()]
                ?? text.lowercased()
        } else if let success = item["success"] as? Bool {
            status = success ? "passed" : "failed"
        } else {
            throw CutoverError(.config, "result \(index + 1) has neither status nor success")
        }
        let check = (item["check"] ?? item["expectation_type"] ?? config["expectation_type"] ?? item["rule"]) as? String ?? "imported"
        let column = (item["column"] ?? kwargs["column"]) as? String
        let details = (try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }  // re-encoding parsed JSON cannot fail
        return ValidationResultRecord(
            validationRunID: runID, step: index + 1, check: check, table: (item["table"] ?? item["table_name"]) as? String,
            status: status, severity: item["severity"] as? String, message: (item["message"] ?? item["note"]) as? String,
            affectedColumns: column.map { [$0] } ?? [], details: details, at: at)
    }
}

/// Lines of a text file, read a megabyte at a time, numbered from 1.
enum LineReader {
    static func forEachLine(_ path: String, _ body: (String, Int) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CutoverError(.io, "cannot read \(path)") }
        defer { try? handle.close() }  // a read handle: closing cannot lose data
        var lines = LineSplitter()
        var number = 0
        let numbered: (String) async throws -> Void = { line in
            number += 1
            try await body(line, number)
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            try await lines.feed(chunk, numbered)
        }
        try await lines.finish(numbered)
    }
}

/// RFC 4180 records fed line by line: a quoted field may span lines, `""` is a quote, text after a
/// closing quote up to the comma is kept as written. Works on UTF-8 bytes (the delimiters are
/// ASCII, so no multi-byte character is ever split); an unquoted field becomes a String straight
/// from the line's bytes.
struct CSVRecordParser {
    private var fields: [String] = []
    /// The quoted field being read (it may go on over several lines).
    private var field: [UInt8] = []
    private var inQuotes = false

    /// The record this line completes, or nil while a quoted field is still open.
    mutating func feed(_ line: String) -> [String]? {
        var line = line
        return line.withUTF8 { feed(bytes: $0) }
    }

    private mutating func feed(bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var index = 0
        if inQuotes { field.append(0x0A) }
        while true {
            if inQuotes {
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte != quote {
                        field.append(byte)
                    } else if index < bytes.count, bytes[index] == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                        break
                    }
                }
                if inQuotes { return nil }
                while index < bytes.count, bytes[index] != comma {
                    field.append(bytes[index])
                    index += 1
                }
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            } else if index < bytes.count, bytes[index] == quote {
                inQuotes = true
                index += 1
                continue
            } else {
                var end = index
                while end < bytes.count, bytes[end] != comma { end += 1 }
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self))
                index = end
            }
            // At a comma (another field follows, perhaps empty) or at the end of the record.
            if index == bytes.count {
                defer { fields = [] }
                return fields
            }
            index += 1
        }
    }
}
