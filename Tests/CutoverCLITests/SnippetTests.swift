import CutoverTesting
import Foundation
import Testing

/// The documentation's example (`Snippets/PortableChecksum.swift`, shown in CutoverCore's DocC
/// catalog) is built with the package; running it proves it still prints what the article says.
@Suite struct SnippetTests {
    @Test func thePortableChecksumSnippetPrintsWhatTheArticleShows() async throws {
        let snippet = URL(fileURLWithPath: CLI.executable).deletingLastPathComponent().appendingPathComponent("PortableChecksum").path
        try await TestEnvironment.withTemporaryDirectory { dir in
            let (process, output) = try CLI.start([], in: dir, program: snippet)
            let text = await BlockingIOTestHelper.readAll(output)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.hasPrefix(#"["1250", "1711842420000000", "3fb999999999999a"]"#), "\(text)")
        }
    }
}
