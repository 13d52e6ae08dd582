import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// `cutover copilot` as a user runs it: answers from the store and the query library, exit codes,
/// the evaluation set, explanations.
@Suite struct CopilotCLITests {
    @Test func asksExplainsAndEvaluates() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try """
            connections:
              music: sqlite:\(chinook)
            environments:
              dev: {schema: main, connection: music}
            default_environment: dev
            queries:
              longest_tracks:
                description: The longest tracks in the music catalogue, by milliseconds
                sql: SELECT Name, Milliseconds FROM {{schema}}.Track ORDER BY Milliseconds DESC LIMIT 3
            """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)

            let analyzed = try await CLI.run(["analyze", "--source", "music"], in: dir)
            #expect(analyzed.status == 0, "\(analyzed.output)")
            let largest = try await CLI.run(["copilot", "ask", "what are the 2 largest tables?"], in: dir)
            #expect(largest.status == 0, "\(largest.output)")
            #expect(largest.stdout.contains("PlaylistTrack") && largest.stdout.contains("2 row(s)") && largest.stdout.contains("why: matched"))

            let library = try await CLI.run(["copilot", "ask", "longest tracks in the catalogue", "--format", "json"], in: dir)
            #expect(library.status == 0, "\(library.output)")
            let answer = try JSONSerialization.jsonObject(with: Data(library.stdout.utf8)) as? [String: Any]
            #expect(answer?["intent"] as? String == "query:longest_tracks")
            #expect((answer?["rows"] as? [[String?]])?.count == 3 && (answer?["sql"] as? String)?.contains("main.Track") == true)

            let unknown = try await CLI.run(["copilot", "ask", "what is the weather in Paris"], in: dir)
            #expect(unknown.status == 1 && unknown.stdout.hasPrefix("I don't know"), "\(unknown.output)")
            let write = try await CLI.run(["copilot", "ask", "drop the Track table"], in: dir)
            #expect(write.status == 1 && write.stdout.contains("only reads"), "\(write.output)")
            let count = try await CLI.run(["copilot", "ask", "SELECT count(*) FROM Track"], in: dir)
            #expect(count.status == 1 || !count.stdout.contains("3503"), "a question is never run as SQL")

            let explain = try await CLI.run(["copilot", "explain", "nope"], in: dir)
            #expect(explain.status == 2 && explain.output.contains("no validation run nope"), "\(explain.output)")
            let badPeriod = try await CLI.run(["copilot", "explain", "--pass-rate", "--period", "whenever"], in: dir)
            #expect(badPeriod.status == 2, "\(badPeriod.output)")
            let rate = try await CLI.run(["copilot", "explain", "--pass-rate", "--period", "last 30 days"], in: dir)
            #expect(rate.status == 0 && rate.stdout.contains("no checks ran"), "\(rate.output)")

            let questions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../bench/copilot-questions.yml")
                .path
            let evaluated = try await CLI.run(["copilot", "eval", questions], in: dir)
            #expect(evaluated.status == 0 && evaluated.stdout.contains("top-1"), "\(evaluated.output)")
            let strict = try await CLI.run(["copilot", "eval", questions, "--target", "1.0"], in: dir)
            #expect(strict.status == 1 || strict.stdout.contains("top-1 100.0 %"), "\(strict.output)")
        }
    }
}
