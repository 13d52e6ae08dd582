import CutoverCore
import CutoverStore
import Foundation
import Logging

/// Records one run: its row in the store, its artifacts directory, and its events, written both
/// to the store's log and to `run_log.ndjson`. Optionally echoes progress to the terminal.
public actor RunRecorder {
    public nonisolated let runID: String
    /// analyze, plan, migrate, validate, …: names the run in notifications.
    public nonisolated let kind: String
    /// The run's connections as the store keeps them (passwords masked); the final event carries
    /// them, so a run folder describes its run (`store import` of a run folder reads them back).
    private let connections: [String: String]
    public nonisolated let artifactsDirectory: String
    public nonisolated let store: any MetadataStore
    private let logFile: FileHandle?
    private let echo: (@Sendable (String) -> Void)?
    /// This coordinator's lease on the run (nil for a worker, which coordinates nothing).
    private let lease: LeaseKeeper?
    private let owner: String?
    /// Whether this recorder counts in `cutover_active_runs` (a coordinator, until it finishes).
    private var active: Bool
    private let logger: Logger

    /// Creates the run's directory and its store row, and takes the run's lease.
    public init(
        store: any MetadataStore, kind: String, source: ConnectionURL?, target: ConnectionURL?, artifactsRoot: String,
        runID: String = RunRecord.newID(), planHash: String? = nil, echo: (@Sendable (String) -> Void)? = nil,
        startedBy: String? = nil, request: String? = nil
    ) async throws {
        self.runID = runID
        self.kind = kind
        connections = Self.connections(source: source?.description, target: target?.description)
        self.store = store
        self.echo = echo
        let directory = (artifactsRoot as NSString).appendingPathComponent(runID)
        self.artifactsDirectory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CutoverError(
                .io, "cannot create the artifacts directory \(directory): \(error.localizedDescription)",
                hint: "pass --out to a writable directory")
        }
        logFile = Self.openLog(in: directory)
        let owner = RunLease.newOwner()
        try await store.startRun(
            RunRecord(
                id: runID, kind: kind, source: source?.description, target: target?.description,
                artifactsDir: directory, planHash: planHash, createdBy: startedBy, leaseOwner: owner,
                leaseUntil: ISOTime.string(Date().addingTimeInterval(TimeInterval(RunLease.seconds))), request: request))
        self.owner = owner
        lease = LeaseKeeper(store: store, runID: runID, owner: owner)
        (active, logger) = Self.started(runID: runID, kind: kind, coordinating: true)
    }

    /// Continues a run after a crash or a stop: same id, same artifacts directory, log appended.
    /// Refuses (``CutoverError/Code/runBusy``) while another live process coordinates it.
    public init(store: any MetadataStore, resuming run: RunRecord, echo: (@Sendable (String) -> Void)? = nil) async throws {
        let owner = try await RunLease.take(
            run, store: store,
            busyHint: "wait for it to finish, stop it with `cutover runs cancel \(run.id)`, "
                + "or help it with `cutover worker --run \(run.id)` (same source, target and store)")
        self.runID = run.id
        self.kind = run.kind
        connections = Self.connections(source: run.source, target: run.target)
        self.store = store
        self.echo = echo
        let directory = run.artifactsDir ?? ".cutover/runs/\(run.id)"
        self.artifactsDirectory = directory
        // The directory may be gone (another machine's run): the log then lives in the store only.
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logFile = Self.openLog(in: directory)
        self.owner = owner
        lease = LeaseKeeper(store: store, runID: run.id, owner: owner)
        (active, logger) = Self.started(runID: run.id, kind: run.kind, coordinating: true)
    }

    private static func connections(source: String?, target: String?) -> [String: String] {
        var fields: [String: String] = [:]
        fields["source"] = source.map(Redaction.connectionString)
        fields["target"] = target.map(Redaction.connectionString)
        return fields
    }

    /// `run_log.ndjson` in `directory`, opened for appending (created when missing); nil when the
    /// directory cannot be written (the events still go to the store).
    private static func openLog(in directory: String) -> FileHandle? {
        let path = (directory as NSString).appendingPathComponent(RunFolder.logName)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()  // a new file is already at its end
        return handle
    }

    /// A worker's view of a run another process coordinates: events go to the store only.
    public init(store: any MetadataStore, joining run: RunRecord, echo: (@Sendable (String) -> Void)? = nil) async throws {
        self.runID = run.id
        self.kind = run.kind
        connections = Self.connections(source: run.source, target: run.target)
        self.store = store
        self.echo = echo
        self.artifactsDirectory = run.artifactsDir ?? ""
        self.logFile = nil
        self.lease = nil
        self.owner = nil
        (active, logger) = Self.started(runID: run.id, kind: run.kind, coordinating: false)
    }

    private static func started(runID: String, kind: String, coordinating: Bool) -> (Bool, Logger) {
        if coordinating { RunMetrics.runStarted() }
        var logger = Logger(label: "cutover.run")
        logger[metadataKey: "run_id"] = "\(runID)"
        logger[metadataKey: "kind"] = "\(kind)"
        return (coordinating, logger)
    }

    /// False once another process took the run over (this one stalled past its lease): it must
    /// stop loading and must not write the run's outcome.
    public var holdsLease: Bool { !(lease?.lost ?? false) }

    /// One structured event. `echo` prints `message` when given a terminal callback.
    public func event(
        _ event: String, table: String? = nil, level: String = "info", _ message: String, fields: [String: String] = [:],
        echo shouldEcho: Bool = true
    ) async {
        let entry = LogEntry(level: level, runID: runID, table: table, event: event, message: message, fields: fields)
        if let data = try? JSONEncoder.sorted.encode(entry) {  // strings only: cannot fail
            logFile?.write(data)
            logFile?.write(Data("\n".utf8))
        }
        try? await store.log(entry)  // logging never stops a move; a store that cannot take it fails the next ledger write loudly
        var metadata: Logger.Metadata = ["event": "\(event)"]
        if let table { metadata["table"] = "\(table)" }
        for (key, value) in entry.fields { metadata[key] = "\(value)" }
        logger.log(level: Logger.Level(name: level) ?? .info, "\(entry.message)", metadata: metadata)
        if shouldEcho { echo?(entry.message) }
    }

    /// A progress line for the terminal only (the events already carry the numbers).
    public func progress(_ line: String) { echo?(line) }

    public func recordTable(_ record: RunTableRecord) async throws { try await store.recordTable(record) }

    public func finish(status: RunStatus, summary: String?, error: String? = nil) async throws {
        lease?.stop()
        if let owner, !(try await store.renewRunLease(id: runID, owner: owner, leaseSeconds: RunLease.seconds)) {
            await event("run.lease_lost", level: "warn", "run \(runID): another process took this run over; its outcome is theirs to record")
            ended(status: "lease_lost")
            try? logFile?.close()  // written line by line already
            return
        }
        let name = status == .failed ? "run.failed" : status == .interrupted ? "run.interrupted" : "run.completed"
        await storeArtifacts()
        // The status is recorded before the event that announces it: whoever reacts to the event reads the final status.
        try await store.finishRun(id: runID, status: status, summary: summary, error: error)
        ended(status: status.rawValue)
        await event(
            name, level: status == .failed ? "error" : status == .interrupted ? "warn" : "info", "run \(runID) \(status.rawValue)",
            fields: connections.merging(["status": status.rawValue, "kind": kind, "error": error].compactMapValues { $0 }) { $1 })
        try? logFile?.synchronize()  // stored again below with its last line; a log that cannot sync is stored as far as it got
        await storeArtifacts(only: RunFolder.logName)
        try? await store.notify(
            NotificationRecord(
                kind: status == .failed ? "run.failed" : "run.completed", title: "\(kind) \(runID) \(status.rawValue)",  // a notification is a courtesy; the run's status is recorded above
                message: error ?? summary, runID: runID))
        try? logFile?.close()  // written line by line already
    }

    private func ended(status: String) {
        guard active else { return }
        active = false
        RunMetrics.runEnded(kind: kind, status: status)
    }

    /// Copies every file of the run folder into the store, so a server or another machine sees what
    /// this run wrote; the folder stays as a local copy. A file the store refuses is named in the
    /// run's log (the run's outcome does not depend on its copy).
    private func storeArtifacts(only: String? = nil) async {
        guard !artifactsDirectory.isEmpty, let names = try? FileManager.default.contentsOfDirectory(atPath: artifactsDirectory) else { return }  // no folder: nothing was written
        for name in names.sorted() where only == nil || name == only {
            let path = (artifactsDirectory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            do {
                try await store.saveArtifact(runID: runID, name: name, content: try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                await event(
                    "artifact.not_stored", level: "warn",
                    "\(name) stays in \(artifactsDirectory) only: the store did not take it (\(error.redactedDescription))")
            }
        }
    }

    /// Records that the run stopped on `error`: `interrupted` when its task was cancelled (the
    /// process is shutting down; the run can be resumed), `failed` otherwise. Best effort: the
    /// caller rethrows `error`, which matters more than a record of it that the store refused.
    public func fail(_ error: any Error) async {
        let interrupted = error is CancellationError || Task.isCancelled
        try? await finish(
            status: interrupted ? .interrupted : .failed, summary: nil,  // recording a failure while failing: the original error is thrown
            error: interrupted ? "interrupted: the process running it was stopped; resume it by running it again" : error.redactedDescription)
    }

    /// Stores this run's checks as a validation run (`suite` names what ran them) with its results.
    public func recordValidation(
        suite: String, source: String?, target: String?, started: String, _ results: [ValidationResultRecord],
        provenance: PipelineProvenance? = nil
    ) async throws {
        var run = ValidationRunRecord(
            id: runID, suite: suite, source: source, target: target, startedAt: started, finishedAt: ISOTime.now(), summarizing: results)
        if let provenance {
            (run.projectID, run.pipelineName, run.pipelineHash, run.pipelineContent) = (
                provenance.projectID, provenance.name, provenance.hash, provenance.content
            )
        }
        try await store.recordValidationRun(run)
        try await store.addValidationResults(results)
        RunMetrics.checks(results.map(\.status))
    }

    /// Writes a value as pretty, key-sorted JSON into the run directory and returns its path.
    @discardableResult
    public nonisolated func writeJSONArtifact(_ name: String, _ value: some Encodable) throws -> String {
        try writeArtifact(name, String(decoding: try JSONEncoder.pretty.encode(value), as: UTF8.self))
    }

    /// Writes an artifact file into the run directory and returns its path. Artifacts are made
    /// from masked values (`ConnectionURL.description`); they are not scrubbed as text, which
    /// would corrupt JSON and YAML.
    @discardableResult
    public nonisolated func writeArtifact(_ name: String, _ content: String) throws -> String {
        let path = (artifactsDirectory as NSString).appendingPathComponent(name)
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}
