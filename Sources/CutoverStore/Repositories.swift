import CutoverCore
import Foundation

// The store's repositories, one concept each (Hummingbird's PersistDriver is the model: small
// protocols, one implementation). ``MetadataStore`` is all of them.

/// Runs as they go: the run records, their tables and logs, the chunk ledger and its leases, watermarks and
/// incremental windows, rejected rows.
public protocol RunRepository: Sendable {
    /// The latest results for one table (or rule) across runs, newest first.
    func tableHistory(table: String, limit: Int) async throws -> [RunTableRecord]
    /// Keeps rows a target refused (`--on-error reject`), with the error that refused each.
    func addRejects(_ rejects: [RejectRecord]) async throws
    /// Removes a chunk's rejects before it is loaded again (resume), so none is counted twice.
    func clearRejects(runID: String, table: String, chunk: Int) async throws
    /// A run's rejected rows.
    func rejects(runID: String) async throws -> [RejectRecord]
    /// Adds chunks that are not in the ledger yet (existing ones keep their state).
    func addChunks(_ chunks: [ChunkRecord]) async throws
    /// A run's chunk ledger, every table.
    func chunks(runID: String) async throws -> [ChunkRecord]
    /// Leases the next pending chunk (or one whose lease expired) to `owner`; nil when none is left.
    /// Concurrent claimers — threads, processes, machines — never get the same chunk.
    func claimChunk(runID: String, owner: String, leaseSeconds: Int) async throws -> ChunkRecord?
    /// Records a chunk's outcome (`done` with rows, or `failed`/`pending` with the error).
    func finishChunk(_ chunk: ChunkRecord) async throws
    /// Puts every chunk of one table back to `pending` (a keyless table reloaded from empty).
    func resetChunks(runID: String, table: String) async throws
    /// Puts a run's `running` chunks back to `pending` (`--resume` after a crash).
    func releaseChunks(runID: String) async throws
    /// The newest unfinished run of this plan, to resume.
    func resumableRun(planHash: String) async throws -> RunRecord?
    /// Sets a run's status and clears its end (a resumed run runs again).
    func setRunStatus(id: String, status: RunStatus) async throws
    /// Asks a running run to stop (running → cancelling) in one transaction; false when it is not
    /// running (finished, or already cancelling). The CLI, the API and batches cancel through this.
    func requestCancel(runID: String) async throws -> Bool
    /// Makes `owner` the run's coordinator until `leaseSeconds` from now, when nobody holds it, the
    /// lease ran out, or it is held by `deadOwner` (a process known to be gone). False when another
    /// live coordinator holds it. Concurrent claimers never both win.
    func claimRun(id: String, owner: String, leaseSeconds: Int, replacing deadOwner: String?) async throws -> Bool
    /// Extends `owner`'s lease; false when it is no longer `owner`'s (taken over or finished).
    func renewRunLease(id: String, owner: String, leaseSeconds: Int) async throws -> Bool
    /// Marks runs `interrupted` that are `running`/`cancelling` and either held by a coordinator whose
    /// id starts with `owner` (a server shutting down: `host:pid:`) or, with `owner` nil, whose lease
    /// ran out. Returns their ids.
    @discardableResult
    func interruptRuns(ownedBy owner: String?) async throws -> [String]
    /// Watermark of the last incremental load of a table from a source into a target.
    func watermark(source: String, target: String, table: String) async throws -> (column: String, value: String?)?
    /// Records the high watermark an incremental load reached, and the run that reached it.
    func setWatermark(source: String, target: String, table: String, column: String, value: String?, runID: String) async throws
    /// Stored watermarks, optionally only those of one source and/or target.
    func watermarks(source: String?, target: String?) async throws -> [WatermarkRecord]
    /// Forgets watermarks so the next incremental run loads the whole table; `table` nil forgets
    /// every table of the pair. Returns how many were removed.
    func deleteWatermarks(source: String, target: String, table: String?) async throws -> Int
    /// The window run `runID` loads of `table`, once the run chose it.
    func runWindow(runID: String, table: String) async throws -> RunWindow?
    /// Records the window a run loads of a table, so a resume loads the same one.
    func setRunWindow(runID: String, table: String, window: RunWindow) async throws
    /// Records a run as started.
    func startRun(_ run: RunRecord) async throws
    /// Records a run's end: its status, summary or error.
    func finishRun(id: String, status: RunStatus, summary: String?, error: String?) async throws
    /// Records a table's (or a step's) outcome within a run.
    func recordTable(_ result: RunTableRecord) async throws
    /// Adds a run event to the log (the event streams read it).
    func log(_ entry: LogEntry) async throws
    /// The newest runs, a lease that ran out shown as `interrupted`.
    func runs(limit: Int) async throws -> [RunRecord]
    /// One run, a lease that ran out shown as `interrupted`.
    func run(id: String) async throws -> RunRecord?
    /// A run's table (and step) outcomes.
    func tables(runID: String) async throws -> [RunTableRecord]
    /// A run's log, oldest first.
    func logs(runID: String) async throws -> [LogEntry]
    /// Log lines after the line `afterID` (0: from the start), oldest first, with their ids — for
    /// event streams that follow a run written by any process.
    func logs(runID: String?, afterID: Int64, limit: Int) async throws -> [(id: Int64, entry: LogEntry)]
    /// Deletes a finished run with its tables, chunks, rejects, logs and validation results.
    func deleteRun(id: String) async throws
}

