/// The lines of a byte stream that arrives in blocks (a file read a megabyte at a time, a
/// decompressed archive): each line without its `\n` or `\r\n`, as UTF-8 text. Only the
/// unfinished line is kept between blocks, so memory holds one block and one line.
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Hands `body` every line `block` completes.
    public mutating func feed(_ block: some Swift.Sequence<UInt8>, _ body: (String) async throws -> Void) async throws {
        pending.append(contentsOf: block)
        var start = 0
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            let end = newline > start && pending[newline - 1] == 0x0D ? newline - 1 : newline
            try await body(String(decoding: pending[start..<end], as: UTF8.self))
            start = newline + 1
        }
        pending.removeSubrange(0..<start)
    }

    /// Hands `body` the last line when the stream does not end with a newline.
    public mutating func finish(_ body: (String) async throws -> Void) async throws {
        guard !pending.isEmpty else { return }
        let last = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        try await body(last)
    }
}
