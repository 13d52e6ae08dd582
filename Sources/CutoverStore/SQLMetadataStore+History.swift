import CompressNIO
import CutoverCore
import Crypto
import Foundation
import NIOCore

/// A file's bytes as the store keeps them: gzip, then base64 (every backend has a text column;
/// not every one has a binary one), with the SHA-256 of the original bytes.
enum StoredBlob {
    /// The digest and the stored text; nil text when the compressed bytes exceed ``ArtifactRecord/maxStoredBytes``.
    static func encode(_ content: Data) throws -> (sha256: String, text: String?) {
        let digest = Hex.encode(SHA256.hash(data: content))
        var buffer = ByteBuffer(bytes: content)
        let compressed = try buffer.compress(with: .gzip())
        return (digest, compressed.readableBytes <= ArtifactRecord.maxStoredBytes ? Data(compressed.readableBytesView).base64EncodedString() : nil)
    }

    /// The original bytes, checked against their digest.
    static func decode(_ text: String, sha256: String, what: String, hint: String) throws -> Data {
        guard let compressed = Data(base64Encoded: text) else { throw CutoverError(.store, "\(what) is not base64", hint: hint) }
        var buffer = ByteBuffer(bytes: compressed)
        let content = Data(try buffer.decompress(with: .gzip()).readableBytesView)
        guard Hex.encode(SHA256.hash(data: content)) == sha256 else { throw CutoverError(.store, "\(what) does not match its SHA-256", hint: hint) }
        return content
    }
}

/// A row read by column name: a missing required value is an error that names the table and
/// column, never a silent default.
struct NamedRow {
    let table: String
    let names: [String]
    let values: [String?]

    func optional(_ name: String) -> String? {
        guard let index = names.firstIndex(of: name), index < values.count else { return nil }
        return values[index]
    }

    func required(_ name: String) throws -> String {
        guard let value = optional(name) else {
            throw CutoverError(
                .store, "a \(table) row has no \(name)", hint: "the store was changed by hand; restore it from a backup or delete the row")
        }
        return value
    }

    func int(_ name: String) throws -> Int64? {
        guard let text = optional(name) else { return nil }
        guard let value = Value.text(text).wholeNumber else {
            throw CutoverError(.store, "\(table).\(name) holds \(text), not a whole number", hint: "the store was changed by hand")
        }
        return value
    }

    func double(_ name: String) throws -> Double? {
        guard let text = optional(name) else { return nil }
        guard let value = Double(text) else {
            throw CutoverError(.store, "\(table).\(name) holds \(text), not a number", hint: "the store was changed by hand")
        }
        return value
    }

    /// A value kept by its raw name (a status, a side, a severity): one the enum does not know is
    /// an error listing those it does.
    func value<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws -> T where T.RawValue == String {
        let text = try required(name)
        guard let value = T(rawValue: text) else {
            throw CutoverError(
                .store, "\(table).\(name) holds \(text), not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))",
                hint: "the store was changed by hand")
        }
        return value
    }

    func decoded<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(try required(name).utf8))
        } catch let error as CutoverError {
            throw error
        } catch {
            throw CutoverError(.store, "\(table).\(name) is not the JSON Cutover wrote", hint: "the store was changed by hand")
        }
    }

    func requiredInt(_ name: String) throws -> Int64 {
        guard let value = try int(name) else { _ = try required(name); return 0 }  // required() throws for the absent value
        return value
    }

    init(table: String, columns: String, values: [String?]) {
        self.table = table
        names = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        self.values = values
    }

    static func rows(_ table: String, _ columns: String, _ rows: [[String?]]) -> [NamedRow] {
        rows.map { NamedRow(table: table, columns: columns, values: $0) }
    }
}

// Records imported from the files other tools kept: rulebook registry, reported months, failure snapshots.
extension SQLMetadataStore {
    static let registryColumns = "suite_name, expectation_type, rule_hash, definition, added_on, last_modified, check_name"

    public func saveRegistryRules(_ rules: [RegistryRuleRecord]) async throws -> Int {
        try await run { db in
            var added = 0
            try db.exclusively {
                for r in rules {
                    let exists = try db.execute(
                        "SELECT 1 FROM rulebook_registry WHERE suite_name = \(r.suite) AND expectation_type = \(r.expectationType) AND rule_hash = \(r.ruleHash)"
                    )
                    guard exists.isEmpty else { continue }
                    _ = try db.execute(
                        "INSERT INTO rulebook_registry (\(raw: Self.registryColumns)) VALUES (\(r.suite), \(r.expectationType), \(r.ruleHash), \(r.definition), \(r.addedOn), \(r.lastModified), \(r.check))"
                    )
                    added += 1
                }
            }
            return added
        }
    }

    public func registryRules(suite: String?) async throws -> [RegistryRuleRecord] {
        try await run { db in
            let rows = try db.execute(
                "SELECT \(raw: Self.registryColumns) FROM rulebook_registry" + (suite.map { " WHERE suite_name = \($0)" } ?? "")
                    + " ORDER BY suite_name, expectation_type, added_on, rule_hash")
            return try NamedRow.rows("rulebook_registry", Self.registryColumns, rows).map { row in
                RegistryRuleRecord(
                    suite: try row.required("suite_name"), expectationType: try row.required("expectation_type"),
                    definition: try row.required("definition"), ruleHash: try row.required("rule_hash"), addedOn: row.optional("added_on"),
                    lastModified: try row.required("last_modified"), check: row.optional("check_name"))
            }
        }
    }

