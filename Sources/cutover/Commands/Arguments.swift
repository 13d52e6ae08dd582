import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

extension MoveOptions.Mode: ExpressibleByArgument {}

extension MoveOptions.OnError: ExpressibleByArgument {}

extension TableComparer.Strategy: ExpressibleByArgument {}

/// `64MB`, `1GB`, `500kB` or plain bytes.
struct ByteSize: ExpressibleByArgument {
    let bytes: Int64

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int64)] = [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Int64(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number > 0 else { return nil }
            bytes = number * factor
            return
        }
        guard let number = Int64(text), number > 0 else { return nil }
        bytes = number
    }
}

extension Age {
    /// A duration flag's value as seconds; a bad one is refused by the argument parser with this
    /// message and exit code 2, before the command runs.
    static func parsing(_ option: String) -> @Sendable (String) throws -> TimeInterval {
        { text in try Age.seconds(text, option: option) }
    }
}
