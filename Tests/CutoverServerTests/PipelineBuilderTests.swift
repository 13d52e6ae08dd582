import CutoverCore
import CutoverServer
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The catalogue the console's pipeline builder is made from, and pipelines saved as typed steps:
/// written as YAML by the server, refused with the field named when a required one is missing.
@Suite struct PipelineBuilderTests {
    @Test func catalogueAndPipelinesFromSteps() async throws {
        try await withServer { s in
            #expect(try await s.call(.get, "/api/v1/checks").status == .unauthorized)
            let catalogue = try s.list(try await s.call(.get, "/api/v1/checks", token: s.viewer))
            #expect(catalogue.count == 30)
            let nullRate = try #require(catalogue.first { $0["name"] as? String == "null_rate" })
            let parameters = try #require(nullRate["parameters"] as? [[String: Any]])
            #expect(parameters.map { $0["name"] as? String } == ["column", "max"] && parameters.first?["required"] as? Bool == true)

            let project = try #require(try s.object(try await s.call(.post, "/api/v1/projects", token: s.user,
                                                                      json: #"{"name": "chinook", "source": "chinook", "target": "scratch"}"#))["id"] as? String)
            let steps = #"""
                {"name": "built", "steps": [
                  {"check": "row_count", "table": "Genre", "tolerance_percent": 0.5},
                  {"check": "null_rate", "table": "Genre", "column": "Name", "max": 0, "severity": "warn"},
                  {"check": "allowed_values", "table": "MediaType", "column": "Name", "values": ["MPEG audio file", "AAC audio file"]}]}
                """#
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.viewer, json: steps).status == .forbidden)
            let saved = try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: steps)
            #expect(saved.status == .created, "\(String(buffer: saved.body))")
            let yaml = try #require(try s.object(saved)["content"] as? String)
            #expect(yaml.contains("tolerance_percent: 0.5") && yaml.contains("max: 0\n") && yaml.contains("check: null_rate") && yaml.contains("- MPEG audio file"), "\(yaml)")
            #expect(!yaml.contains(": null\n") && !yaml.contains("~"), "no empty fields written: \(yaml)")

            for (bad, words) in [(#"{"name": "x", "steps": [{"check": "null_rate", "table": "Genre"}]}"#, "column is required"),
                                 (#"{"name": "x", "steps": [{"check": "no_such_check", "table": "Genre"}]}"#, "no_such_check"),
                                 (#"{"name": "x", "steps": [{"check": "row_count", "table": " "}]}"#, "no table"),
                                 (#"{"name": "x", "steps": []}"#, "at least one step"),
                                 (#"{"name": "x", "content": "steps: []", "steps": [{"check": "row_count", "table": "Genre"}]}"#, "one of the two"),
                                 (#"{"name": "x", "steps": [{"check": "row_count", "table": "Genre", "n": "ten"}]}"#, "wrong type")] {
                let answer = try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: bad)
                #expect(try answer.status == .badRequest && s.errorMessage(answer).contains(words), "\(bad): \(String(buffer: answer.body))")
            }
            let detail = try s.object(try await s.call(.get, "/api/v1/projects/\(project)", token: s.viewer))
            #expect((detail["pipelines"] as? [[String: Any]])?.map { $0["name"] as? String } == ["built"])
        }
    }
}