/// Validation runs and their check results, also those imported from other tools' files.
public protocol ValidationRepository: Sendable {
    /// Creates or replaces a validation run's row (called at start and again when it finishes).
    func recordValidationRun(_ run: ValidationRunRecord) async throws
    /// Adds a validation run's check results.
    func addValidationResults(_ results: [ValidationResultRecord]) async throws
    /// The newest validation runs.
    func validationRuns(limit: Int) async throws -> [ValidationRunRecord]
    /// One validation run.
    func validationRun(id: String) async throws -> ValidationRunRecord?
    /// A project's validation runs, newest first.
    func validationRuns(projectID: String, limit: Int) async throws -> [ValidationRunRecord]
    /// A validation run's results, by step.
    func validationResults(runID: String) async throws -> [ValidationResultRecord]
    /// One table's results across runs, newest first.
    func validationHistory(table: String, limit: Int) async throws -> [ValidationResultRecord]
}

/// The rulebook: rules by name, with their versions.
public protocol RulebookRepository: Sendable {
    /// Saves rules by name: a new name is version 1, a changed rule replaces the current version
    /// (kept in its history) with the next one, an unchanged rule is left alone. The owner stays
    /// the first version's. Returns how many rules were added or changed.
    @discardableResult
    func saveRules(_ rules: [StoredRule]) async throws -> Int
    /// The current version of every rule.
    func rules() async throws -> [StoredRule]
    /// Every version of the rule `name`, newest first (empty when there is no such rule).
    func ruleVersions(name: String) async throws -> [StoredRule]
    /// Deletes the rule version of that hash; false when there is none.
    func deleteRule(contentHash: String) async throws -> Bool
    /// The rule version of that hash.
    func rule(contentHash: String) async throws -> StoredRule?
}

/// Answers kept for a while: column metadata, the monthly overview, recent failures.
public protocol CacheRepository: Sendable {
    /// The cached columns of a connection's tables, or nil when any is missing or older than `maxAge` seconds.
    func columnMetadata(connection: String, tables: [(schema: String, table: String)], maxAge: TimeInterval) async throws -> [ColumnMetadataRecord]?
    /// Caches catalogs read from a connection (`analyze --metadata-max-age`).
    func saveColumnMetadata(_ records: [ColumnMetadataRecord]) async throws
    /// Runs, pass rate, rows moved and failures per month: from memory, else from overview_cache,
    /// else rebuilt (only the months whose entry expired) and cached for `maxAge` seconds.
    func monthlyOverview(maxAge: TimeInterval, refresh: Bool) async throws -> OverviewAnswer
    /// The newest failed checks, cached for `ttl` seconds.
    func recentFailures(limit: Int, ttl: TimeInterval) async throws -> FailuresAnswer
}

/// Projects and their pipelines.
public protocol ProjectRepository: Sendable {
    /// Adds or replaces a project by id.
    func saveProject(_ project: ProjectRecord) async throws
    /// Every project, by name.
    func projects() async throws -> [ProjectRecord]
    /// Deletes a project with its pipelines; false when there was none.
    @discardableResult
    func deleteProject(id: String) async throws -> Bool
    /// Adds a project's pipeline, or replaces the pipeline of that name.
    func savePipeline(_ pipeline: PipelineRecord) async throws
    /// A project's pipelines, by name.
    func pipelines(projectID: String) async throws -> [PipelineRecord]
}

