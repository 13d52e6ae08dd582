import CompressNIO
import Crypto
import CutoverCore
import Foundation
import NIOCore

/// One atomic write into a Snowflake table.
///
/// Rows are first staged as text in a temporary VARCHAR table — by PUT + COPY INTO when the stage
/// hands out an upload URL, by array-bound INSERTs otherwise — then converted with Snowflake's own
/// casts and inserted (or MERGEd on the key) in one transaction, after deleting the range being
/// replaced. Staging as text keeps NULL and '' apart, reports bad values with Snowflake's message,
/// and leaves the target untouched until the final transaction.
struct SnowflakeLoad {
    let client: SnowflakeClient
    let settings: SnowflakeSettings
    let table: TableRef
    let columns: [Column]
    private let dialect = SnowflakeDialect()
    private let tag = String(UUID().uuidString.prefix(8)).uppercased()

    /// Flush staged CSV once it reaches this size.
    static let fileBytes = 16 * 1024 * 1024
    /// Rows per array-bound INSERT.
    static let bindRows = 5_000

    init(client: SnowflakeClient, settings: SnowflakeSettings, table: TableRef, columns: [Column]) {
        self.client = client
        self.settings = settings
        self.table = table
        self.columns = columns
    }

    // Temporary objects live in the session's schema (the URL's), unqualified.
    private var staging: String { "CUTOVER_LOAD_\(tag)" }
    /// Kept files go to one named stage shared by every run; otherwise a stage that ends with the session.
    private var stage: String { settings.keepStagedFiles ? Self.keptStage : "CUTOVER_STAGE_\(tag)" }
    static let keptStage = "CUTOVER_STAGE"

    /// One staged file as the manifest lists it.
    private struct StagedFile: Codable {
        var name: String
        var rows: Int64
        var bytes: Int64
        var stagedBytes: Int64
        var sha256: String

        enum CodingKeys: String, CodingKey {
            case name, rows, bytes, sha256
            case stagedBytes = "staged_bytes"
        }
    }

    func run(_ rows: RowStream, options: WriteOptions) async throws -> WriteStats {
        let stagingColumns = columns.indices.map { "\"C\($0 + 1)\" VARCHAR" }.joined(separator: ", ")
        _ = try await client.run("CREATE TEMPORARY TABLE \(staging) (\(stagingColumns))")
        let useStage = try await stageAcceptsUploads()
        // Kept files need a path no other load (or earlier attempt of this one) uses.
        let folder = settings.keepStagedFiles ? (options.name ?? "\(table.description)_\(tag)") + "/" : ""
        var stats = WriteStats()
        var csv: [UInt8] = []
        var csvRows: Int64 = 0
        var files: [StagedFile] = []
        var stagedRows: Int64 = 0
        for try await batch in rows {
            try refuseWhatWouldChange(batch)
            if useStage {
                appendCSV(batch, to: &csv)
                csvRows += Int64(batch.rowCount)
                if csv.count >= Self.fileBytes {
                    try await upload(&csv, rows: &csvRows, into: folder, files: &files, stats: &stats)
                }
            } else {
                try await insertBound(batch, stats: &stats)
            }
            stagedRows += Int64(batch.rowCount)
        }
        if useStage {
            if !csv.isEmpty { try await upload(&csv, rows: &csvRows, into: folder, files: &files, stats: &stats) }
            if !files.isEmpty { try await copyStagedFiles(from: folder, expecting: stagedRows) }
            if settings.keepStagedFiles { try await putManifest(files, rows: stagedRows, into: folder, options: options) }
        }
        stats.rows = stagedRows
        try await apply(options)
        _ = try? await client.run("DROP TABLE IF EXISTS \(staging)")  // a temporary table: it goes with the session if this fails
        return stats
    }

    // MARK: Staging

    /// Whether a PUT to a temporary stage returns a URL this client can upload to (GCS-style
    /// presigned URLs without client-side encryption). S3 and Azure stages hand out cloud
    /// credentials instead; those loads use array binds.
    private func stageAcceptsUploads() async throws -> Bool {
        guard settings.preferStageLoads else { return false }
        if settings.keepStagedFiles {
            let create = "CREATE STAGE IF NOT EXISTS \(stage) ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')"
            do { _ = try await client.run(create) } catch {
                // Parallel chunks create the shared stage at once and one may lose the race; by the
                // second try the stage exists and IF NOT EXISTS holds (an error now is real).
                try await Task.sleep(for: .milliseconds(200))
                _ = try await client.run(create)
            }
        } else {
            _ = try await client.run("CREATE TEMPORARY STAGE \(stage) ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')")
        }
        let probe = try await client.run("PUT file:///cutover_probe.csv @\(stage) AUTO_COMPRESS = FALSE")
        return probe.stageInfo?.presignedUrl != nil && probe.encryptionMaterial?.queryStageMasterKey == nil
    }

