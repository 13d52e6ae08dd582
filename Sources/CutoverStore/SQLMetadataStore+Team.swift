import CompressNIO
import CutoverCore
import Crypto
import Foundation
import NIOCore

// Validation results, caches, team records and maintenance, on every backend.
extension SQLMetadataStore {
    // MARK: Validation results

    static let validationRunColumns = """
        id, suite, source, target, data_date, started_at, finished_at, status, passed, failed, warned, origin, materials, \
        project_id, pipeline_name, pipeline_hash, pipeline_content
        """

    /// Read by column name: a count that is not a number is an error, never 0 (a run read with 0
    /// failed checks would pass).
    static func validationRun(_ values: [String?]) throws -> ValidationRunRecord {
        let row = NamedRow(table: "validation_runs", columns: validationRunColumns, values: values)
        var record = ValidationRunRecord(
            id: try row.required("id"), suite: try row.required("suite"), source: row.optional("source"), target: row.optional("target"),
            dataDate: row.optional("data_date"), startedAt: try row.required("started_at"), finishedAt: row.optional("finished_at"),
            status: try row.required("status"), passed: Int(try row.requiredInt("passed")), failed: Int(try row.requiredInt("failed")),
            warned: Int(try row.int("warned") ?? 0), origin: row.optional("origin") ?? "")
        if let materials = row.optional("materials") { record.materials = try Self.materials(materials, of: "validation run \(record.id)") }
        (record.projectID, record.pipelineName, record.pipelineHash, record.pipelineContent) = (
            row.optional("project_id"), row.optional("pipeline_name"), row.optional("pipeline_hash"), row.optional("pipeline_content")
        )
        return record
    }