/// Users, their API tokens and sessions, sign-in attempts, and the server's settings.
public protocol UserRepository: Sendable {
    /// Adds or replaces a user by id; a user name taken by another user is refused.
    func saveUser(_ user: UserRecord) async throws
    /// Adds the first user as an admin, atomically: false (and nothing added) when a user exists.
    func addFirstAdmin(_ user: UserRecord) async throws -> Bool
    /// Counts a sign-in attempt for `username` before its password is checked (so parallel
    /// attempts cannot outrun the lock): `.locked` without counting while a lock holds; after
    /// `maxFailures` uncleared attempts, the account is locked for a time that doubles.
    func reserveSignIn(username: String, maxFailures: Int) async throws -> SignInReservation
    /// A correct password: the attempts are forgotten.
    func clearSignInAttempts(username: String) async throws
    /// The user of that name.
    func user(username: String) async throws -> UserRecord?
    /// Every user, by name.
    func users() async throws -> [UserRecord]
    /// Keeps a new API token (its SHA-256, never the token).
    func saveAPIToken(_ token: APITokenRecord) async throws
    /// A user's API tokens, live or not.
    func apiTokens(userID: String) async throws -> [APITokenRecord]
    /// The user a live (not revoked, not expired) token with this hash belongs to.
    func user(apiTokenHash: String) async throws -> UserRecord?
    /// Revokes one of a user's tokens; false when the user has no such live token.
    func revokeAPIToken(id: String, userID: String) async throws -> Bool
    /// Removes a user and their API tokens (false: no such user); never the last enabled admin.
    func deleteUser(username: String) async throws -> Bool
    /// Saves an admin's change of role or enabled state; never leaves no enabled admin.
    func updateUserAccess(_ user: UserRecord) async throws
    /// A signed-out session: refused until it would have expired anyway.
    func revokeSession(id: String, username: String, expiresAt: String) async throws
    /// Whether a session was signed out.
    func isSessionRevoked(id: String) async throws -> Bool
    /// A server setting (e.g. the token signing key), set once when absent; returns the stored value.
    func setting(_ name: String, orInsert value: @autoclosure () -> String) async throws -> String
}

/// The audit log.
public protocol AuditRepository: Sendable {
    /// Deletes audit entries older than `before`; how many.
    func pruneAudit(before: String) async throws -> Int
    /// Writes one audit entry.
    func audit(_ entry: AuditRecord) async throws
    /// Audit entries, newest first, filtered by time, user and action.
    func auditEntries(since: String?, username: String?, action: String?, limit: Int) async throws -> [AuditRecord]
    /// Counts of audit entries per action and outcome since a time.
    func auditStats(since: String?) async throws -> [(action: String, outcome: String, count: Int)]
}

/// Notifications and who read them.
public protocol NotificationRepository: Sendable {
    /// Adds a notification for one user or everyone.
    func notify(_ notification: NotificationRecord) async throws
    /// The notifications `username` may see (theirs and everyone's), each read or not for them.
    func notifications(username: String, unreadOnly: Bool, limit: Int) async throws -> [NotificationRecord]
    /// Marks one notification read for `username` only; false when they cannot see it.
    func markNotificationRead(id: Int64, username: String) async throws -> Bool
}

/// Alert rules, the alerts they raised and their deliveries.
public protocol AlertRepository: Sendable {
    /// Adds a rule, or replaces the rule of that name.
    func saveAlertRule(_ rule: AlertRuleRecord) async throws
    /// Every alert rule, by name.
    func alertRules() async throws -> [AlertRuleRecord]
    /// False when there is no rule of that name. Its alerts stay (history).
    func deleteAlertRule(name: String) async throws -> Bool
    /// Adds or replaces an alert by id.
    func saveAlert(_ alert: AlertRecord) async throws
    /// The keys a rule has ever alerted about, open or not (a finished run is alerted on once).
    func alertKeys(rule: String) async throws -> Set<String>
    /// One alert.
    func alert(id: String) async throws -> AlertRecord?
    /// Newest first; `state` filters (firing, acknowledged, resolved, or `open` for the first two).
    func alerts(state: String?, limit: Int) async throws -> [AlertRecord]
    /// Records one delivery (with its attempts) of an alert to a channel.
    func recordAlertDelivery(_ delivery: AlertDeliveryRecord) async throws
    /// An alert's deliveries, oldest first.
    func alertDeliveries(alertID: String) async throws -> [AlertDeliveryRecord]
}

/// Batches of runs started together, and their items.
public protocol BatchRepository: Sendable {
    /// Records a batch and its items, all pending.
    func createBatch(_ batch: BatchRecord, items: [BatchItemRecord]) async throws
    /// Newest first; with `projectID`, that project's only.
    func batches(limit: Int, projectID: String?) async throws -> [BatchRecord]
    /// A batch with its items, by number.
    func batch(id: String) async throws -> (BatchRecord, [BatchItemRecord])?
    /// Saves a batch item's run, status and message.
    func updateBatchItem(_ item: BatchItemRecord) async throws
    /// Sets a batch's status; `finished` stamps its end.
    func setBatchStatus(id: String, status: String, finished: Bool) async throws
    /// Removes a batch and its items (their runs stay); false when there is none.
    func deleteBatch(id: String) async throws -> Bool
}