    private func appendCSV(_ batch: RowBatch, to csv: inout [UInt8]) {
        for row in 0..<batch.rowCount {
            for column in 0..<batch.columnCount {
                if column > 0 { csv.append(UInt8(ascii: ",")) }
                SnowflakeCSV.append(batch[row, column], as: columns[column].canonical, to: &csv)
            }
            csv.append(UInt8(ascii: "\n"))
        }
    }

    private func upload(_ csv: inout [UInt8], rows: inout Int64, into folder: String, files: inout [StagedFile], stats: inout WriteStats) async throws
    {
        let gzip = settings.gzipStagedFiles
        let prefix = settings.keepStagedFiles ? "part" : "cutover_\(tag.lowercased())"
        let name = "\(prefix)_\(String(format: "%04d", files.count + 1)).csv" + (gzip ? ".gz" : "")
        let staged = gzip ? try Self.gzip(csv) : csv
        try await put(staged, name: name, into: folder)
        files.append(
            StagedFile(
                name: folder + name, rows: rows, bytes: Int64(csv.count), stagedBytes: Int64(staged.count),
                sha256: Hex.encode(SHA256.hash(data: staged))))
        stats.bytes += Int64(csv.count)
        csv.removeAll(keepingCapacity: true)
        rows = 0
    }

    private func put(_ bytes: [UInt8], name: String, into folder: String, compressed: Bool? = nil) async throws {
        let gzip = compressed ?? settings.gzipStagedFiles
        let put = try await client.run("PUT file:///\(name) @\(stage)/\(folder) AUTO_COMPRESS = FALSE" + (gzip ? " SOURCE_COMPRESSION = GZIP" : ""))
        guard let url = put.stageInfo?.presignedUrl else {
            throw CutoverError(.io, "Snowflake gave no upload URL for \(folder)\(name) on stage \(stage)", context: ["table": table.description])
        }
        try await client.upload(bytes, to: url)
    }

