import CutoverCore
import Foundation
import Logging
import Testing

@Suite struct LogOutputTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test(arguments: LogOutput.Format.allCases)
    func passwordsAreMaskedInMessagesAndConnectionFields(format: LogOutput.Format) throws {
        let lines = Lines()
        let logger = Logger(label: "cutover.test") { LogOutput(label: $0, format: format, level: .info, write: lines.append) }
        logger.info(
            "cannot reach postgres://app:s3cret-pw@db:5432/shop",
            metadata: [
                "target": "postgres://app:s3cret-pw@db:5432/shop", "source": "sqlite:/data/a.db", "table": "orders",
            ])
        logger.debug("below the level")
        let output = lines.all
        try #require(output.count == 1, "\(output)")
        #expect(!output[0].contains("s3cret-pw"), "\(output[0])")
        #expect(output[0].contains("***"))
        if format == .json {
            let record = try JSONDecoder().decode([String: String].self, from: Data(output[0].utf8))
            #expect(record["target"] == "postgres://app:***@db:5432/shop")
            #expect(record["source"] == "sqlite:///data/a.db")
            #expect(record["table"] == "orders")
            #expect(record["level"] == "info")
            #expect(record["logger"] == "cutover.test")
            #expect(record["message"]?.hasPrefix("cannot reach postgres://app:***@") == true)
        } else {
            #expect(
                output[0].contains(
                    " INFO cutover.test: cannot reach postgres://app:***@db:5432/shop [source=sqlite:///data/a.db table=orders target=postgres://app:***@db:5432/shop]"
                ))
        }
    }

    @Test func levelsAcceptTheRunEventSpelling() {
        #expect(Logger.Level(name: "warn") == .warning)
        #expect(Logger.Level(name: "ERROR") == .error)
        #expect(Logger.Level(name: "loud") == nil)
    }
}