/// Run artifacts (analysis, plan, DDL, results, logs), compressed in the store.
public protocol ArtifactRepository: Sendable {
    /// Stores (or replaces) one artifact of a run; content larger than ``ArtifactRecord/maxStoredBytes``
    /// is listed without its bytes.
    func saveArtifact(runID: String, name: String, content: Data) async throws
    /// A run's artifacts, without their content.
    func artifacts(runID: String) async throws -> [ArtifactRecord]
    /// One artifact with its content; nil when the store has none by that name.
    func artifact(runID: String, name: String) async throws -> (record: ArtifactRecord, content: Data?)?
}

/// What other tools kept in files: rule registries, reported months, failure snapshots, workloads.
public protocol ImportedHistoryRepository: Sendable {
    /// Adds rulebook registry entries; an entry with the same suite, expectation and hash is kept
    /// as it is. Returns how many were added.
    @discardableResult
    func saveRegistryRules(_ rules: [RegistryRuleRecord]) async throws -> Int
    /// The registry, of one suite or all, by suite, expectation and when added.
    func registryRules(suite: String?) async throws -> [RegistryRuleRecord]
    /// Stores (or replaces) months as another tool reported them.
    func saveReportedMonths(_ months: [ReportedMonth]) async throws
    /// The monthly figures imported from overview caches, by month.
    func reportedMonths() async throws -> [ReportedMonth]
    /// Stores a suite's failing rows of one data date unless the store has that (suite, date)
    /// already; false when it had. The snapshot's `bytes` and `sha256` are taken from `content`. Content above ``ArtifactRecord/maxStoredBytes`` compressed is refused.
    func saveFailureSnapshot(_ snapshot: FailureSnapshotRecord, content: Data) async throws -> Bool
    /// The snapshots of one suite or all, newest date first, without their content.
    func failureSnapshots(suite: String?) async throws -> [FailureSnapshotRecord]
    /// One snapshot with its content (the CSV as imported).
    func failureSnapshot(suite: String, dataDate: String) async throws -> (record: FailureSnapshotRecord, content: Data)?
    /// Keeps what one workload import found, per table, join pair and column, under its run.
    func saveWorkload(runID: String, _ rows: WorkloadRows) async throws
}

/// The store itself: where it lives, its schema, statistics, read-only questions, imports, archives.
public protocol StoreOperations: Sendable {
    /// The database the store lives in (for SQLite also the files beside it). No source, target or
    /// query connection may point at one of these: the store holds password hashes and the token
    /// signing key.
    var identities: Set<DatabaseIdentity> { get }
    /// The applied schema version.
    func schemaVersion() async throws -> Int
    /// Runs one of the copilot's fixed reads (see ``StoreRead``) with its bound parameters; rows
    /// as text, as wide as the read's `columns`.
    func read(_ query: StoreRead) async throws -> [[String?]]
    /// Row counts of every store table, cache hits, schema version.
    func stats() async throws -> StoreStats
    /// Whether a file with this content hash was imported already.
    func wasImported(contentHash: String) async throws -> Bool
    /// Records that a file's content was imported (by its hash), so the same content is not imported twice.
    func recordImport(contentHash: String, path: String, kind: String, items: Int) async throws
    /// Appends log lines in one transaction. Lines with a ``LogEntry/key`` already in the store are skipped (an
    /// import of overlapping exports); `importID` marks the lines of one import so a failed one can
    /// be taken back with ``deleteImportedLogs(importID:from:through:)``. Returns how many lines were added.
    @discardableResult
    func addLogs(_ entries: [LogEntry], importID: String?) async throws -> Int
    /// Removes the lines one import added; their times lie in `first...last` (the time index finds
    /// them: `import_id` has no index, every imported line would pay for one).
    func deleteImportedLogs(importID: String, from first: String, through last: String) async throws
    /// Up to `limit` rows of an archivable table (`validation_runs`, `validation_results`, `logs`)
    /// older than `before`, after the row `after` in key order; each row as column → text.
    func archivableRows(_ table: ArchivableTable, before: String, after: String?, limit: Int) async throws -> [[String: String?]]
    /// Deletes the rows of `table` older than `before` whose key lies in `first...last`.
    @discardableResult
    func deleteArchived(_ table: ArchivableTable, before: String, first: String, last: String) async throws -> Int
    /// Puts archived rows (as ``archivableRows(_:before:after:limit:)`` read them) back with their
    /// keys, in one transaction; a row whose key is in the table already is left as it is.
    /// Returns how many rows were added.
    func restoreArchived(_ table: ArchivableTable, rows: [[String: String?]]) async throws -> Int
}