    /// What a kept load staged, next to its files: which files, their rows, sizes and digests, so
    /// the stage can be audited (or a file reloaded) without the ledger.
    private func putManifest(_ files: [StagedFile], rows: Int64, into folder: String, options: WriteOptions) async throws {
        struct Manifest: Encodable {
            var table: String
            var write: String?
            var columns: [String]
            var format: String
            var rows: Int64
            var files: [StagedFile]
        }
        let manifest = Manifest(
            table: table.description, write: options.name, columns: columns.map(\.name),
            format: settings.gzipStagedFiles ? "csv+gzip" : "csv", rows: rows, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try await put(Array(try encoder.encode(manifest)), name: "manifest.json", into: folder, compressed: false)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        // Level 1: most of the size saving for a fraction of the CPU of the default (measured in bench/snowflake-load.sh).
        let compressed = try buffer.compress(with: .gzip(configuration: ZlibConfiguration(compressionLevel: 1)))
        return Array(compressed.readableBytesView)
    }

    private func copyStagedFiles(from folder: String, expecting rows: Int64) async throws {
        // Kept files: PURGE left out (its default is FALSE; the emulator purges on any PURGE clause).
        let purge = settings.keepStagedFiles ? "" : " PURGE = TRUE"
        let data = try await client.run(
            "COPY INTO \(staging) FROM @\(stage)/\(folder) \(SnowflakeCSV.fileFormat(gzip: settings.gzipStagedFiles)) ON_ERROR = ABORT_STATEMENT\(purge)"
        )
        let result = try await SnowflakeResultPages(data, client: client).all()
        let loadedIndex = data.rowtype?.firstIndex { $0.name.lowercased() == "rows_loaded" }
        let loaded = result.reduce(Int64(0)) { sum, row in
            guard let i = loadedIndex, case .int(let n) = row[i] else { return sum }
            return sum + n
        }
        guard loadedIndex == nil || loaded == rows else {
            throw CutoverError(
                .io, "COPY INTO loaded \(loaded) of \(rows) staged rows into \(table)",
                hint: "the stage lost files; rerun the migration (this chunk was not applied)", context: ["table": table.description])
        }
    }

    /// A value the column cannot hold as it is (a BLOB for a VARCHAR, text for a BINARY) fails the
    /// load, named, instead of being staged as something else.
    private func refuseWhatWouldChange(_ batch: RowBatch) throws {
        for (index, column) in columns.enumerated() {
            for row in 0..<batch.rowCount {
                if let why = batch[row, index].storageMismatch(for: column.canonical) ?? Self.numberMismatch(batch[row, index], column.canonical) {
                    throw CutoverError(
                        .valueDoesNotFit, "\(table).\(column.name): \(why)",
                        hint:
                            "give the column a type that holds it (cutover.yml overrides, BINARY for BLOBs, FLOAT for NaN), or set such rows aside with --on-error reject",
                        context: ["table": table.description, "column": column.name])
                }
            }
        }
    }

    /// NUMBER holds neither NaN nor ±Infinity; Snowflake's own error would name neither column nor row.
    static func numberMismatch(_ value: Value, _ type: CanonicalType) -> String? {
        guard case .decimal = type else { return nil }
        switch value {
        case .double(let d) where !d.isFinite: return "\(DecimalText.plain(d)) does not fit a NUMBER column (it holds no NaN or infinity)"
        case .text(let s) where Double(parsingSQL: s).map({ !$0.isFinite }) == true:
            return "\(s) does not fit a NUMBER column (it holds no NaN or infinity)"
        default: return nil
        }
    }

    private func insertBound(_ batch: RowBatch, stats: inout WriteStats) async throws {
        let placeholders = columns.map { _ in "?" }.joined(separator: ", ")
        var start = 0
        while start < batch.rowCount {
            let end = min(start + Self.bindRows, batch.rowCount)
            var bindings: [String: Binding] = [:]
            for (index, column) in columns.enumerated() {
                let values = (start..<end).map { SnowflakeCSV.staged(batch[$0, index], as: column.canonical) }
                stats.bytes += Int64(values.reduce(0) { $0 + ($1?.utf8.count ?? 0) })
                bindings[String(index + 1)] = Binding(type: "TEXT", value: .many(values))
            }
            _ = try await client.run("INSERT INTO \(staging) VALUES (\(placeholders))", bindings: bindings)
            start = end
        }
    }

    // MARK: Applying

    private func apply(_ options: WriteOptions) async throws {
        let target = dialect.qualified(table)
        let names = columns.map { dialect.quote($0.name) }
        let converted = columns.enumerated().map { index, column in
            SnowflakeTypes.conversion("\"C\(index + 1)\"", to: column.canonical) + " AS " + dialect.quote(column.name)
        }
        var statements: [String] = []
        var typed: String?
        if case .upsert(let key) = options.mode {
            // DDL commits an open transaction in Snowflake, so the typed copy is made before BEGIN.
            let typedName = "CUTOVER_TYPED_\(tag)"
            typed = typedName
            try await run("CREATE TEMPORARY TABLE \(typedName) AS SELECT \(converted.joined(separator: ", ")) FROM \(staging)")
            let on = key.map { "t.\(dialect.quote($0)) = s.\(dialect.quote($0))" }.joined(separator: " AND ")
            let updates = columns.filter { !key.contains($0.name) }.map { "\(dialect.quote($0.name)) = s.\(dialect.quote($0.name))" }
            var merge = "MERGE INTO \(target) t USING \(typedName) s ON \(on)"
            if !updates.isEmpty { merge += " WHEN MATCHED THEN UPDATE SET " + updates.joined(separator: ", ") }
            merge +=
                " WHEN NOT MATCHED THEN INSERT (\(names.joined(separator: ", "))) VALUES (\(columns.map { "s." + dialect.quote($0.name) }.joined(separator: ", ")))"
            statements.append(merge)
        } else {
            statements.append("INSERT INTO \(target) (\(names.joined(separator: ", "))) SELECT \(converted.joined(separator: ", ")) FROM \(staging)")
        }
        if let replacing = options.replacing {
            statements.insert("DELETE FROM \(target)" + (replacing.isEmpty ? "" : " WHERE " + replacing.sql(dialect)), at: 0)
        }
        try await runAtomically(statements)
        if let typed { _ = try? await client.run("DROP TABLE IF EXISTS \(typed)") }  // temporary: goes with the session
    }

    /// One statement is atomic on its own; several run in one transaction.
    private func runAtomically(_ statements: [String]) async throws {
        if statements.count == 1 { return try await run(statements[0]) }
        _ = try await client.run("BEGIN")
        do {
            for statement in statements { try await run(statement) }
            _ = try await client.run("COMMIT")
        } catch {
            _ = try? await client.run("ROLLBACK")  // the error that got us here is the one thrown
            throw error
        }
    }

    private func run(_ sql: String) async throws {
        do { _ = try await client.run(sql) } catch let error as CutoverError {
            throw error.adding(["table": table.description])
        }
    }
}
