import CutoverCore
import CutoverStore
import Foundation

/// Unpacks a `.tar.gz` (ustar, GNU long names, pax paths) into a directory as it streams: memory
/// holds one 512-byte header and one decompressed block. Only regular files and directories come
/// out; links, devices and any member whose path is absolute or climbs out with `..` are refused
/// by name, so an archive cannot write outside the directory it is unpacked into.
struct TarExtractor {
    struct Member: Sendable {
        var path: String
        var bytes: Int64
    }

    /// The files written, and the members left out with why.
    struct Result: Sendable {
        var files: [Member] = []
        var refused: [(path: String, reason: String)] = []
    }

    static func extract(_ archive: String, into directory: String) async throws -> Result {
        var state = State(root: directory)
        do {
            try await GzipLines.forEachBlock(path: archive) { bytes in try state.feed(bytes[...]) }
        } catch let error as CutoverError {
            throw error
        } catch {
            throw CutoverError(.config, "\(archive) is not a readable gzip file: \(error)", hint: "check the file with `tar tzf`")
        }
        try state.finish(archive)
        return state.result
    }

    private struct State {
        let root: String
        var result = Result()
        var header: [UInt8] = []
        /// The member being written, and how many of its bytes and of its padding are still to come.
        var output: FileHandle?
        var remaining: Int64 = 0
        var padding: Int64 = 0
        var longName: String?
        var collectingLongName: [UInt8]?
        var paxPath: String?
        var collectingPax: [UInt8]?
        var ended = false

        init(root: String) { self.root = root }

        mutating func feed(_ input: ArraySlice<UInt8>) throws {
            var bytes = input
            while !bytes.isEmpty && !ended {
                if remaining > 0 {
                    let take = Int(min(Int64(bytes.count), remaining))
                    let part = bytes.prefix(take)
                    if collectingLongName != nil {
                        collectingLongName?.append(contentsOf: part)
                    } else if collectingPax != nil {
                        collectingPax?.append(contentsOf: part)
                    } else if let output {
                        try output.write(contentsOf: Data(part))
                    }
                    bytes = bytes.dropFirst(take)
                    remaining -= Int64(take)
                    if remaining == 0 { try endMember() }
                } else if padding > 0 {
                    let take = Int(min(Int64(bytes.count), padding))
                    bytes = bytes.dropFirst(take)
                    padding -= Int64(take)
                } else {
                    let take = min(bytes.count, 512 - header.count)
                    header.append(contentsOf: bytes.prefix(take))
                    bytes = bytes.dropFirst(take)
                    if header.count == 512 {
                        try startMember(header)
                        header.removeAll(keepingCapacity: true)
                    }
                }
            }
        }

        mutating func finish(_ archive: String) throws {
            // tar writes zero blocks at the end: without them the archive was cut short, even when the cut fell between members.
            guard ended, remaining == 0 else {
                try? output?.close()  // the partial member is reported below; its handle only needs closing
                throw CutoverError(.config, "\(archive) ends in the middle of a member", hint: "the archive is truncated: copy it again")
            }
        }

        static func text(_ field: ArraySlice<UInt8>) -> String {
            String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
        }

        static func octal(_ field: ArraySlice<UInt8>) throws -> Int64 {
            // GNU base-256 for sizes of 8 GiB and more.
            if let first = field.first, first & 0x80 != 0 {
                return field.dropFirst().reduce(Int64(first & 0x7F)) { $0 << 8 | Int64($1) }
            }
            let digits = text(field).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let value = digits.isEmpty ? 0 : Int64(digits, radix: 8) else {
                throw CutoverError(.config, "a tar header with a size that is not octal (\(digits))")
            }
            return value
        }

        mutating func startMember(_ block: [UInt8]) throws {
            if block.allSatisfy({ $0 == 0 }) { ended = true; return }
            let stored = block.prefix(148) + Array(repeating: UInt8(ascii: " "), count: 8) + block.dropFirst(156)
            guard try Self.octal(block[148..<156]) == stored.reduce(Int64(0), { $0 + Int64($1) }) else {
                throw CutoverError(.config, "a tar header whose checksum does not match", hint: "the archive is damaged or not a tar file")
            }
            let size = try Self.octal(block[124..<136])
            let type = block[156]
            let magic = Self.text(block[257..<263])
            let prefix = magic.hasPrefix("ustar") ? Self.text(block[345..<500]) : ""
            var name = Self.text(block[0..<100])
            if !prefix.isEmpty { name = prefix + "/" + name }
            if let long = longName ?? paxPath { name = long }
            longName = nil
            paxPath = nil
            remaining = size
            padding = (512 - size % 512) % 512
            switch type {
            case UInt8(ascii: "L"):
                collectingLongName = []
            case UInt8(ascii: "x"):
                collectingPax = []
            case UInt8(ascii: "g"):
                collectingPax = nil
                output = nil
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                guard let path = safePath(name) else { return }
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                    throw CutoverError(
                        .io, "cannot write \(path) while unpacking", hint: "check the space and permissions of the temporary directory")
                }
                output = handle
                result.files.append(Member(path: name, bytes: size))
            case UInt8(ascii: "5"):
                if name.split(separator: "/").allSatisfy({ $0 == "." }) { break }  // the archive's own root, "./"
                if let path = safePath(name) { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            default:
                result.refused.append((name, "not a regular file (tar type \(Character(UnicodeScalar(type))))"))
            }
            if remaining == 0 { try endMember() }
        }

        /// Where a member goes under the root; nil (and the member refused) when it would land outside.
        mutating func safePath(_ name: String) -> String? {
            let parts = name.split(separator: "/").filter { $0 != "." }
            guard !name.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
                result.refused.append((name, "its path leaves the archive (absolute or with ..)"))
                return nil
            }
            return (root as NSString).appendingPathComponent(parts.joined(separator: "/"))
        }

        mutating func endMember() throws {
            if let bytes = collectingLongName {
                longName = Self.text(bytes[...])
                collectingLongName = nil
            } else if let bytes = collectingPax {
                // Records are "LENGTH key=value\n"; only the path matters here.
                for record in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                    guard let space = record.firstIndex(of: " ") else { continue }
                    let pair = record[record.index(after: space)...]
                    if pair.hasPrefix("path=") { paxPath = String(pair.dropFirst(5)) }
                }
                collectingPax = nil
            } else if let output {
                try output.close()
                self.output = nil
            }
        }
    }
}
