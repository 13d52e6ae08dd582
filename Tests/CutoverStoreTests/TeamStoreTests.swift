import CutoverCore
@testable import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Validation results, caches, team records and archiving: the same behaviour on every backend.
@Suite struct TeamStoreTests {
    typealias Backends = MetadataStoreTests

    static func result(_ run: String, _ table: String, _ status: String, at: String = ISOTime.now()) -> ValidationResultRecord {
        ValidationResultRecord(
            validationRunID: run, check: "row_diff", table: table, status: status, message: "\(table) \(status) with postgres://u:pw@h/db",
            sourceRows: 10, targetRows: 9, matchPercent: 90, affectedColumns: ["a", "b"], details: #"{"missing": 1}"#, at: at)
    }

    @Test(arguments: Backends.backends())
    func validationRunsAndResultsRoundTrip(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            try await store.recordValidationRun(ValidationRunRecord(id: "v1", suite: "nightly", source: "postgres://u:pw@h/db", status: "running"))
            try await store.addValidationResults([Self.result("v1", "public.a", "passed"), Self.result("v1", "public.b", "failed")])
            try await store.recordValidationRun(ValidationRunRecord(id: "v1", suite: "nightly", status: "failed", passed: 1, failed: 1))
            let runs = try await store.validationRuns(limit: 10)
            #expect(runs.map(\.id) == ["v1"])
            #expect(runs.first?.status == "failed" && runs.first?.failed == 1)
            let results = try await store.validationResults(runID: "v1")
            #expect(results.map(\.status) == ["passed", "failed"])
            #expect(results.first?.affectedColumns == ["a", "b"])
            #expect(results.first?.matchPercent == 90)
            #expect(results.first?.message?.contains(":pw@") == false)
            let details = try #require(results.first?.details)
            #expect((try JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: Any])?["missing"] as? Int == 1)
            #expect(try await store.validationHistory(table: "public.b", limit: 5).map(\.status) == ["failed"])
        }
    }

    /// The key an imported line is deduplicated by is the one earlier versions stored (without the
    /// time it led with before migration 23): a changed hash would let a re-import add every line again.
    @Test func anImportedLinesKeyIsTheOneStoredBefore() {
        let entry = LogEntry(
            at: "2025-01-01T00:00:00.000Z", level: "error", runID: nil, event: "rectifier", message: "note 0",
            fields: ["EXTRA": "x,0", "FIELD": "field_0", "MATERIAL_NUMBER": "M000000"])
        #expect(entry.contentKey() == "0a87e3b989c7c076ff5aea27b6d275fc")
        var identified = entry
        identified.identify()
        #expect(identified.key == entry.contentKey())
        #expect(LogEntry.currentKey("2025-01-01T00:00:00.000Z/0a87e3b989c7c076ff5aea27b6d275fc") == entry.contentKey())
        #expect(LogEntry.currentKey(entry.contentKey()) == entry.contentKey())
    }

