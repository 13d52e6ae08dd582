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
    public struct File: Sendable, Codable {
        public var table: String
        public var path: String
        public var rows: Int
        /// SHA-256 of the uncompressed NDJSON.
        public var sha256: String
        public var deleted: Int
    }

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
                throw CutoverError(.io, "cannot create the archive directory \(directory): \(error.localizedDescription)", hint: "pass --to a writable directory")
            }
        }
        var files: [File] = []
        let stamp = before.prefix(10).replacingOccurrences(of: "-", with: "")
        // Results before their runs: a run is never archived while its results stay behind.
        for table in [ArchivableTable.validationResults, .validationRuns, .logs] {
            let path = (directory as NSString).appendingPathComponent("\(table.rawValue)-before-\(stamp)-\(RunRecord.newID()).ndjson.gz")
            if let file = try await archive(table, before: before, path: path, dryRun: dryRun) { files.append(file) }
        }
        return Report(before: before, directory: directory, dryRun: dryRun, files: files)
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
        let readBack = try GzipLineWriter.verify(path: path)
        guard readBack.lines == rows, readBack.sha256 == written.sha256 else {
            throw CutoverError(.io, "the archive \(path) does not read back as written (\(readBack.lines) of \(rows) lines); nothing was deleted from the store",
                               hint: "check the disk and run the archive again")
        }
        // Deleted by each batch's key range and age. A row committed late into a range already read
        // (PostgreSQL identities can commit out of order) with an old timestamp would go unarchived;
        // rows are written with the current time, so only imports of old history could do that.
        var deleted = 0
        for range in ranges { deleted += try await store.deleteArchived(table, before: before, first: range.first, last: range.last) }
        return File(table: table.rawValue, path: path, rows: rows, sha256: written.sha256, deleted: deleted)
    }

    /// One row as a JSON object with its columns in a stable order; JSON columns stay JSON.
    static func jsonLine(_ row: [String: String?]) throws -> String {
        var object: [String: Any] = [:]
        for (column, value) in row {
            guard let value else { object[column] = NSNull(); continue }
            if column == "details" || column == "fields", let parsed = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed]) {  // JSON columns are archived as JSON; text that is not JSON is archived as the text it is
                object[column] = parsed
            } else {
                object[column] = value
            }
        }
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
    static func verify(path: String) throws -> (lines: Int, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CutoverError(.io, "cannot read back the archive \(path)") }
        defer { try? handle.close() }  // the file was written and flushed; closing a read handle cannot lose data
        let decompressor = CompressionAlgorithm.gzip().decompressor
        try decompressor.startStream()
        var hash = SHA256()
        var lines = 0
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            var input = ByteBuffer(bytes: data)
            while input.readableBytes > 0 {
                let before = input.readableBytes
                let output = try input.decompressStream(with: decompressor)
                hash.update(data: Array(output.readableBytesView))
                lines += output.readableBytesView.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                if input.readableBytes == before { break }
            }
        }
        try decompressor.finishStream()
        return (lines, Hex.encode(hash.finalize()))
    }
}
