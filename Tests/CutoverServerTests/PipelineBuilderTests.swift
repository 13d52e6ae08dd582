import CutoverCore
import CutoverStore
import CutoverEngine
import CutoverServer
import CutoverSQLite
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

            let project = try #require(
                try s.object(
                    try await s.call(
                        .post, "/api/v1/projects", token: s.user,
                        json: #"{"name": "chinook", "source": "chinook", "target": "chinook"}"#))["id"] as? String)
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
            #expect(
                yaml.contains("tolerance_percent: 0.5") && yaml.contains("max: 0\n") && yaml.contains("check: null_rate")
                    && yaml.contains("- MPEG audio file"), "\(yaml)")
            #expect(!yaml.contains(": null\n") && !yaml.contains("~"), "no empty fields written: \(yaml)")

            for (bad, words) in [
                (#"{"name": "x", "steps": [{"check": "null_rate", "table": "Genre"}]}"#, "column is required"),
                (#"{"name": "x", "steps": [{"check": "no_such_check", "table": "Genre"}]}"#, "no_such_check"),
                (#"{"name": "x", "steps": [{"check": "row_count", "table": " "}]}"#, "no table"),
                (#"{"name": "x", "steps": []}"#, "at least one step"),
                (#"{"name": "x", "content": "steps: []", "steps": [{"check": "row_count", "table": "Genre"}]}"#, "one of the two"),
                (#"{"name": "x", "steps": [{"check": "row_count", "table": "Genre", "n": "ten"}]}"#, "wrong type"),
            ] {
                let answer = try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: bad)
                #expect(try answer.status == .badRequest && s.errorMessage(answer).contains(words), "\(bad): \(String(buffer: answer.body))")
            }
            let detail = try s.object(try await s.call(.get, "/api/v1/projects/\(project)", token: s.viewer))
            #expect((detail["pipelines"] as? [[String: Any]])?.map { $0["name"] as? String } == ["built"])

            // Edited by its owner (connections they may use), not by a viewer.
            #expect(try await s.call(.patch, "/api/v1/projects/\(project)", token: s.viewer, json: #"{"name": "x"}"#).status == .forbidden)
            #expect(
                try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"target": "sqlite:/tmp/elsewhere.db"}"#).status
                    == .forbidden)
            #expect(try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"name": " "}"#).status == .badRequest)
            let renamed = try s.object(
                try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"name": "Chinook", "description": "the sample"}"#))
            #expect(
                renamed["name"] as? String == "Chinook" && renamed["description"] as? String == "the sample"
                    && renamed["target"] as? String == "chinook")

            // An environment from the config fills {{schema}} in a custom_sql step of the project's runs.
            #expect(try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"environment": "NOPE"}"#).status == .badRequest)
            #expect(try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"environment": "DEV"}"#).status == .ok)
            let templated =
                #"{"name": "templated", "steps": [{"check": "custom_sql", "table": "Genre", "sql": "SELECT count(*) FROM {{schema}}.Genre"}]}"#
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: templated).status == .created)
            let envRun = try s.object(
                try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"project": "\#(project)", "pipeline_name": "templated"}"#))
            let envRunID = try #require(envRun["run_id"] as? String)
            #expect(try await s.finishedRun(envRunID)["status"] as? String == "succeeded")
            let envResults = try s.object(try await s.call(.get, "/api/v1/validations/\(envRunID)", token: s.viewer))["results"] as? [[String: Any]]
            #expect(envResults?.first?["message"] as? String == "value: source 25, target 25", "\(String(describing: envResults))")
            #expect(
                try await s.call(
                    .post, "/api/v1/validations", token: s.user,
                    json: #"{"project": "\#(project)", "pipeline_name": "templated", "environment": "PROD"}"#
                ).status == .badRequest)
            #expect(try await s.call(.patch, "/api/v1/projects/\(project)", token: s.user, json: #"{"environment": ""}"#).status == .ok)

            // A batch for the project: listed with it; its pipeline validations are the project's runs.
            let batchBody =
                #"{"project": "\#(project)", "items": [{"kind": "validation", "source": "chinook", "target": "chinook", "pipeline": "steps:\n  - check: row_count\n    table: Genre\n"}]}"#
            #expect(
                try await s.call(
                    .post, "/api/v1/batches", token: s.user,
                    json: #"{"project": "nope", "items": [{"kind": "validation", "source": "chinook", "target": "chinook"}]}"#
                ).status == .notFound)
            let batch = try #require(try s.object(try await s.call(.post, "/api/v1/batches", token: s.user, json: batchBody))["batch_id"] as? String)
            var batchDone = false
            for _ in 0..<300 where !batchDone {
                let detail = try s.object(try await s.call(.get, "/api/v1/batches/\(batch)", token: s.viewer))
                batchDone = ((detail["batch"] as? [String: Any])?["status"] as? String).map { !["running", "cancelling"].contains($0) } ?? false
                if !batchDone { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(try s.list(try await s.call(.get, "/api/v1/batches?project=\(project)", token: s.viewer)).map { $0["id"] as? String } == [batch])
            #expect(try s.list(try await s.call(.get, "/api/v1/batches?project=other", token: s.viewer)).isEmpty)
            let batchRuns = try s.list(try await s.call(.get, "/api/v1/projects/\(project)/runs", token: s.viewer))
            #expect(batchRuns.contains { $0["pipeline_name"] as? String == "batch" }, "\(batchRuns)")

            // Mapping decisions: the owner saves versions; bad decisions are named; nobody else writes.
            let decisions = #"""
                {"tables": [{"source": "Genre", "target": "Genre", "decision": "accepted",
                             "columns": [{"source": "Name", "target": "Name", "tolerance": "case", "transformation": "TRIM(value)"}]},
                            {"source": "Album", "decision": "excluded"}]}
                """#
            #expect(try await s.call(.put, "/api/v1/projects/\(project)/mappings", token: s.viewer, json: decisions).status == .forbidden)
            #expect(try await s.call(.put, "/api/v1/projects/\(project)/mappings", token: s.admin, json: decisions).status == .ok)  // admins may
            let second = try s.object(try await s.call(.put, "/api/v1/projects/\(project)/mappings", token: s.user, json: decisions))
            #expect(
                second["version"] as? Int == 2 && second["accepted"] as? Int == 1 && second["excluded"] as? Int == 1
                    && second["by"] as? String == "bob")
            for (bad, words) in [
                (#"{"tables": [{"source": "Genre", "decision": "maybe"}]}"#, "accepted, excluded or proposed"),
                (#"{"tables": [{"source": "Genre", "decision": "accepted"}]}"#, "without a target"),
                (#"{"tables": [{"source": "Genre", "decision": "excluded"}, {"source": "Genre", "decision": "excluded"}]}"#, "twice"),
                (
                    #"{"tables": [{"source": "Genre", "target": "Genre", "decision": "accepted", "columns": [{"source": "Name", "tolerance": "roughly"}]}]}"#,
                    "not one Cutover reads"
                ),
            ] {
                let answer = try await s.call(.put, "/api/v1/projects/\(project)/mappings", token: s.user, json: bad)
                #expect(try answer.status == .badRequest && s.errorMessage(answer).contains(words), "\(bad): \(String(buffer: answer.body))")
            }
            let stored = try s.object(try await s.call(.get, "/api/v1/projects/\(project)", token: s.viewer))
            let settings = try #require(
                ((stored["project"] as? [String: Any])?["settings"] as? String).flatMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                })
            #expect((settings["mapping_history"] as? [[String: Any]])?.map { $0["version"] as? Int } == [2, 1])
            let genre = ((settings["mappings"] as? [String: Any])?["tables"] as? [[String: Any]])?.first
            #expect((genre?["columns"] as? [[String: Any]])?.first?["tolerance"] as? String == "case", "\(settings)")

            // Suggestions for the accepted tables only (Genre), as steps the builder can save, with a
            // check where the latest imported workload looks (it groups by Genre.Name).
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: s.directory + "/store.db"))
            try #"[{"query_sql_text": "SELECT g.Name, count(*) FROM Genre g GROUP BY g.Name", "count_executions": 9, "avg_duration": 100}]"#
                .write(toFile: s.directory + "/qs.json", atomically: true, encoding: .utf8)
            _ = try await Jobs(store: store, artifactsRoot: s.directory + "/runs", say: { _ in }).importWorkload(paths: [s.directory + "/qs.json"])
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/suggest", token: s.viewer).status == .forbidden)
            let suggested = try s.object(try await s.call(.post, "/api/v1/projects/\(project)/suggest", token: s.user))
            let suggestedSteps = try #require(suggested["steps"] as? [[String: Any]])
            #expect(
                !suggestedSteps.isEmpty && suggestedSteps.allSatisfy { ($0["table"] as? String)?.hasSuffix("Genre") == true }, "\(suggestedSteps)")
            #expect(
                suggestedSteps.contains { $0["check"] as? String == "group_metrics" && ($0["columns"] as? [String]) == ["Name"] }, "\(suggestedSteps)"
            )
            let profile = try #require((suggested["profiles"] as? [[String: Any]])?.first)
            #expect(
                profile["table"] as? String == "Genre" && profile["role"] as? String == "table" && profile["surrogate_key"] as? String == "GenreId",
                "\(profile)")

            // Metadata extraction on the server, for the accepted tables.
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/analyze", token: s.viewer).status == .forbidden)
            let analysis = try s.object(try await s.call(.post, "/api/v1/projects/\(project)/analyze", token: s.user))
            #expect((analysis["totals"] as? [String: Any])?["tables"] as? Int == 1, "\(analysis.keys)")

            // Never run: no-go. Run the project's pipeline by name: the run records which pipeline, exactly.
            let before = try s.object(try await s.call(.get, "/api/v1/projects/\(project)/signoff", token: s.viewer))
            #expect(
                before["decision"] as? String == "no-go" && (before["reasons"] as? [String])?.contains("pipeline built has never run") == true,
                "\(before)")
            #expect(
                try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"project": "\#(project)", "pipeline_name": "nope"}"#).status
                    == .notFound)
            #expect(try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"pipeline_name": "built"}"#).status == .badRequest)
            let started = try s.object(
                try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"project": "\#(project)", "pipeline_name": "built"}"#))
            let runID = try #require(started["run_id"] as? String)
            // MediaType has more names than the two allowed: that step fails, and the sign-off says so.
            #expect(try await s.finishedRun(runID)["status"] as? String == "failed")
            let runs = try s.list(try await s.call(.get, "/api/v1/projects/\(project)/runs", token: s.viewer))
            #expect(
                runs.first?["id"] as? String == runID && runs.first?["pipeline_name"] as? String == "built"
                    && (runs.first?["pipeline_content"] as? String) == yaml)
            let failing = try s.object(try await s.call(.get, "/api/v1/projects/\(project)/signoff", token: s.viewer))
            #expect(
                failing["decision"] as? String == "no-go"
                    && (failing["failing_checks"] as? [[String: Any]])?.first?["check"] as? String == "allowed_values", "\(failing)")

            // Fixed and run again: go, with both runs in the trend.
            let fixed =
                #"{"name": "built", "steps": [{"check": "row_count", "table": "Genre"}, {"check": "null_rate", "table": "Genre", "column": "Name", "max": 0}]}"#
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: fixed).status == .created)
            let again = try s.object(
                try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"project": "\#(project)", "pipeline_name": "built"}"#))
            #expect(try await s.finishedRun(try #require(again["run_id"] as? String))["status"] as? String == "succeeded")
            let go = try s.object(try await s.call(.get, "/api/v1/projects/\(project)/signoff", token: s.viewer))
            #expect(go["decision"] as? String == "go", "\(go)")
            #expect((go["trend"] as? [[String: Any]])?.compactMap { $0["pass_rate"] as? Double }.last == 100)
            let html = try await s.call(.get, "/api/v1/projects/\(project)/signoff?format=html", token: s.viewer)
            #expect(String(buffer: html.body).contains(">GO<") && html.headers[.contentType] == "text/html; charset=utf-8")

            // The pipeline changes after its run: no-go until it runs again.
            let changed = #"{"name": "built", "steps": [{"check": "row_count", "table": "Genre"}]}"#
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: changed).status == .created)
            let stale = try s.object(try await s.call(.get, "/api/v1/projects/\(project)/signoff", token: s.viewer))
            #expect(
                stale["decision"] as? String == "no-go"
                    && (stale["reasons"] as? [String])?.contains { $0.contains("changed after its last run") } == true, "\(stale)")
            #expect(try await s.call(.get, "/api/v1/projects/\(project)/signoff?format=doc", token: s.viewer).status == .badRequest)
        }
    }

    @Test func aMappingToleranceHidesWhatItSaysInTheProjectsRowCompare() async throws {
        try await withServer(connections: ["upper": "sqlite:{dir}/upper.sqlite"]) { s in
            // The target's genre names were upper-cased on the way.
            try FileManager.default.copyItem(atPath: s.directory + "/chinook.sqlite", toPath: s.directory + "/upper.sqlite")
            try SQLiteSession(path: s.directory + "/upper.sqlite", create: false).executeScript("UPDATE Genre SET Name = upper(Name)")
            let project = try #require(
                try s.object(
                    try await s.call(
                        .post, "/api/v1/projects", token: s.user,
                        json: #"{"name": "upper", "source": "chinook", "target": "upper"}"#))["id"] as? String)
            let pipeline = #"{"name": "diff", "steps": [{"check": "row_diff", "table": "Genre"}]}"#
            #expect(try await s.call(.post, "/api/v1/projects/\(project)/pipelines", token: s.user, json: pipeline).status == .created)
            func run() async throws -> [String: Any] {
                let started = try s.object(
                    try await s.call(.post, "/api/v1/validations", token: s.user, json: #"{"project": "\#(project)", "pipeline_name": "diff"}"#))
                let id = try #require(started["run_id"] as? String)
                _ = try await s.finishedRun(id)
                return try #require(
                    (try s.object(try await s.call(.get, "/api/v1/validations/\(id)", token: s.viewer))["results"] as? [[String: Any]])?.first)
            }
            let strict = try await run()
            #expect(strict["status"] as? String == "failed" && (strict["message"] as? String)?.contains("changed") == true, "\(strict)")
            // A person accepts Genre with a case tolerance on Name: the same data now passes, and says what the tolerance hid.
            let decisions =
                #"{"tables": [{"source": "Genre", "target": "Genre", "decision": "accepted", "columns": [{"source": "Name", "target": "Name", "tolerance": "case"}]}]}"#
            #expect(try await s.call(.put, "/api/v1/projects/\(project)/mappings", token: s.user, json: decisions).status == .ok)
            let tolerated = try await run()
            #expect(
                tolerated["status"] as? String == "passed" && (tolerated["message"] as? String)?.contains("within tolerances") == true, "\(tolerated)"
            )
        }
    }
}