    static let reportedMonthColumns =
        "month, origin, current_total, previous_total, delta, materials, breakdown, log_stats, data_date, cached_at, payload"

    public func saveReportedMonths(_ months: [ReportedMonth]) async throws {
        guard !months.isEmpty else { return }
        try await run { db in
            try db.exclusively {
                for m in months {
                    _ = try db.execute("DELETE FROM reported_months WHERE month = \(m.month)")
                    _ = try db.execute(
                        "INSERT INTO reported_months (\(raw: Self.reportedMonthColumns)) VALUES (\(m.month), \(m.origin), \(m.currentTotal), \(m.previousTotal), \(m.delta), \(m.materials), \(try sortedJSON(m.breakdown)), \(m.logStats), \(m.dataDate), \(m.cachedAt), \(m.payload))"
                    )
                }
            }
            _ = try db.execute("DELETE FROM overview_cache")
        }
        memory.invalidate(prefix: "overview")
    }

    public func reportedMonths() async throws -> [ReportedMonth] {
        try await run { db in try Self.reportedMonths(db) }
    }

    static func reportedMonths(_ db: any StoreDatabase) throws -> [ReportedMonth] {
        let rows = try db.execute("SELECT \(raw: reportedMonthColumns) FROM reported_months ORDER BY month")
        return try NamedRow.rows("reported_months", reportedMonthColumns, rows).map { row in
            ReportedMonth(
                month: try row.required("month"), origin: try row.required("origin"), currentTotal: try row.int("current_total"),
                previousTotal: try row.int("previous_total"), delta: try row.int("delta"), materials: try row.int("materials"),
                breakdown: try row.decoded("breakdown", as: [NamedCount].self), logStats: row.optional("log_stats"),
                dataDate: row.optional("data_date"), cachedAt: try row.required("cached_at"), payload: try row.required("payload"))
        }
    }

    static let failureSnapshotColumns = "suite_name, data_date, row_count, columns, bytes, sha256, cached_at, origin"

    public func saveFailureSnapshot(_ s: FailureSnapshotRecord, content: Data) async throws -> Bool {
        let (digest, text) = try StoredBlob.encode(content)
        guard let text else {
            throw CutoverError(
                .store,
                "\(s.origin): \(content.count) bytes of failing rows are more than the store keeps in one value (\(ArtifactRecord.maxStoredBytes / 1_048_576) MB compressed)",
                hint: "split the file by date, or keep it as a file")
        }
        return try await run { db in
            var added = false
            try db.exclusively {
                guard try db.execute("SELECT 1 FROM failure_snapshots WHERE suite_name = \(s.suite) AND data_date = \(s.dataDate)").isEmpty else {
                    return
                }
                _ = try db.execute(
                    "INSERT INTO failure_snapshots (\(raw: Self.failureSnapshotColumns), content) VALUES (\(s.suite), \(s.dataDate), \(s.rows), \(try sortedJSON(s.columns)), \(content.count), \(digest), \(s.cachedAt), \(s.origin), \(text))"
                )
                added = true
            }
            return added
        }
    }

    public func failureSnapshots(suite: String?) async throws -> [FailureSnapshotRecord] {
        try await run { db in
            let rows = try db.execute(
                "SELECT \(raw: Self.failureSnapshotColumns) FROM failure_snapshots" + (suite.map { " WHERE suite_name = \($0)" } ?? "")
                    + " ORDER BY data_date DESC, suite_name")
            return try NamedRow.rows("failure_snapshots", Self.failureSnapshotColumns, rows).map(Self.failureSnapshot)
        }
    }

    public func failureSnapshot(suite: String, dataDate: String) async throws -> (record: FailureSnapshotRecord, content: Data)? {
        let row = try await run { db in
            try db.execute(
                "SELECT \(raw: Self.failureSnapshotColumns), content FROM failure_snapshots WHERE suite_name = \(suite) AND data_date = \(dataDate)"
            ).first
        }
        guard let row else { return nil }
        let named = NamedRow(table: "failure_snapshots", columns: Self.failureSnapshotColumns + ", content", values: row)
        let record = try Self.failureSnapshot(named)
        let content = try StoredBlob.decode(
            try named.required("content"), sha256: record.sha256, what: "the failing rows of \(suite) on \(dataDate)",
            hint: "the store was changed by hand; import the file again after deleting the row")
        return (record, content)
    }

    static func failureSnapshot(_ row: NamedRow) throws -> FailureSnapshotRecord {
        FailureSnapshotRecord(
            suite: try row.required("suite_name"), dataDate: try row.required("data_date"), rows: try row.requiredInt("row_count"),
            columns: try row.decoded("columns", as: [String].self), bytes: try row.requiredInt("bytes"), sha256: try row.required("sha256"),
            cachedAt: try row.required("cached_at"), origin: try row.required("origin"))
    }
}

private func sortedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