    /// Migration 23 drops the time from the keys stored before it, and a restored archive written
    /// before it gets the same: either way, importing the same line again adds nothing.
    @Test(arguments: Backends.backends())
    func keysStoredBeforeMigration23StillDeduplicate(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            func line(_ message: String) -> LogEntry {
                var entry = LogEntry(at: "2025-04-02T10:00:00.000Z", runID: nil, event: "imported", message: message)
                entry.identify()
                return entry
            }
            let (stored, archived) = (line("stored before"), line("archived before"))
            @Sendable func oldKey(_ entry: LogEntry) -> String { entry.at + "/" + (entry.key ?? "") }
            let store = try await SQLMetadataStore.open(url)
            try await store.run { db in
                _ = try db.execute(
                    """
                    INSERT INTO logs (at, level, event, message, entry_key, import_id)
                    VALUES (\(stored.at), 'info', 'imported', \(stored.message), \(oldKey(stored)), 'old')
                    """)
                _ = try db.execute("DELETE FROM schema_migrations WHERE version = 23")
            }
            let migrated = try await SQLMetadataStore.open(url)
            let keys = { try await migrated.run { db in try db.execute("SELECT entry_key FROM logs ORDER BY id").map { $0.first ?? nil } } }
            #expect(try await keys() == [stored.key])
            #expect(try await migrated.addLogs([stored], importID: "new") == 0)

            let row: [String: String?] = [
                "id": "9000", "at": archived.at, "level": "info", "run_id": nil, "table_name": nil, "event": "imported",
                "message": archived.message, "fields": nil, "entry_key": oldKey(archived), "import_id": "old",
            ]
            #expect(try await migrated.restoreArchived(.logs, rows: [row]) == 1)
            #expect(try await keys() == [stored.key, archived.key])
            #expect(try await migrated.addLogs([archived, stored], importID: "new") == 0)
        }
    }

    /// Imported lines are kept once per content key, in their order, within a batch and across
    /// batches; Cutover's own lines (no key) all stay, even when they read the same.
    @Test(arguments: Backends.backends())
    func importedLogLinesGoInOnceAndInOrder(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            func line(_ message: String, keyed: Bool = true, fields: [String: String] = [:]) -> LogEntry {
                var entry = LogEntry(at: "2025-04-02T10:00:00.000Z", runID: "r", event: "imported", message: message, fields: fields)
                if keyed { entry.identify() }
                return entry
            }
            let first = try await store.addLogs(
                [line("a"), line("b", fields: ["x": "tab\there\\n"]), line("a"), line("own", keyed: false), line("own", keyed: false)],
                importID: "i1")
            #expect(first == 4)
            #expect(try await store.addLogs([line("b", fields: ["x": "tab\there\\n"]), line("c"), line("c")], importID: "i2") == 1)
            let stored = try await store.logs(runID: "r", afterID: 0, limit: 10)
            #expect(stored.map(\.entry.message) == ["a", "b", "own", "own", "c"])
            #expect(stored.map(\.id) == stored.map(\.id).sorted())
            #expect(stored[1].entry.fields == ["x": "tab\there\\n"])
            // Taking an import back removes its own lines only, found by their times.
            try await store.deleteImportedLogs(importID: "i2", from: "2025-04-02T10:00:00.000Z", through: "2025-04-02T10:00:00.000Z")
            #expect(try await store.logs(runID: "r", afterID: 0, limit: 10).map(\.entry.message) == ["a", "b", "own", "own"])
        }
    }

    @Test(arguments: Backends.backends())
    func theMonthlyOverviewIsCachedRebuiltWhenExpiredAndUpdatedByWrites(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            try await store.recordValidationRun(ValidationRunRecord(id: "old", suite: "s", startedAt: "2025-03-10T08:00:00.000Z", status: "passed"))
            try await store.addValidationResults([
                Self.result("old", "t", "passed", at: "2025-03-10T08:00:00.000Z"),
                Self.result("old", "t", "warning", at: "2025-03-10T08:00:00.000Z"),
            ])
            try await store.recordValidationRun(ValidationRunRecord(id: "new", suite: "s", status: "failed"))
            try await store.addValidationResults([Self.result("new", "t", "failed")])

            let first = try await store.monthlyOverview(maxAge: 3600, refresh: false)
            #expect(first.servedFrom == "rebuilt")
            let march = try #require(first.months.first { $0.month == "2025-03" })
            #expect(march.checks == 2 && march.passed == 1 && march.warned == 1 && march.validationRuns == 1 && march.passRate == 0.5)
            #expect(first.months.last?.failed == 1)

            // Another process (a new store) finds it in the store's cache.
            let other = try await SQLMetadataStore.open(url)
            #expect(try await other.monthlyOverview(maxAge: 3600, refresh: false).servedFrom == "cache")
            #expect(try await other.monthlyOverview(maxAge: 3600, refresh: false).servedFrom == "memory")

            // A new result this month drops this month's entry only; the next read recomputes it.
            try await other.addValidationResults([Self.result("new", "t", "passed")])
            let updated = try await SQLMetadataStore.open(url).monthlyOverview(maxAge: 3600, refresh: false)
            #expect(updated.servedFrom == "rebuilt")
            #expect(updated.months.last?.checks == 2)
            #expect(updated.months.first { $0.month == "2025-03" }?.checks == 2)

            // A run started and finished this month is counted at the next read, failed or not.
            let before = try await SQLMetadataStore.open(url).monthlyOverview(maxAge: 3600, refresh: false).months.last
            try await other.startRun(RunRecord(id: "run-now", kind: "migrate", source: nil, target: nil))
            try await other.finishRun(id: "run-now", status: .failed, summary: nil, error: "boom")
            let after = try await SQLMetadataStore.open(url).monthlyOverview(maxAge: 3600, refresh: false).months.last
            #expect(after?.runs == (before?.runs ?? 0) + 1 && after?.failedRuns == (before?.failedRuns ?? 0) + 1 && after?.migrations == 1)

            // Expired entries are recomputed.
            _ = try await SQLMetadataStore.open(url).monthlyOverview(maxAge: -1, refresh: true)
            #expect(try await SQLMetadataStore.open(url).monthlyOverview(maxAge: 3600, refresh: false).servedFrom == "rebuilt")

            let stats = try await SQLMetadataStore.open(url).stats()
            let overview = try #require(stats.caches.first { $0.name == "overview" })
            #expect(overview.hits >= 1 && overview.misses >= 2)
            #expect(stats.tables.first { $0.name == "validation_results" }?.rows == 4)
        }
    }

    @Test(arguments: Backends.backends())
    func recentFailuresAndColumnMetadataAreCachedWithAnAge(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            try await store.addValidationResults([Self.result("r", "a", "failed"), Self.result("r", "b", "passed")])
            #expect(try await store.recentFailures(limit: 10, ttl: 600).servedFrom == "rebuilt")
            let cached = try await SQLMetadataStore.open(url).recentFailures(limit: 10, ttl: 600)
            #expect(cached.servedFrom == "cache" && cached.failures.map(\.table) == ["a"])
            try await store.addValidationResults([Self.result("r", "c", "failed")])
            #expect(try await SQLMetadataStore.open(url).recentFailures(limit: 10, ttl: 600).failures.count == 2)

            let tables = [(schema: "public", table: "orders")]
            #expect(try await store.columnMetadata(connection: "postgres://u:pw@h/db", tables: tables, maxAge: 60) == nil)
            try await store.saveColumnMetadata([
                ColumnMetadataRecord(
                    connection: "postgres://u:pw@h/db", schema: "public", table: "orders",
                    payload: #"{"columns": ["id"]}"#)
            ])
            let found = try #require(try await store.columnMetadata(connection: "postgres://u:pw@h/db", tables: tables, maxAge: 60))
            #expect(found.first?.connection.contains("pw") == false)
            #expect(try await store.columnMetadata(connection: "postgres://u:pw@h/db", tables: tables, maxAge: -1) == nil)
        }
    }

    @Test(arguments: Backends.backends())
    func projectsPipelinesUsersAuditAndNotifications(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            let store = try await SQLMetadataStore.open(url)
            let project = ProjectRecord(name: "warehouse", source: "postgres://u:pw@h/db", settings: #"{"schema": "public"}"#)
            try await store.saveProject(project)
            await #expect(throws: CutoverError.self) { try await store.saveProject(ProjectRecord(name: "warehouse")) }
            try await store.savePipeline(PipelineRecord(projectID: project.id, name: "nightly", content: "steps: []", contentHash: "x"))
            try await store.savePipeline(PipelineRecord(projectID: project.id, name: "nightly", content: "steps: [1]", contentHash: "y"))
            #expect(try await store.pipelines(projectID: project.id).map(\.content) == ["steps: [1]"])
            #expect(try await store.projects().first?.source?.contains("pw") == false)
            #expect(try await store.deleteProject(id: project.id))
            #expect(try await store.pipelines(projectID: project.id).isEmpty)
            #expect(try await store.deleteProject(id: project.id) == false)

            try await store.saveUser(UserRecord(username: "ada", passwordHash: "$2b$12$abc", role: .admin))
            await #expect(throws: CutoverError.self) { try await store.saveUser(UserRecord(username: "ada", passwordHash: "x", role: .viewer)) }
            var ada = try #require(try await store.user(username: "ada"))
            ada.lastLoginAt = "2026-11-28T10:00:00.000Z"
            try await store.saveUser(ada)
            #expect(try await store.users().map(\.lastLoginAt) == ["2026-11-28T10:00:00.000Z"])
            // The first admin is added only to an empty store.
            #expect(try await store.addFirstAdmin(UserRecord(username: "mallory", passwordHash: "x", role: .viewer)) == false)
            #expect(try await store.user(username: "mallory") == nil)

            // Sign-in attempts are counted before the password is checked, then lock.
            for _ in 0..<5 { #expect(try await store.reserveSignIn(username: "ghost", maxFailures: 5) == .allowed) }
            guard case .locked = try await store.reserveSignIn(username: "ghost", maxFailures: 5) else {
                Issue.record("the sixth attempt is locked")
                return
            }
            try await store.clearSignInAttempts(username: "ghost")
            #expect(try await store.reserveSignIn(username: "ghost", maxFailures: 5) == .allowed)
            // A count that is not a number (a store changed by hand) is an error, never a fresh start.
            if backend == "sqlite" {  // the server engines' INTEGER column refuses the text itself
                try await store.run { db in
                    _ = try db.execute("UPDATE sign_in_attempts SET failures = 'many', locked_until = NULL WHERE username = 'ghost'")
                }
                await #expect(throws: CutoverError.self) { try await store.reserveSignIn(username: "ghost", maxFailures: 5) }
                try await store.clearSignInAttempts(username: "ghost")
            }

            try await store.saveAPIToken(APITokenRecord(userID: ada.id, name: "ci", tokenHash: "h-live"))
            try await store.saveAPIToken(APITokenRecord(userID: ada.id, name: "old", tokenHash: "h-old", expiresAt: "2000-01-01T00:00:00.000Z"))
            #expect(try await store.user(apiTokenHash: "h-live")?.username == "ada")
            #expect(try await store.user(apiTokenHash: "h-old") == nil)
            let live = try #require(try await store.apiTokens(userID: ada.id).first { $0.name == "ci" })
            #expect(try await store.revokeAPIToken(id: live.id, userID: "someone-else") == false)
            #expect(try await store.revokeAPIToken(id: live.id, userID: ada.id))
            #expect(try await store.user(apiTokenHash: "h-live") == nil)

            try await store.audit(
                AuditRecord(
                    username: "ada", action: "migration.start", resource: "run/1", outcome: "ok",
                    details: #"{"error": "cannot connect"}"#))
            try await store.audit(AuditRecord(username: "bob", action: "login", resource: nil, outcome: "denied"))
            #expect(try await store.auditEntries(since: nil, username: "ada", action: nil, limit: 10).map(\.action) == ["migration.start"])
            #expect(try await store.auditEntries(since: nil, username: nil, action: "login", limit: 10).map(\.outcome) == ["denied"])
            #expect(
                try await store.auditEntries(since: nil, username: "ada", action: nil, limit: 10).first?.details?.contains("cannot connect") == true)

            try await store.notify(NotificationRecord(kind: "run.failed", title: "migrate failed", runID: "1"))
            try await store.notify(NotificationRecord(username: "bob", kind: "run.completed", title: "for bob"))
            let forAda = try await store.notifications(username: "ada", unreadOnly: true, limit: 10)
            #expect(forAda.map(\.title) == ["migrate failed"])
            #expect(try await store.markNotificationRead(id: try #require(forAda.first?.id), username: "ada"))
            #expect(try await store.notifications(username: "ada", unreadOnly: true, limit: 10).isEmpty)
            // Read for ada only: bob still has both unread, and cannot mark what is not his.
            #expect(try await store.notifications(username: "bob", unreadOnly: true, limit: 10).count == 2)
            let bobs = try #require(try await store.notifications(username: "bob", unreadOnly: true, limit: 10).first { $0.title == "for bob" }?.id)
            #expect(try await store.markNotificationRead(id: bobs, username: "ada") == false)
        }
    }

    @Test(arguments: Backends.backends())
    func archiveWritesVerifiedGzipFilesAndDeletesOnlyWhatItWrote(backend: String) async throws {
        try await Backends.withStore(backend) { url in
            try await TestEnvironment.withTemporaryDirectory { directory in
                let store = try await SQLMetadataStore.open(url)
                let old = "2025-01-05T10:00:00.000Z"
                try await store.recordValidationRun(ValidationRunRecord(id: "old", suite: "s", startedAt: old, status: "passed"))
                try await store.recordValidationRun(ValidationRunRecord(id: "new", suite: "s", status: "passed"))
                try await store.addValidationResults(
                    (0..<25).map { Self.result("old", "t\($0)", "passed", at: old) } + [Self.result("new", "t", "passed")])
                try await store.addLogs(
                    (0..<7).map { LogEntry(at: old, runID: "old", event: "e", message: "line \($0)") }
                        + [LogEntry(runID: "new", event: "e", message: "recent")], importID: nil)
                let dry = try await StoreArchiver(store: store, batchSize: 10).archive(
                    before: "2025-06-01T00:00:00.000Z", to: directory, dryRun: true)
                #expect(dry.files.map(\.rows) == [25, 1, 7])
                #expect(try await store.stats().tables.first { $0.name == "validation_results" }?.rows == 26)

                let report = try await StoreArchiver(store: store, batchSize: 10).archive(before: "2025-06-01T00:00:00.000Z", to: directory)
                #expect(report.files.map(\.table) == ["validation_results", "validation_runs", "logs"])
                #expect(report.files.map(\.deleted) == [25, 1, 7])
                let rows = Dictionary(uniqueKeysWithValues: try await store.stats().tables.map { ($0.name, $0.rows) })
                #expect(rows["validation_results"] == 1 && rows["validation_runs"] == 1 && rows["logs"] == 1)

                // The files are real gzip: gunzip reads them back line for line.
                let results = try #require(report.files.first)
                let gunzip = try await CLI.shell("gunzip -c '\(results.path)' | wc -l", in: directory)
                #expect(gunzip.output.trimmingCharacters(in: .whitespacesAndNewlines) == "25")
                let firstLine = try await CLI.shell("gunzip -c '\(results.path)' | head -1", in: directory)
                let object = try JSONSerialization.jsonObject(with: Data(firstLine.output.utf8)) as? [String: Any]
                // JSON columns are archived as the text the store held (exact on restore).
                let details = try #require(object?["details"] as? String)
                #expect((try JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: Any])?["missing"] as? Int == 1)
                #expect(object?["check_name"] as? String == "row_diff")

                #expect(try await StoreArchiver(store: store).archive(before: "2025-06-01T00:00:00.000Z", to: directory).files.isEmpty)
            }
        }
    }
}