    /// A validation run's stored materials: a JSON list of strings, or an error naming the run.
    static func materials(_ text: String, of what: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw CutoverError(.store, "\(what): its materials are not a JSON list of strings", hint: "the store was changed by hand")
        }
    }

    public func recordValidationRun(_ r: ValidationRunRecord) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM validation_runs WHERE id = \(r.id)")
                _ = try db.execute(
                    "INSERT INTO validation_runs (\(raw: Self.validationRunColumns)) VALUES (\(r.id), \(r.suite), \(r.source.map(Redaction.connectionString)), \(r.target.map(Redaction.connectionString)), \(r.dataDate), \(r.startedAt), \(r.finishedAt), \(r.status), \(r.passed), \(r.failed), \(r.warned), \(r.origin), \(r.materials.map { "[" + $0.map(JSONCanonical.quoted).joined(separator: ",") + "]" }), \(r.projectID), \(r.pipelineName), \(r.pipelineHash), \(r.pipelineContent))"
                )
            }
            try Self.invalidateOverview(db, months: [String(r.startedAt.prefix(7))])
        }
        memory.invalidate(prefix: "overview")
    }

    static let validationResultColumns = """
        validation_run_id, step, check_name, table_name, status, severity, message, duration_ms, source_rows, target_rows, match_percent,
        affected_columns, details, at
        """

    public func addValidationResults(_ results: [ValidationResultRecord]) async throws {
        guard !results.isEmpty else { return }
        try await run { db in
            try db.exclusively {
                for r in results {
                    let columns = r.affectedColumns.isEmpty ? nil : r.affectedColumns.joined(separator: ",")
                    _ = try db.execute(
                        """
                        INSERT INTO validation_results (\(raw: Self.validationResultColumns))
                        SELECT \(r.validationRunID), \(r.step), \(r.check), \(r.table), \(r.status), \(r.severity),
                            \(r.message.map(Redaction.redact)), \(r.durationMS), \(r.sourceRows),
                            \(r.targetRows), \(r.matchPercent.map { String($0) }), \(columns), \(json: r.details), \(r.at)
                        """)
                }
            }
            try Self.invalidateOverview(db, months: Set(results.map { String($0.at.prefix(7)) }))
            if results.contains(where: { $0.status == "failed" }) { _ = try db.execute("DELETE FROM failures_cache") }
        }
        memory.invalidate(prefix: "overview")
        memory.invalidate(prefix: "failures")
    }

    static func validationResult(_ values: [String?]) throws -> ValidationResultRecord {
        let row = NamedRow(table: "validation_results", columns: validationResultColumns, values: values)
        return ValidationResultRecord(
            validationRunID: try row.required("validation_run_id"), step: try row.int("step").map { Int($0) }, check: try row.required("check_name"),
            table: row.optional("table_name"), status: try row.required("status"), severity: row.optional("severity"),
            message: row.optional("message"), durationMS: try row.int("duration_ms"), sourceRows: try row.int("source_rows"),
            targetRows: try row.int("target_rows"), matchPercent: try row.double("match_percent"),
            affectedColumns: row.optional("affected_columns").map { $0.split(separator: ",").map(String.init) } ?? [],
            details: row.optional("details"), at: try row.required("at"))
    }

    public func validationRuns(limit: Int) async throws -> [ValidationRunRecord] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.validationRunColumns) FROM validation_runs ORDER BY started_at DESC, id DESC LIMIT \(limit)")
                .map { try Self.validationRun($0) }
        }
    }

    public func validationRuns(projectID: String, limit: Int) async throws -> [ValidationRunRecord] {
        try await run { db in
            try db.execute(
                "SELECT \(raw: Self.validationRunColumns) FROM validation_runs WHERE project_id = \(projectID) ORDER BY started_at DESC, id DESC LIMIT \(limit)"
            ).map { try Self.validationRun($0) }
        }
    }

    public func validationRun(id: String) async throws -> ValidationRunRecord? {
        try await run { db in
            try db.execute("SELECT \(raw: Self.validationRunColumns) FROM validation_runs WHERE id = \(id)").first.map { try Self.validationRun($0) }
        }
    }

    public func validationResults(runID: String) async throws -> [ValidationResultRecord] {
        try await run { db in
            try db.execute("SELECT \(raw: Self.validationResultColumns) FROM validation_results WHERE validation_run_id = \(runID) ORDER BY id")
                .map(Self.validationResult)
        }
    }

    public func validationHistory(table: String, limit: Int) async throws -> [ValidationResultRecord] {
        try await run { db in
            try db.execute(
                "SELECT \(raw: Self.validationResultColumns) FROM validation_results WHERE table_name = \(table) ORDER BY at DESC, id DESC LIMIT \(limit)"
            ).map(Self.validationResult)
        }
    }

    // MARK: Column metadata

    public func columnMetadata(
        connection: String, tables: [(schema: String, table: String)], maxAge: TimeInterval
    ) async throws -> [ColumnMetadataRecord]? {
        let connection = Redaction.connectionString(connection)
        let oldest = ISOTime.string(Date().addingTimeInterval(-maxAge))
        let wanted = tables.map { (schema: $0.schema, table: $0.table) }
        return try await run { db in
            var found: [ColumnMetadataRecord] = []
            for (schema, table) in wanted {
                guard
                    let row = try db.execute(
                        """
                        SELECT payload, fetched_at FROM column_metadata WHERE connection = \(connection) AND schema_name = \(schema) AND table_name = \(table) AND fetched_at >= \(oldest)
                        """
                    ).first
                else {
                    try Self.count(db, cache: "column_metadata", hit: false)
                    return nil
                }
                let stored = NamedRow(table: "column_metadata", columns: "payload, fetched_at", values: row)
                found.append(
                    ColumnMetadataRecord(
                        connection: connection, schema: schema, table: table, payload: try stored.required("payload"),
                        fetchedAt: try stored.required("fetched_at")))
            }
            try Self.count(db, cache: "column_metadata", hit: true)
            return found
        }
    }

    public func saveColumnMetadata(_ records: [ColumnMetadataRecord]) async throws {
        try await run { db in
            try db.exclusively {
                for r in records {
                    let connection = Redaction.connectionString(r.connection)
                    _ = try db.execute(
                        "DELETE FROM column_metadata WHERE connection = \(connection) AND schema_name = \(r.schema) AND table_name = \(r.table)")
                    _ = try db.execute(
                        "INSERT INTO column_metadata (connection, schema_name, table_name, payload, fetched_at) SELECT \(connection), \(r.schema), \(r.table), \(json: r.payload), \(r.fetchedAt)"
                    )
                }
            }
        }
    }

    // MARK: Monthly overview

    public func monthlyOverview(maxAge: TimeInterval, refresh: Bool) async throws -> OverviewAnswer {
        if !refresh, let answer = memory.value("overview", as: OverviewAnswer.self) {
            return OverviewAnswer(months: answer.months, servedFrom: "memory", cachedAt: answer.cachedAt)
        }
        let answer = try await run { db in try Self.overview(db, maxAge: maxAge, refresh: refresh) }
        memory.store("overview", answer, for: min(maxAge, 30))
        return answer
    }

    /// Cached months still valid are served as they are; expired ones, and the current month when
    /// absent, are recomputed over their own time range; an empty cache is rebuilt in one pass.
    static func overview(_ db: any StoreDatabase, maxAge: TimeInterval, refresh: Bool) throws -> OverviewAnswer {
        let now = ISOTime.now()
        let current = String(now.prefix(7))
        var cached: [String: MonthlyOverview] = [:]
        var expired: Set<String> = []
        var oldestCachedAt = now
        if !refresh {
            let columns = "month, payload, cached_at, expires_at"
            for row in NamedRow.rows("overview_cache", columns, try db.execute("SELECT \(raw: columns) FROM overview_cache")) {
                let month = try row.required("month")
                if let at = row.optional("expires_at"), at > now, let payload = row.optional("payload"),
                    let value = try? JSONDecoder().decode(MonthlyOverview.self, from: Data(payload.utf8))
                {  // an unreadable cache entry is a miss: the overview is rebuilt
                    cached[month] = value
                    oldestCachedAt = min(oldestCachedAt, try row.required("cached_at"))
                } else {
                    expired.insert(month)
                }
            }
        }
        let fresh: [String: MonthlyOverview]
        let servedFrom: String
        if cached.isEmpty && expired.isEmpty {
            fresh = try aggregate(db, month: nil)
            servedFrom = "rebuilt"
        } else {
            if cached[current] == nil { expired.insert(current) }
            var rebuilt: [String: MonthlyOverview] = [:]
            for month in expired { rebuilt[month] = try aggregate(db, month: month)[month] ?? MonthlyOverview(month: month) }
            fresh = rebuilt
            servedFrom = rebuilt.isEmpty ? "cache" : "rebuilt"
        }
        try count(db, cache: "overview", hit: fresh.isEmpty)
        if !fresh.isEmpty {
            let expires = ISOTime.string(Date().addingTimeInterval(maxAge))
            var writing = fresh
            if writing[current] == nil { writing[current] = MonthlyOverview(month: current) }
            let encoder = JSONEncoder()
            try db.exclusively {
                if cached.isEmpty && expired.isEmpty { _ = try db.execute("DELETE FROM overview_cache") }
                for (month, value) in writing {
                    _ = try db.execute("DELETE FROM overview_cache WHERE month = \(month)")
                    _ = try db.execute(
                        "INSERT INTO overview_cache (month, payload, cached_at, expires_at) SELECT \(month), \(json: String(decoding: try encoder.encode(value), as: UTF8.self)), \(now), \(expires)"
                    )
                }
            }
            _ = try db.execute("UPDATE cache_stats SET rebuilt_at = \(now) WHERE cache_name = 'overview'")
        }
        var byMonth = cached.merging(fresh) { $1 }
        for reported in try reportedMonths(db) { byMonth[reported.month, default: MonthlyOverview(month: reported.month)].reported = reported }
        var all = byMonth.values.filter { $0.runs + $0.validationRuns + $0.checks + $0.logLines > 0 || $0.reported != nil }.sorted {
            $0.month < $1.month
        }
        for index in all.indices {
            all[index].previousFailed = byMonth[previousMonth(all[index].month)]?.failed ?? 0
            all[index].failedDelta = all[index].failed - all[index].previousFailed
        }
        return OverviewAnswer(months: all, servedFrom: servedFrom, cachedAt: servedFrom == "cache" ? oldestCachedAt : now)
    }

    /// The overview per month, for one month (`YYYY-MM`) or all, straight from the records.
    static func aggregate(_ db: any StoreDatabase, month: String?) throws -> [String: MonthlyOverview] {
        /// `WHERE column` within the month, or nothing for every month.
        func range(_ column: String) -> StoreSQL {
            guard let month else { return "" }
            return "WHERE \(raw: column) >= \(month) AND \(raw: column) < \(nextMonth(month))"
        }
        /// The same, ready for one more condition.
        func rangeAnd(_ column: String) -> StoreSQL {
            let where_ = range(column)
            return where_.isEmpty ? "WHERE" : where_ + " AND"
        }
        var months: [String: MonthlyOverview] = [:]
        /// A row of month, then counts and sums: NULL (a SUM over no rows) is 0, anything else not a
        /// whole number is an error.
        func update(_ row: [String?], _ apply: (inout MonthlyOverview, [Int64]) -> Void) throws {
            let key = try monthOf(row)
            var value = months[key] ?? MonthlyOverview(month: key)
            apply(&value, try row.dropFirst().map { try countOf($0) })
            months[key] = value
        }
        func monthOf(_ row: [String?]) throws -> String {
            guard let month = row.first ?? nil else {
                throw CutoverError(.store, "a record without a time reached the monthly overview", hint: "the store was changed by hand")
            }
            return month
        }
        func countOf(_ text: String?) throws -> Int64 {
            try NamedRow(table: "overview", columns: "count", values: [text]).int("count") ?? 0
        }
        for row in try db.execute(
            """
            SELECT substr(started_at, 1, 7), COUNT(*), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN kind IN ('migrate', 'demo') THEN 1 ELSE 0 END)
            FROM runs \(range("started_at")) GROUP BY substr(started_at, 1, 7)
            """)
        {
            try update(row) {
                $0.runs = $1[0]; $0.failedRuns = $1[1]; $0.migrations = $1[2]
            }
        }
        for row in try db.execute(
            """
            SELECT substr(r.started_at, 1, 7), SUM(c.rows) FROM chunks c JOIN runs r ON r.id = c.run_id
            \(rangeAnd("r.started_at")) c.state = 'done' GROUP BY substr(r.started_at, 1, 7)
            """)
        {
            try update(row) { $0.rowsMoved = $1[0] }
        }
        for row in try db.execute(
            "SELECT substr(started_at, 1, 7), COUNT(*) FROM validation_runs \(range("started_at")) GROUP BY substr(started_at, 1, 7)")
        {
            try update(row) { $0.validationRuns = $1[0] }
        }
        for row in try db.execute(
            """
            SELECT substr(at, 1, 7), COUNT(*), SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN status = 'warning' THEN 1 ELSE 0 END)
            FROM validation_results \(range("at")) GROUP BY substr(at, 1, 7)
            """)
        {
            try update(row) {
                $0.checks = $1[0]; $0.passed = $1[1]; $0.failed = $1[2]; $0.warned = $1[3]
            }
        }
        var materials: [String: Set<String>] = [:]
        for row in try db.execute(
            "SELECT substr(started_at, 1, 7), materials FROM validation_runs \(rangeAnd("started_at")) materials IS NOT NULL")
        {
            let month = try monthOf(row)
            materials[month, default: []].formUnion(try Self.materials(row[1] ?? "[]", of: "a validation run of \(month)"))  // NULL is filtered out above
        }
        for (month, set) in materials { months[month, default: MonthlyOverview(month: month)].materials = Int64(set.count) }
        var byTable: [String: [NamedCount]] = [:]
        for row in try db.execute(
            """
            SELECT substr(at, 1, 7), table_name, COUNT(*) FROM validation_results \(rangeAnd("at")) status = 'failed'
            GROUP BY substr(at, 1, 7), table_name
            """)
        {
            byTable[try monthOf(row), default: []].append(NamedCount(name: (row[1] ?? nil) ?? "(no table)", count: try countOf(row[2])))
        }
        var levels: [String: [NamedCount]] = [:], events: [String: [NamedCount]] = [:]
        for row in try db.execute(
            "SELECT substr(at, 1, 7), level, event, COUNT(*) FROM logs \(range("at")) GROUP BY substr(at, 1, 7), level, event")
        {
            let month = try monthOf(row), count = try countOf(row[3])
            months[month, default: MonthlyOverview(month: month)].logLines += count
            levels[month, default: []].append(NamedCount(name: (row[1] ?? nil) ?? "", count: count))
            events[month, default: []].append(NamedCount(name: (row[2] ?? nil) ?? "", count: count))
        }
        // What archives took out still counts in its month.
        let archived = try db.execute("SELECT month, table_name, status, rows FROM archived_counts \(range("month"))")
        for row in NamedRow.rows("archived_counts", "month, table_name, status, rows", archived) {
            // What an archive removed is counted as it says, or the overview says why not: never as 0.
            let month = try row.required("month"), rows = try row.requiredInt("rows")
            var value = months[month] ?? MonthlyOverview(month: month)
            switch (row.optional("table_name"), row.optional("status")) {
            case (ArchivableTable.validationRuns.rawValue?, _): value.validationRuns += rows
            case (ArchivableTable.validationResults.rawValue?, let status):
                value.checks += rows
                if status == "passed" {
                    value.passed += rows
                } else if status == "failed" {
                    value.failed += rows
                } else if status == "warning" {
                    value.warned += rows
                }
            case (ArchivableTable.logs.rawValue?, _): value.logLines += rows
            default: break
            }
            months[month] = value
        }
        for (month, counts) in byTable { months[month, default: MonthlyOverview(month: month)].failuresByTable = NamedCount.summed(counts) }
        for (month, counts) in levels { months[month, default: MonthlyOverview(month: month)].logLevels = NamedCount.summed(counts) }
        for (month, counts) in events {
            months[month, default: MonthlyOverview(month: month)].logEvents = Array(NamedCount.summed(counts).prefix(10))
        }
        return months
    }

    static func previousMonth(_ month: String) -> String {
        let parts = month.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 else { return month }
        let (year, number) = parts[1] == 1 ? (parts[0] - 1, 12) : (parts[0], parts[1] - 1)
        return String(format: "%04d-%02d", year, number)
    }

    static func nextMonth(_ month: String) -> String {
        let parts = month.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 else { return month + "~" }
        let (year, number) = parts[1] == 12 ? (parts[0] + 1, 1) : (parts[0], parts[1] + 1)
        return String(format: "%04d-%02d", year, number)
    }

    /// A write changed these months: the current month's entry is dropped (and rebuilt alone on the
    /// next read); a write into past months (imports) drops the whole overview.
    static func invalidateOverview(_ db: any StoreDatabase, months: Set<String>) throws {
        let current = String(ISOTime.now().prefix(7))
        if months.isSubset(of: [current]) {
            for month in months { _ = try db.execute("DELETE FROM overview_cache WHERE month = \(month)") }
        } else {
            _ = try db.execute("DELETE FROM overview_cache")
        }
    }

    static func count(_ db: any StoreDatabase, cache: String, hit: Bool) throws {
        let column = hit ? "hits" : "misses"
        _ = try db.execute("UPDATE cache_stats SET \(raw: column) = \(raw: column) + 1 WHERE cache_name = \(cache)")
    }

    // MARK: Recent failures

    public func recentFailures(limit: Int, ttl: TimeInterval) async throws -> FailuresAnswer {
        let key = "failures:\(limit)"
        if let answer = memory.value(key, as: FailuresAnswer.self) {
            return FailuresAnswer(failures: answer.failures, servedFrom: "memory", cachedAt: answer.cachedAt)
        }
        let answer: FailuresAnswer = try await run { db in
            let now = ISOTime.now()
            if let row = try db.execute("SELECT payload, cached_at FROM failures_cache WHERE scope = \(key) AND expires_at > \(now)").first,
                let payload = row[0], let failures = try? JSONDecoder().decode([ValidationResultRecord].self, from: Data(payload.utf8))
            {  // an unreadable cache entry is a miss: recomputed below
                try Self.count(db, cache: "failures", hit: true)
                return FailuresAnswer(
                    failures: failures, servedFrom: "cache",
                    cachedAt: try NamedRow(table: "failures_cache", columns: "payload, cached_at", values: row).required("cached_at"))
            }
            try Self.count(db, cache: "failures", hit: false)
            let failures = try db.execute(
                """
                SELECT \(raw: Self.validationResultColumns) FROM validation_results WHERE status = 'failed' ORDER BY at DESC, id DESC LIMIT \(limit)
                """
            ).map(Self.validationResult)
            let payload = String(decoding: try JSONEncoder().encode(failures), as: UTF8.self)
            try db.exclusively {
                _ = try db.execute("DELETE FROM failures_cache WHERE scope = \(key)")
                _ = try db.execute(
                    "INSERT INTO failures_cache (scope, payload, row_count, cached_at, expires_at) SELECT \(key), \(json: payload), \(failures.count), \(now), \(ISOTime.string(Date().addingTimeInterval(ttl)))"
                )
            }
            return FailuresAnswer(failures: failures, servedFrom: "rebuilt", cachedAt: now)
        }
        memory.store(key, answer, for: min(ttl, 30))
        return answer
    }

    // MARK: Projects and pipelines

    public func saveProject(_ p: ProjectRecord) async throws {
        try await run { db in
            try db.exclusively {
                if let other = try db.execute("SELECT id FROM projects WHERE name = \(p.name) AND id <> \(p.id)").first {
                    throw CutoverError(
                        .usage, "a project named \(p.name) exists already (\(other[0] ?? ""))", hint: "choose another name or update that project")
                }
                _ = try db.execute("DELETE FROM projects WHERE id = \(p.id)")
                _ = try db.execute(
                    """
                    INSERT INTO projects (id, name, description, source, target, settings, created_by, created_at) SELECT \(p.id), \(p.name), \(p.description), \(p.source.map(Redaction.connectionString)), \(p.target.map(Redaction.connectionString)), \(json: p.settings), \(p.createdBy), \(p.createdAt)
                    """)
            }
        }
    }

    public func projects() async throws -> [ProjectRecord] {
        try await run { db in
            let columns = "id, name, description, source, target, settings, created_by, created_at"
            return try NamedRow.rows("projects", columns, try db.execute("SELECT \(raw: columns) FROM projects ORDER BY name")).map { row in
                ProjectRecord(
                    id: try row.required("id"), name: try row.required("name"), description: row.optional("description"),
                    source: row.optional("source"), target: row.optional("target"), settings: row.optional("settings"),
                    createdBy: row.optional("created_by"), createdAt: try row.required("created_at"))
            }
        }
    }

    public func deleteProject(id: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try !db.execute("SELECT 1 FROM projects WHERE id = \(id)").isEmpty else { return false }
                _ = try db.execute("DELETE FROM pipelines WHERE project_id = \(id)")
                _ = try db.execute("DELETE FROM projects WHERE id = \(id)")
                return true
            }
        }
    }

    public func savePipeline(_ p: PipelineRecord) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM pipelines WHERE project_id = \(p.projectID) AND name = \(p.name)")
                _ = try db.execute(
                    """
                    INSERT INTO pipelines (id, project_id, name, content, content_hash, created_at, updated_at) VALUES (\(p.id), \(p.projectID), \(p.name), \(p.content), \(p.contentHash), \(p.updatedAt), \(p.updatedAt))
                    """)
            }
        }
    }

    public func pipelines(projectID: String) async throws -> [PipelineRecord] {
        try await run { db in
            let columns = "id, project_id, name, content, content_hash, updated_at"
            return try NamedRow.rows(
                "pipelines", columns, try db.execute("SELECT \(raw: columns) FROM pipelines WHERE project_id = \(projectID) ORDER BY name")
            ).map { row in
                PipelineRecord(
                    id: try row.required("id"), projectID: try row.required("project_id"), name: try row.required("name"),
                    content: try row.required("content"), contentHash: try row.required("content_hash"), updatedAt: try row.required("updated_at"))
            }
        }
    }

    // MARK: Users, audit, notifications

    static let userColumns = "id, username, password_hash, role, last_login_at, created_at, disabled_at, sessions_valid_after, provider"

    /// A user as stored; a row without a role or password hash is an error, never a default role.
    static func userRecord(_ values: [String?]) throws -> UserRecord {
        let row = NamedRow(table: "users", columns: userColumns, values: values)
        let storedRole = try row.required("role")
        guard let role = UserRole(rawValue: storedRole) else {
            throw CutoverError(
                .store, "users.role holds \(storedRole), not a role (viewer, user, admin)",
                hint: "the store was changed by hand; set the user's role with `cutover users role`",
                context: ["user": row.optional("username") ?? ""])
        }
        return UserRecord(
            id: try row.required("id"), username: try row.required("username"), passwordHash: try row.required("password_hash"),
            role: role, lastLoginAt: row.optional("last_login_at"), createdAt: try row.required("created_at"),
            disabledAt: row.optional("disabled_at"), sessionsValidAfter: row.optional("sessions_valid_after"), provider: row.optional("provider"))
    }

    public func saveUser(_ u: UserRecord) async throws {
        try await run { db in
            try db.exclusively {
                if try !db.execute("SELECT 1 FROM users WHERE username = \(u.username) AND id <> \(u.id)").isEmpty {
                    throw CutoverError(.usage, "the user \(u.username) exists already", hint: "choose another user name")
                }
                _ = try db.execute("DELETE FROM users WHERE id = \(u.id)")
                try Self.insertUser(u, db)
            }
        }
    }

    private static func insertUser(_ u: UserRecord, _ db: any StoreDatabase) throws {
        _ = try db.execute(
            """
            INSERT INTO users (id, username, password_hash, role, failed_logins, last_login_at, created_at, disabled_at, sessions_valid_after, provider)
            VALUES (\(u.id), \(u.username), \(u.passwordHash), \(u.role.rawValue), 0, \(u.lastLoginAt), \(u.createdAt), \(u.disabledAt), \(u.sessionsValidAfter), \(u.provider))
            """)
    }

    /// One transaction under the store's write lock (SQLite's, or PostgreSQL's advisory lock)
    /// decides who is first, so concurrent sign-ups on an empty store make one admin.
    public func addFirstAdmin(_ u: UserRecord) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try db.execute("SELECT 1 FROM users").isEmpty else { return false }
                var admin = u
                admin.role = .admin
                try Self.insertUser(admin, db)
                return true
            }
        }
    }

    public func reserveSignIn(username: String, maxFailures: Int) async throws -> SignInReservation {
        let now = Date()
        return try await run { db in
            try db.exclusively {
                let row = try db.execute("SELECT failures, locked_until FROM sign_in_attempts WHERE username = \(username)").first.map {
                    NamedRow(table: "sign_in_attempts", columns: "failures, locked_until", values: $0)
                }
                if let until = row?.optional("locked_until"), until > ISOTime.string(now) { return .locked(until: until) }
                // A count that is not a number is an error, never 0: that would lift a lock.
                let failures = Int(try row?.requiredInt("failures") ?? 0) + 1
                // From the maxFailures-th attempt on, each locks for 30 s, doubling, at most 15 min.
                let lock =
                    failures >= maxFailures
                    ? ISOTime.string(now.addingTimeInterval(min(900, 30 * pow(2, Double(failures - maxFailures))))) : nil
                _ = try db.execute(
                    "DELETE FROM sign_in_attempts WHERE username = \(username) OR (updated_at < \(ISOTime.string(now.addingTimeInterval(-86400))) AND (locked_until IS NULL OR locked_until < \(ISOTime.string(now))))"
                )
                _ = try db.execute(
                    "INSERT INTO sign_in_attempts (username, failures, locked_until, updated_at) VALUES (\(username), \(failures), \(lock), \(ISOTime.string(now)))"
                )
                return .allowed
            }
        }
    }

    public func clearSignInAttempts(username: String) async throws {
        try await run { db in _ = try db.execute("DELETE FROM sign_in_attempts WHERE username = \(username)") }
    }

    public func user(username: String) async throws -> UserRecord? {
        try await run { db in try db.execute("SELECT \(raw: Self.userColumns) FROM users WHERE username = \(username)").first.map(Self.userRecord) }
    }

    public func users() async throws -> [UserRecord] {
        try await run { db in try db.execute("SELECT \(raw: Self.userColumns) FROM users ORDER BY username").map(Self.userRecord) }
    }

    static let tokenColumns = "id, user_id, name, token_hash, created_at, expires_at, revoked_at"

    public func saveAPIToken(_ t: APITokenRecord) async throws {
        try await run { db in
            _ = try db.execute(
                "INSERT INTO api_tokens (\(raw: Self.tokenColumns)) VALUES (\(t.id), \(t.userID), \(t.name), \(t.tokenHash), \(t.createdAt), \(t.expiresAt), \(t.revokedAt))"
            )
        }
    }

    public func apiTokens(userID: String) async throws -> [APITokenRecord] {
        try await run { db in
            try NamedRow.rows(
                "api_tokens", Self.tokenColumns,
                try db.execute("SELECT \(raw: Self.tokenColumns) FROM api_tokens WHERE user_id = \(userID) ORDER BY created_at")
            ).map { row in
                APITokenRecord(
                    id: try row.required("id"), userID: try row.required("user_id"), name: try row.required("name"),
                    tokenHash: try row.required("token_hash"), createdAt: try row.required("created_at"), expiresAt: row.optional("expires_at"),
                    revokedAt: row.optional("revoked_at"))
            }
        }
    }

    public func user(apiTokenHash: String) async throws -> UserRecord? {
        let now = ISOTime.now()
        return try await run { db in
            try db.execute(
                """
                SELECT \(raw: Self.userColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = \(apiTokenHash) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > \(now))
                """
            ).first.map(Self.userRecord)
        }
    }

    public func revokeAPIToken(id: String, userID: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try !db.execute("SELECT 1 FROM api_tokens WHERE id = \(id) AND user_id = \(userID) AND revoked_at IS NULL").isEmpty else {
                    return false
                }
                _ = try db.execute("UPDATE api_tokens SET revoked_at = \(ISOTime.now()) WHERE id = \(id)")
                return true
            }
        }
    }

    /// Removes the user and their API tokens; nil when there is no such user. Refuses to remove or
    /// leave no enabled admin.
    public func deleteUser(username: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard let user = try db.execute("SELECT \(raw: Self.userColumns) FROM users WHERE username = \(username)").first.map(Self.userRecord)
                else { return false }
                try Self.keepAnAdmin(db, without: user.id)
                _ = try db.execute("DELETE FROM api_tokens WHERE user_id = \(user.id)")
                _ = try db.execute("DELETE FROM users WHERE id = \(user.id)")
                return true
            }
        }
    }

    /// Saves a user whose role or enabled state an admin changed, in one transaction with the check
    /// that an enabled admin remains.
    public func updateUserAccess(_ u: UserRecord) async throws {
        try await run { db in
            try db.exclusively {
                if u.role != .admin || u.isDisabled { try Self.keepAnAdmin(db, without: u.id) }
                _ = try db.execute(
                    "UPDATE users SET role = \(u.role.rawValue), disabled_at = \(u.disabledAt), sessions_valid_after = \(u.sessionsValidAfter) WHERE id = \(u.id)"
                )
            }
        }
    }

    private static func keepAnAdmin(_ db: any StoreDatabase, without id: String) throws {
        guard try db.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> \(id)") > 0 else {
            throw CutoverError(.notPermitted, "that would leave no enabled admin", hint: "make another user an admin first")
        }
    }

    public func revokeSession(id: String, username: String, expiresAt: String) async throws {
        let now = ISOTime.now()
        try await run { db in
            try db.exclusively {
                // Expired sessions need no entry: the list stays as long as the sessions still alive.
                _ = try db.execute("DELETE FROM revoked_sessions WHERE expires_at < \(now) OR token_id = \(id)")
                _ = try db.execute(
                    "INSERT INTO revoked_sessions (token_id, username, expires_at, revoked_at) VALUES (\(id), \(username), \(expiresAt), \(now))")
            }
        }
    }

    public func isSessionRevoked(id: String) async throws -> Bool {
        try await run { db in try !db.execute("SELECT 1 FROM revoked_sessions WHERE token_id = \(id)").isEmpty }
    }

    public func pruneAudit(before: String) async throws -> Int {
        try await run { db in
            try db.exclusively {
                let count = Int(try db.count("SELECT COUNT(*) FROM audit_log WHERE at < \(before)"))
                if count > 0 { _ = try db.execute("DELETE FROM audit_log WHERE at < \(before)") }
                return count
            }
        }
    }

    public func audit(_ e: AuditRecord) async throws {
        try await run { db in
            _ = try db.execute(
                "INSERT INTO audit_log (at, username, action, resource, outcome, details) SELECT \(e.at), \(e.username), \(e.action), \(e.resource), \(e.outcome), \(json: e.details)"
            )
        }
    }

    public func auditEntries(since: String?, username: String?, action: String?, limit: Int) async throws -> [AuditRecord] {
        try await run { db in
            var conditions: [StoreSQL] = []
            if let since { conditions.append("at >= \(since)") }
            if let username { conditions.append("username = \(username)") }
            if let action { conditions.append("action = \(action)") }
            let filter: StoreSQL = conditions.isEmpty ? "" : "WHERE " + StoreSQL.joined(conditions, separator: " AND ")
            let columns = "at, username, action, resource, outcome, details"
            return try NamedRow.rows(
                "audit_log", columns,
                try db.execute("SELECT \(raw: columns) FROM audit_log \(filter) ORDER BY at DESC, id DESC LIMIT \(limit)")
            ).map { row in
                AuditRecord(
                    at: try row.required("at"), username: row.optional("username"), action: try row.required("action"),
                    resource: row.optional("resource"), outcome: try row.required("outcome"), details: row.optional("details"))
            }
        }
    }

    public func notify(_ n: NotificationRecord) async throws {
        try await run { db in
            _ = try db.execute(
                "INSERT INTO notifications (at, username, kind, title, message, run_id) VALUES (\(n.at), \(n.username), \(n.kind), \(n.title), \(n.message), \(n.runID))"
            )
        }
    }

    public func notifications(username: String, unreadOnly: Bool, limit: Int) async throws -> [NotificationRecord] {
        try await run { db in
            let unread: StoreSQL = unreadOnly ? " AND r.read_at IS NULL" : ""
            let rows = try db.execute(
                """
                SELECT n.id, n.at, n.username, n.kind, n.title, n.message, n.run_id, r.read_at
                FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = \(username)
                WHERE (n.username IS NULL OR n.username = \(username))\(unread) ORDER BY n.id DESC LIMIT \(limit)
                """)
            return try NamedRow.rows("notifications", "id, at, username, kind, title, message, run_id, read_at", rows).map { row in
                NotificationRecord(
                    id: try row.requiredInt("id"), at: try row.required("at"), username: row.optional("username"), kind: try row.required("kind"),
                    title: try row.required("title"), message: row.optional("message"), runID: row.optional("run_id"), readAt: row.optional("read_at")
                )
            }
        }
    }

    public func markNotificationRead(id: Int64, username: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard
                    try !db.execute(
                        "SELECT 1 FROM notifications WHERE id = CAST(\(id) AS BIGINT) AND (username IS NULL OR username = \(username))"
                    ).isEmpty
                else { return false }
                _ = try db.execute(
                    """
                    INSERT INTO notification_reads (notification_id, username, read_at) SELECT CAST(\(id) AS BIGINT), \(username), \(ISOTime.now())
                    WHERE NOT EXISTS (SELECT 1 FROM notification_reads WHERE notification_id = CAST(\(id) AS BIGINT) AND username = \(username))
                    """)
                return true
            }
        }
    }

    public func auditStats(since: String?) async throws -> [(action: String, outcome: String, count: Int)] {
        try await run { db in
            let rows = try db.execute(
                "SELECT action, outcome, COUNT(*) FROM audit_log WHERE at >= \(since ?? "") GROUP BY action, outcome ORDER BY action, outcome")
            return try NamedRow.rows("audit_log", "action, outcome, count", rows).map { row in
                (action: try row.required("action"), outcome: try row.required("outcome"), count: Int(try row.requiredInt("count")))
            }
        }
    }

    public func logs(runID: String?, afterID: Int64, limit: Int) async throws -> [(id: Int64, entry: LogEntry)] {
        try await run { db in
            let ofRun: StoreSQL = runID.map { " AND run_id = \($0)" } ?? ""
            return try db.execute("SELECT \(raw: Self.logColumns) FROM logs WHERE id > CAST(\(afterID) AS BIGINT)\(ofRun) ORDER BY id LIMIT \(limit)")
                .map { try Self.logEntry($0) }
        }
    }

    public func saveArtifact(runID: String, name: String, content: Data) async throws {
        let (digest, stored) = try StoredBlob.encode(content)
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM artifacts WHERE run_id = \(runID) AND name = \(name)")
                _ = try db.execute(
                    "INSERT INTO artifacts (run_id, name, bytes, sha256, content, stored_at) VALUES (\(runID), \(name), CAST(\(content.count) AS BIGINT), \(digest), \(stored), \(ISOTime.now()))"
                )
            }
        }
    }

    public func artifacts(runID: String) async throws -> [ArtifactRecord] {
        try await run { db in
            try db.execute(
                "SELECT name, bytes, sha256, CASE WHEN content IS NULL THEN 0 ELSE 1 END, stored_at FROM artifacts WHERE run_id = \(runID) ORDER BY name"
            ).map { try Self.artifactRecord(runID: runID, $0) }
        }
    }

    public func artifact(runID: String, name: String) async throws -> (record: ArtifactRecord, content: Data?)? {
        let row = try await run { db in
            try db.execute(
                "SELECT name, bytes, sha256, CASE WHEN content IS NULL THEN 0 ELSE 1 END, stored_at, content FROM artifacts WHERE run_id = \(runID) AND name = \(name)"
            ).first
        }
        guard let row else { return nil }
        let record = try Self.artifactRecord(runID: runID, row)
        guard let encoded = row[5] else { return (record, nil) }
        return (
            record,
            try StoredBlob.decode(
                encoded, sha256: record.sha256, what: "the stored artifact \(name) of run \(runID)",
                hint: "the store was changed by hand; rerun the run to write it again")
        )
    }

    static func artifactRecord(runID: String, _ row: [String?]) throws -> ArtifactRecord {
        guard let name = row[0] ?? nil, let bytes = (row[1] ?? nil).flatMap({ Int64($0) }), let sha = row[2] ?? nil, let at = row[4] ?? nil else {
            throw CutoverError(.store, "an artifacts row of run \(runID) is incomplete", hint: "the store was changed by hand")
        }
        return ArtifactRecord(runID: runID, name: name, bytes: bytes, sha256: sha, stored: row[3] == "1", storedAt: at)
    }

    public func deleteRun(id: String) async throws {
        try await run { db in
            try db.exclusively {
                for table in [
                    "validation_results WHERE validation_run_id", "validation_runs WHERE id", "chunks WHERE run_id", "run_windows WHERE run_id",
                    "run_tables WHERE run_id",
                    "rejects WHERE run_id", "logs WHERE run_id", "notifications WHERE run_id", "artifacts WHERE run_id",
                    "workload_tables WHERE run_id", "workload_joins WHERE run_id", "workload_columns WHERE run_id", "runs WHERE id",
                ] {
                    _ = try db.execute("DELETE FROM \(raw: table) = \(id)")
                }
            }
            _ = try db.execute("DELETE FROM overview_cache")
        }
        memory.invalidate(prefix: "")
    }

    public func deleteRule(contentHash: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try !db.execute("SELECT 1 FROM rules WHERE content_hash = \(contentHash)").isEmpty else { return false }
                _ = try db.execute("DELETE FROM rules WHERE content_hash = \(contentHash)")
                return true
            }
        }
    }

    public func setting(_ name: String, orInsert value: @autoclosure () -> String) async throws -> String {
        let candidate = value()
        return try await run { db in
            _ = try db.execute(
                "INSERT INTO settings (name, value, updated_at) SELECT \(name), \(candidate), \(ISOTime.now()) WHERE NOT EXISTS (SELECT 1 FROM settings WHERE name = \(name))"
            )
            return try db.execute("SELECT value FROM settings WHERE name = \(name)").first?.first.flatMap { $0 } ?? candidate
        }
    }

    // MARK: Batches

    static let batchColumns = "id, name, status, max_parallel, created_by, created_at, finished_at, project_id"

    static func batchRecord(_ values: [String?]) throws -> BatchRecord {
        let row = NamedRow(table: "batches", columns: batchColumns, values: values)
        return BatchRecord(
            id: try row.required("id"), name: try row.required("name"), status: try row.required("status"),
            maxParallel: Int(try row.requiredInt("max_parallel")), createdBy: row.optional("created_by"), createdAt: try row.required("created_at"),
            finishedAt: row.optional("finished_at"), projectID: row.optional("project_id"))
    }

    public func createBatch(_ b: BatchRecord, items: [BatchItemRecord]) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute(
                    "INSERT INTO batches (\(raw: Self.batchColumns)) VALUES (\(b.id), \(b.name), \(b.status), \(b.maxParallel), \(b.createdBy), \(b.createdAt), \(b.finishedAt), \(b.projectID))"
                )
                for i in items {
                    _ = try db.execute(
                        "INSERT INTO batch_items (batch_id, item_no, kind, spec, run_id, status, message) SELECT \(i.batchID), \(i.number), \(i.kind), \(json: i.spec), \(i.runID), \(i.status), \(i.message)"
                    )
                }
            }
        }
    }

    public func batches(limit: Int, projectID: String?) async throws -> [BatchRecord] {
        try await run { db in
            if let projectID {
                return try db.execute(
                    "SELECT \(raw: Self.batchColumns) FROM batches WHERE project_id = \(projectID) ORDER BY created_at DESC, id LIMIT \(limit)"
                )
                .map(Self.batchRecord)
            }
            return try db.execute("SELECT \(raw: Self.batchColumns) FROM batches ORDER BY created_at DESC, id LIMIT \(limit)").map(
                Self.batchRecord)
        }
    }

    public func batch(id: String) async throws -> (BatchRecord, [BatchItemRecord])? {
        try await run { db in
            guard let batch = try db.execute("SELECT \(raw: Self.batchColumns) FROM batches WHERE id = \(id)").first.map(Self.batchRecord) else {
                return nil
            }
            let columns = "batch_id, item_no, kind, spec, run_id, status, message"
            let items = try NamedRow.rows(
                "batch_items", columns, try db.execute("SELECT \(raw: columns) FROM batch_items WHERE batch_id = \(id) ORDER BY item_no")
            ).map { row in
                BatchItemRecord(
                    batchID: try row.required("batch_id"), number: Int(try row.requiredInt("item_no")), kind: try row.required("kind"),
                    spec: try row.required("spec"), runID: row.optional("run_id"), status: try row.required("status"),
                    message: row.optional("message"))
            }
            return (batch, items)
        }
    }

    public func updateBatchItem(_ i: BatchItemRecord) async throws {
        try await run { db in
            _ = try db.execute(
                "UPDATE batch_items SET run_id = \(i.runID), status = \(i.status), message = \(i.message.map(Redaction.redact)) WHERE batch_id = \(i.batchID) AND item_no = \(i.number)"
            )
        }
    }

    public func deleteBatch(id: String) async throws -> Bool {
        try await run { db in
            try db.exclusively {
                guard try !db.execute("SELECT 1 FROM batches WHERE id = \(id)").isEmpty else { return false }
                _ = try db.execute("DELETE FROM batch_items WHERE batch_id = \(id)")
                _ = try db.execute("DELETE FROM batches WHERE id = \(id)")
                return true
            }
        }
    }

    public func setBatchStatus(id: String, status: String, finished: Bool) async throws {
        try await run { db in
            _ = try db.execute("UPDATE batches SET status = \(status), finished_at = \(finished ? ISOTime.now() : nil) WHERE id = \(id)")
        }
    }

    // MARK: Maintenance

    static let storeTables = [
        "runs", "run_tables", "chunks", "logs", "rejects", "watermarks", "run_windows", "rules", "validation_runs", "validation_results",
        "column_metadata", "overview_cache", "failures_cache", "projects", "pipelines", "users", "api_tokens", "audit_log",
        "notifications", "imports", "settings", "batches", "batch_items", "artifacts", "rule_versions", "archived_counts",
        "rulebook_registry", "reported_months", "failure_snapshots",
        "alert_rules", "alerts", "alert_deliveries", "revoked_sessions", "workload_tables", "workload_joins", "workload_columns",
    ]

    public func stats() async throws -> StoreStats {
        let memory = self.memory.counts
        let (location, engine) = (self.location, database.engine.rawValue)
        return try await run { db in
            let version = Int(try db.count("SELECT max(version) FROM schema_migrations"))
            let tables = try Self.storeTables.map { name in
                StoreStats.Table(name: name, rows: try db.count("SELECT COUNT(*) FROM \(raw: name)"))
            }
            var caches: [StoreStats.Cache] = []
            let statsRows = try db.execute("SELECT cache_name, hits, misses, rebuilt_at FROM cache_stats ORDER BY cache_name")
            for row in NamedRow.rows("cache_stats", "cache_name, hits, misses, rebuilt_at", statsRows) {
                let name = try row.required("cache_name")
                let (table, time) =
                    name == "overview"
                    ? ("overview_cache", "cached_at")
                    : name == "failures"
                        ? ("failures_cache", "cached_at")
                        : ("column_metadata", "fetched_at")
                let sizes = NamedRow(
                    table: table, columns: "entries, oldest",
                    values: try db.execute("SELECT COUNT(*), MIN(\(raw: time)) FROM \(raw: table)").first ?? [])
                caches.append(
                    StoreStats.Cache(
                        name: name, entries: try sizes.requiredInt("entries"), oldest: sizes.optional("oldest"),
                        hits: try row.int("hits") ?? 0, misses: try row.int("misses") ?? 0, rebuiltAt: row.optional("rebuilt_at")))
            }
            caches.append(
                StoreStats.Cache(
                    name: "in-process", entries: Int64(memory.entries), oldest: nil, hits: Int64(memory.hits),
                    misses: Int64(memory.misses), rebuiltAt: nil))
            return StoreStats(location: location, engine: engine, schemaVersion: version, tables: tables, caches: caches)
        }
    }

    public func wasImported(contentHash: String) async throws -> Bool {
        try await run { db in try !db.execute("SELECT 1 FROM imports WHERE content_hash = \(contentHash)").isEmpty }
    }

    public func recordImport(contentHash: String, path: String, kind: String, items: Int) async throws {
        try await run { db in
            _ = try db.execute(
                """
                INSERT INTO imports (content_hash, path, kind, items, imported_at) SELECT \(contentHash), \(path), \(kind), \(items), \(ISOTime.now())
                WHERE NOT EXISTS (SELECT 1 FROM imports WHERE content_hash = \(contentHash))
                """)
        }
    }

    @discardableResult
    public func addLogs(_ entries: [LogEntry], importID: String?) async throws -> Int {
        let rows = entries.map { e in
            [e.at, e.level, e.runID, e.table, e.event, e.message, e.fieldsColumn, e.key, importID]
        }
        return try await run { db in
            let added = try db.exclusively {
                try db.insertNew(
                    into: "logs", columns: ["at", "level", "run_id", "table_name", "event", "message", "fields", "entry_key", "import_id"],
                    key: ["at", "entry_key"], rows: rows)
            }
            try Self.invalidateOverview(db, months: Set(entries.map { String($0.at.prefix(7)) }))
            return added
        }
    }

    public func deleteImportedLogs(importID: String, from first: String, through last: String) async throws {
        try await run { db in
            try db.exclusively {
                _ = try db.execute("DELETE FROM logs WHERE at >= \(first) AND at <= \(last) AND import_id = \(importID)")
            }
        }
    }

    /// An archived row's id, bound as the table keeps its ids (numbers for the identity tables).
    static func archiveKey(_ table: ArchivableTable, _ id: String?) -> StoreSQL {
        table.numericKey ? "CAST(\(id) AS BIGINT)" : "\(id)"
    }

    static func archiveColumns(_ table: ArchivableTable) -> String {
        switch table {
        case .validationResults: return "id, " + validationResultColumns
        case .validationRuns: return validationRunColumns
        case .logs: return "id, at, level, run_id, table_name, event, message, fields, entry_key, import_id"
        }
    }

    public func archivableRows(_ table: ArchivableTable, before: String, after: String?, limit: Int) async throws -> [[String: String?]] {
        let columns = Self.archiveColumns(table).split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return try await run { db in
            let afterKey: StoreSQL = after.map { " AND id > " + Self.archiveKey(table, $0) } ?? ""
            let sql: StoreSQL =
                "SELECT \(raw: columns.joined(separator: ", ")) FROM \(raw: table.rawValue) WHERE \(raw: table.timeColumn) < \(before)\(afterKey) ORDER BY id LIMIT \(limit)"
            return try db.execute(sql).map { row in
                Dictionary(uniqueKeysWithValues: zip(columns, row).map { ($0, $1) })
            }
        }
    }

    public func restoreArchived(_ table: ArchivableTable, rows: [[String: String?]]) async throws -> Int {
        let columns = Self.archiveColumns(table).split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let added = try await run { db in
            // PostgreSQL identities refuse a given value unless told; SQLite and Snowflake take it.
            let overriding = db.engine == .postgres && table.numericKey ? " OVERRIDING SYSTEM VALUE" : ""
            func insert(_ row: [String: String?]) -> StoreSQL {
                let values = columns.map { column -> StoreSQL in
                    var value = row[column] ?? nil
                    // An archive written before migration 23 keeps log keys in the old spelling.
                    if table == .logs, column == "entry_key" { value = value.map(LogEntry.currentKey) }
                    return column == "details" ? "\(json: value)" : column == "id" ? Self.archiveKey(table, value) : "\(value)"
                }
                return "INSERT INTO \(raw: table.rawValue) (\(raw: columns.joined(separator: ", ")))\(raw: overriding) SELECT "
                    + StoreSQL.joined(values, separator: ", ")
            }
            return try db.exclusively {
                var added = 0
                var restored: [[String]: Int64] = [:]  // [month, status] → rows back
                for row in rows {
                    guard let id = row["id"] ?? nil else {
                        throw CutoverError(
                            .store, "an archived \(table.rawValue) row has no id", hint: "restore only files written by `cutover store archive`")
                    }
                    guard try db.execute("SELECT 1 FROM \(raw: table.rawValue) WHERE id = \(Self.archiveKey(table, id))").isEmpty else { continue }
                    _ = try db.execute(insert(row))
                    added += 1
                    let month = String(((row[table.timeColumn] ?? nil) ?? "").prefix(7))
                    let status = table.countedByStatus ? ((row["status"] ?? nil) ?? "*") : "*"
                    restored[[month, status], default: 0] += 1
                }
                for (key, rows) in restored {
                    try Self.adjustArchived(db, month: key[0], table: table, status: key[1], by: -rows)
                }
                return added
            }
        }
        try await run { db in
            _ = try db.execute("DELETE FROM overview_cache")
            _ = try db.execute("DELETE FROM failures_cache")
        }
        memory.invalidate(prefix: "overview")
        return added
    }

    public func deleteArchived(_ table: ArchivableTable, before: String, first: String, last: String) async throws -> Int {
        try await run { db in
            let filter: StoreSQL =
                "WHERE \(raw: table.timeColumn) < \(before) AND id >= \(Self.archiveKey(table, first)) AND id <= \(Self.archiveKey(table, last))"
            let count = try db.exclusively {
                // The overview keeps counting what leaves: per month (and result status), added to archived_counts.
                let byStatus = table.countedByStatus
                let month = "substr(\(table.timeColumn), 1, 7)"
                let status = byStatus ? ", status" : ""
                let sql: StoreSQL =
                    "SELECT \(raw: month), COUNT(*)\(raw: status) FROM \(raw: table.rawValue) \(filter) GROUP BY \(raw: month)\(raw: status)"
                for row in NamedRow.rows(table.rawValue, "month, rows, status", try db.execute(sql)) {
                    try Self.adjustArchived(
                        db, month: try row.required("month"), table: table, status: byStatus ? try row.required("status") : "*",
                        by: try row.requiredInt("rows"))
                }
                let count = Int(try db.count("SELECT COUNT(*) FROM \(raw: table.rawValue) \(filter)"))
                _ = try db.execute("DELETE FROM \(raw: table.rawValue) \(filter)")
                return count
            }
            _ = try db.execute("DELETE FROM overview_cache")
            _ = try db.execute("DELETE FROM failures_cache")
            return count
        }
    }

    /// Adds `delta` rows to what archives took out of `month` (negative when a restore brings them back).
    static func adjustArchived(_ db: any StoreDatabase, month: String, table: ArchivableTable, status: String, by delta: Int64) throws {
        let where_: StoreSQL = "WHERE month = \(month) AND table_name = \(table.rawValue) AND status = \(status)"
        if let current = try db.execute("SELECT rows FROM archived_counts \(where_)").first?.first.flatMap({ $0 }).flatMap({ Int64($0) }) {
            let total = current + delta
            if total > 0 {
                _ = try db.execute("UPDATE archived_counts SET rows = CAST(\(total) AS BIGINT) \(where_)")
            } else {
                _ = try db.execute("DELETE FROM archived_counts \(where_)")
            }
        } else if delta > 0 {
            _ = try db.execute(
                "INSERT INTO archived_counts (month, table_name, status, rows) VALUES (\(month), \(table.rawValue), \(status), CAST(\(delta) AS BIGINT))"
            )
        }
    }
}
