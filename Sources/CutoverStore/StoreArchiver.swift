import CompressNIO
import CutoverCore
import Crypto
import Foundation
import NIOCore

/// `cutover store archive`: moves results and logs older than a cutoff out of the store into
/// gzip-compressed NDJSON files, one per table. Rows are read in key order, a batch at a time
/// (memory holds one batch); they are deleted from the store only after the file was written,
/// read back, and its line count and SHA-256 matched what was written.
public struct StoreArchiver: Sendable {
    /// One archive file written: the table it holds, its path, rows and digest.
    public struct File: Sendable, Codable {
        public var table: String
        public var path: String
        public var rows: Int
        /// SHA-256 of the uncompressed NDJSON.
        public var sha256: String
        public var deleted: Int
    }

    /// What an archive pass moved out of the store, and where.
    public struct Report: Sendable, Codable {
        public var before: String
        public var directory: String
        public var dryRun: Bool
        public var files: [File]
    }

    let store: any MetadataStore
    let batchSize: Int

    public init(store: any MetadataStore, batchSize: Int = 10_000) {
        self.store = store
        self.batchSize = batchSize
    }

    /// Archives rows older than `before` (an ISO timestamp) into `directory`. With `dryRun`, only counts.
    public func archive(before: String, to directory: String, dryRun: Bool = false) async throws -> Report {
        if !dryRun {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CutoverError(
                    .io, "cannot create the archive directory \(directory): \(error.localizedDescription)", hint: "pass --to a writable directory")
            }
        }
        var files: [File] = []
        let stamp = before.prefix(10).replacingOccurrences(of: "-", with: "")
        let id = RunRecord.newID()
        // Results before their runs: a run is never archived while its results stay behind.
        for table in [ArchivableTable.validationResults, .validationRuns, .logs] {
            let path = (directory as NSString).appendingPathComponent("\(table.rawValue)-before-\(stamp)-\(id).ndjson.gz")
            if let file = try await archive(table, before: before, path: path, dryRun: dryRun) { files.append(file) }
        }
        let report = Report(before: before, directory: directory, dryRun: dryRun, files: files)
        if !dryRun, !files.isEmpty {
            // The manifest `store restore` checks each file against (rows and SHA-256).
            let manifest = (directory as NSString).appendingPathComponent("archive-before-\(stamp)-\(id).json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                try encoder.encode(report).write(to: URL(fileURLWithPath: manifest))
            } catch {
                throw CutoverError(
                    .io,
                    "archived \(files.map { "\($0.rows) \($0.table)" }.joined(separator: ", ")) but could not write the manifest \(manifest): \(error.localizedDescription)",
                    hint:
                        "the archive files are complete; `cutover store restore` reads them without the manifest (it then cannot check their digests)"
                )
            }
        }
        return report
    }

    /// What `store restore` put back from one file.
    public struct Restored: Sendable, Codable {
        public var table: String
        public var path: String
        public var rows: Int
        /// Rows added; the rest were in the store already.
        public var added: Int
        /// Whether a manifest vouched for the file's row count and SHA-256.
        public var checked: Bool
    }

    /// Puts the rows of archive files back into the store: `path` is one `.ndjson.gz` file written
    /// by ``archive(before:to:dryRun:)`` or a folder of them. A file listed in a manifest is read
    /// through once first and must match its row count and SHA-256, or nothing of it is restored.
    /// Rows keep their keys; a row already in the store is left as it is, so a restore can be rerun.
    public func restore(from path: String) async throws -> [Restored] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CutoverError(
                .usage, "\(path) does not exist", hint: "pass an archive folder or one .ndjson.gz file written by `cutover store archive`")
        }
        let directory = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        // The folder must be readable: its manifests are what each file is checked against, and
        // a folder read as empty would restore files unchecked.
        let listed = directory.isEmpty ? "." : directory
        let listing: [String]
        do {
            listing = try FileManager.default.contentsOfDirectory(atPath: listed)
        } catch {
            throw CutoverError(
                .io, "cannot list \(listed) to find its archive manifests: \(error.localizedDescription)",
                hint: "give this user read access to the archive folder")
        }
        let names = isDirectory.boolValue ? listing : [(path as NSString).lastPathComponent]
        var expected: [String: File] = [:]
        for manifest in listing where manifest.hasPrefix("archive-") && manifest.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(manifest)))
            guard let report = try? JSONDecoder().decode(Report.self, from: data) else {  // else: named in the error
                throw CutoverError(.config, "\(manifest) in \(directory) is not an archive manifest", hint: "move it away or restore single files")
            }
            for file in report.files { expected[(file.path as NSString).lastPathComponent] = file }
        }
        // Runs before their results, as they were before the archive.
        let order: [ArchivableTable] = [.validationRuns, .validationResults, .logs]
        let files = names.compactMap { name in ArchivableTable.archived(inFile: name).map { ($0, name) } }.sorted {
            (order.firstIndex(of: $0.0) ?? 0, $0.1) < (order.firstIndex(of: $1.0) ?? 0, $1.1)
        }
        guard !files.isEmpty else {
            throw CutoverError(
                .usage, "no archive files (TABLE-before-DATE-ID.ndjson.gz) in \(path)", hint: "pass the --to folder of `cutover store archive`")
        }
        var restored: [Restored] = []
        for (table, name) in files {
            let file = (directory as NSString).appendingPathComponent(name)
            var checked = false
            if let listed = expected[name] {
                let read = try await GzipLineWriter.verify(path: file)
                guard read.lines == listed.rows, read.sha256 == listed.sha256 else {
                    throw CutoverError(
                        .io,
                        "\(file) is not the file the archive wrote: \(read.lines) rows, SHA-256 \(read.sha256.prefix(16))… "
                            + "where its manifest says \(listed.rows) rows, \(listed.sha256.prefix(16))…; nothing of it was restored",
                        hint: "find the original file; files restored before this one stay in the store")
                }
                checked = true
            }
            // A batch at a time (memory holds one); a restore cut short is finished by a rerun,
            // which skips the rows already back.
            var rows = 0, added = 0
            var batch: [[String: String?]] = []
            try await GzipLines.forEach(path: file) { line in
                rows += 1
                batch.append(try Self.row(line, file: file, line: rows))
                if batch.count >= batchSize {
                    added += try await store.restoreArchived(table, rows: batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { added += try await store.restoreArchived(table, rows: batch) }
            restored.append(Restored(table: table.rawValue, path: file, rows: rows, added: added, checked: checked))
        }
        return restored
    }

    /// The rows of one archive file (its lines).
    public static func count(_ path: String) async throws -> Int {
        try await GzipLineWriter.verify(path: path).lines
    }

    /// One archived row: every value as the text the store held (JSON columns of older archives,
    /// written as JSON, are turned back into text).
    static func row(_ line: String, file: String, line number: Int) throws -> [String: String?] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {  // else: named below
            throw CutoverError(
                .config, "line \(number) of \(file) is not a JSON object", hint: "restore only files written by `cutover store archive`")
        }
        var row: [String: String?] = [:]
        for (column, value) in object {
            switch value {
            case is NSNull: row[column] = .some(nil)
            case let text as String: row[column] = text
            case let number as NSNumber: row[column] = number.stringValue
            default:
                row[column] = String(
                    decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
            }
        }
        return row
    }

    private func archive(_ table: ArchivableTable, before: String, path: String, dryRun: Bool) async throws -> File? {
        var writer: GzipLineWriter? = nil
        var ranges: [(first: String, last: String)] = []
        var rows = 0
        var after: String? = nil
        while true {
            let batch = try await store.archivableRows(table, before: before, after: after, limit: batchSize)
            guard let first = batch.first?["id"].flatMap({ $0 }), let last = batch.last?["id"].flatMap({ $0 }) else { break }
            if !dryRun {
                if writer == nil { writer = try GzipLineWriter(path: path) }
                for row in batch { try writer?.write(line: try Self.jsonLine(row)) }
            }
            ranges.append((first, last))
            rows += batch.count
            after = last
        }
        guard rows > 0 else { return nil }
        guard !dryRun, var writer else { return File(table: table.rawValue, path: "", rows: rows, sha256: "", deleted: 0) }
        let written = try writer.finish()
        let readBack = try await GzipLineWriter.verify(path: path)
        guard readBack.lines == rows, readBack.sha256 == written.sha256 else {
            throw CutoverError(
                .io, "the archive \(path) does not read back as written (\(readBack.lines) of \(rows) lines); nothing was deleted from the store",
                hint: "check the disk and run the archive again")
        }
        // Deleted by each batch's key range and age. A row committed late into a range already read
        // (PostgreSQL identities can commit out of order) with an old timestamp would go unarchived;
        // rows are written with the current time, so only imports of old history could do that.
        var deleted = 0
        for range in ranges { deleted += try await store.deleteArchived(table, before: before, first: range.first, last: range.last) }
        return File(table: table.rawValue, path: path, rows: rows, sha256: written.sha256, deleted: deleted)
    }

    /// One row as a JSON object with its columns in a stable order. Every value is the text the
    /// store holds — JSON columns too (`jq '.details | fromjson'` reads them) — so a restore puts
    /// back exactly that text.
    static func jsonLine(_ row: [String: String?]) throws -> String {
        var object: [String: Any] = [:]
        for (column, value) in row { object[column] = value ?? NSNull() }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// NDJSON written through gzip as it goes, hashing the uncompressed bytes.
struct GzipLineWriter {
    private let handle: FileHandle
    private let compressor: any NIOCompressor
    private var hash = SHA256()
    private var pending = ByteBuffer()
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CutoverError(.io, "cannot create the archive file \(path)", hint: "pass --to a writable directory")
        }
        self.handle = handle
        compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
    }

    mutating func write(line: String) throws {
        let bytes = Array((line + "\n").utf8)
        hash.update(data: bytes)
        pending.writeBytes(bytes)
        if pending.readableBytes >= 1 << 20 { try flush(.sync) }
    }

    private mutating func flush(_ mode: CompressNIOFlush) throws {
        let compressed = try pending.compressStream(with: compressor, flush: mode)
        try handle.write(contentsOf: Data(compressed.readableBytesView))
        pending.clear()
    }

    /// Ends the gzip stream and closes the file; returns the uncompressed SHA-256.
    mutating func finish() throws -> (sha256: String, path: String) {
        try flush(.finish)
        try compressor.finishStream()
        try handle.synchronize()
        try handle.close()
        return (Hex.encode(hash.finalize()), path)
    }

    /// Reads a gzip NDJSON file back: its line count and the SHA-256 of its uncompressed bytes.
    static func verify(path: String) async throws -> (lines: Int, sha256: String) {
        var hash = SHA256()
        var lines = 0
        try await GzipLines.forEachBlock(path: path) { bytes in
            hash.update(data: bytes)
            lines += bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        return (lines, Hex.encode(hash.finalize()))
    }
}

/// A gzip-compressed text file read back a megabyte at a time.
public enum GzipLines {
    /// Every block of uncompressed bytes, in order.
    public static func forEachBlock(path: String, _ body: ([UInt8]) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CutoverError(.io, "cannot read back the archive \(path)") }
        defer { try? handle.close() }  // the file was written and flushed; closing a read handle cannot lose data
        let decompressor = CompressionAlgorithm.gzip().decompressor
        try decompressor.startStream()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            var input = ByteBuffer(bytes: data)
            while input.readableBytes > 0 {
                let before = input.readableBytes
                let output = try input.decompressStream(with: decompressor)
                try await body(Array(output.readableBytesView))
                if input.readableBytes == before { break }
            }
        }
        try decompressor.finishStream()
    }

    /// Every line (without its newline), in order.
    static func forEach(path: String, _ body: (String) async throws -> Void) async throws {
        var lines = LineSplitter()
        try await forEachBlock(path: path) { bytes in try await lines.feed(bytes, body) }
        try await lines.finish(body)
    }
}
