import CutoverCore
@testable import CutoverEngine
import CutoverSQLite
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Conditions the CLI tests do not drive with real runs: a run much slower than its earlier runs,
/// and the pure statistics behind volume anomalies.
@Suite struct AlertEvaluatorTests {
    @Test func aRunSlowerThanTwiceItsMedianFiresOnceAndOnlyForThatRun() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/store.db"))
            let rule = AlertRuleRecord(
                name: "slow", condition: "run_slower", threshold: 2, channels: ["console"], createdAt: "2026-01-01T00:00:00.000Z")
            try await store.saveAlertRule(rule)
            let start = ISOTime.parse("2026-02-01T00:00:00.000Z")!
            func record(_ id: String, day: Int, seconds: Double, status: RunStatus = .succeeded, target: String = "sqlite:t.db") async throws {
                let begin = start.addingTimeInterval(Double(day) * 86_400)
                try await store.startRun(RunRecord(id: id, kind: "migrate", source: "sqlite:s.db", target: target, startedAt: ISOTime.string(begin)))
                try await store.finishRun(id: id, status: status, summary: nil, error: nil)
                // The store stamps the real finishing time; these runs took their time in the past.
                try SQLiteSession(path: dir + "/store.db", create: false)
                    .executeScript("UPDATE runs SET finished_at = '\(ISOTime.string(begin.addingTimeInterval(seconds)))' WHERE id = '\(id)'")
            }
            for (day, seconds) in [10.0, 12, 11, 9].enumerated() { try await record("r\(day)", day: day, seconds: seconds) }
            try await record("other-target", day: 5, seconds: 100, target: "sqlite:elsewhere.db")  // no history of its own
            try await record("failed", day: 6, seconds: 100, status: .failed)  // not a finished move
            try await record("slow", day: 7, seconds: 35)
            let evaluator = AlertEvaluator(store: store, config: CutoverConfig())
            let first = try await evaluator.evaluate()
            #expect(first.fired.map(\.key) == ["run:slow"], "\(first.fired.map(\.title))")
            #expect(first.fired.first?.title.contains("3.2× its median") == true, "\(first.fired.map(\.title))")
            let second = try await evaluator.evaluate()
            #expect(second.fired.isEmpty && second.resolved.isEmpty)
        }
    }

    @Test func robustScoresOfVolumes() {
        let (median, mad) = IngestionReader.medianAndMAD([5000, 5003, 5006, 5009, 5012, 5015])
        #expect(median == 5007.5 && mad == 4.5)
        #expect(IngestionReader.robustScore(5007.5, median: median, mad: mad) == 0)
        #expect(abs(IngestionReader.robustScore(5020.844, median: median, mad: mad) - 2) < 0.001)
        #expect(IngestionReader.robustScore(7, median: 7, mad: 0) == 0)
        #expect(IngestionReader.robustScore(8, median: 7, mad: 0).isInfinite)
    }

    @Test func frequenciesAndSpans() throws {
        #expect(try IngestionReader.frequency(.text("hourly"), pipeline: "p") == 3600)
        #expect(try IngestionReader.frequency(.text("15m"), pipeline: "p") == 900)
        #expect(try IngestionReader.frequency(.int(30), pipeline: "p") == 1800)
        #expect(try IngestionReader.frequency(.null, pipeline: "p") == nil)
        #expect(throws: CutoverError.self) { try IngestionReader.frequency(.text("0 2 * * *"), pipeline: "p") }
        #expect(throws: CutoverError.self) { try IngestionReader.frequency(.text("0m"), pipeline: "p") }
        #expect(
            Format.span(45) == "45s" && Format.span(1200) == "20m" && Format.span(18_300) == "5h 5m" && Format.span(90_000) == "1d 1h"
                && Format.span(7200) == "2h")
    }
}

/// The check catalogue the console's builder is made from says what each check really reads.
@Suite struct CheckCatalogueTests {
    @Test func everyParameterIsAStepFieldAndEveryFieldASummaryNamesIsAParameter() throws {
        let blank = StepSpec(check: "x", table: "t")
        for check in CheckRegistry.all {
            for parameter in check.parameters {
                #expect(CheckParameter.fields[parameter.name] != nil, "\(check.name): \(parameter.name)")
                #expect(!blank.has(parameter.name), "\(check.name): \(parameter.name) is not a StepSpec field")
            }
            let named = try Regex("`([a-z_]+)`").matches(in: check.summary)
            for word in named where CheckParameter.fields[word] != nil {
                #expect(check.parameters.contains { $0.name == word }, "\(check.name) says `\(word)` in its summary but does not list it")
            }
        }
    }

    @Test func oneLineStepsReadBackAsTheSameStep() throws {
        var step = StepSpec(check: "custom_sql", table: #"odd "schema".t: x"#)
        step.sql = "SELECT count(*) FROM {{table}} WHERE note = 'a: b'"
        step.columns = ["a,b", "c"]
        step.tolerancePercent = 0.5
        step.toleranceAbsolute = 2
        step.values = ["yes", "no: maybe"]
        step.min = -1.25
        step.severity = "warn"
        step.side = "both"
        step.column = "null"
        step.measure = "123"
        step.pattern = "#[0-9]+ ~ {x}"
        step.parentColumn = "ünïcode – 列"
        let flow = try step.flowYAML()
        let parsed = try Pipeline.parse("steps:\n  - \(flow)\n", name: "x")
        #expect(!flow.contains("\n"), "one line")
        #expect(flow.contains("tolerance_percent: 0.5") && flow.contains("min: -1.25") && flow.contains("tolerance_abs: 2"), "\(flow)")
        var multiline = StepSpec(check: "custom_sql", table: "t")
        multiline.sql = "SELECT 1\nFROM t\n  WHERE x = ':'"
        let line = try multiline.flowYAML()
        #expect(!line.contains("\n"), "\(line)")
        #expect(try Pipeline.parse("steps:\n  - \(line)\n", name: "x").steps == [multiline], "\(line)")
        #expect(parsed.steps == [step], "\(flow)")
    }

    /// A mistyped side ran the step on the target, a mistyped severity made a warning an error: both are refused by name.
    @Test func aStepsSideAndSeverityAreOnesCutoverKnows() throws {
        for (field, value, message) in [
            ("side", "sorce", "side sorce is not source, target or both"), ("severity", "warning", "severity warning is not error or warn"),
        ] {
            #expect {
                try Pipeline.parse("steps:\n  - {check: row_count, table: t, \(field): \(value)}\n", name: "x")
            } throws: { error in
                (error as? CutoverError)?.message.contains("step 1 (row_count on t): \(message)") == true
            }
        }
        #expect(try Pipeline.parse("steps:\n  - {check: row_count, table: t, side: both, severity: warn}\n", name: "x").steps.count == 1)
    }

    @Test func builtPipelinesRoundTripThroughTheirYAML() throws {
        var step = StepSpec(check: "value_range", table: "main.orders")
        step.column = "amount"
        step.min = 0
        step.max = 1.5
        step.tolerancePercent = 0.25
        let pipeline = Pipeline(name: "built", steps: [step])
        let yaml = try pipeline.yaml()
        #expect(yaml.contains("max: 1.5") && yaml.contains("min: 0\n") && yaml.contains("tolerance_percent: 0.25"), "\(yaml)")
        #expect(try Pipeline.parse(yaml, name: "x").steps == [step])
        var missing = StepSpec(check: "pattern", table: "main.orders")
        missing.column = "email"
        #expect(throws: CutoverError.self) { try Pipeline(name: "x", steps: [missing]).check() }
    }
}

extension Regex where Output == (Substring, Substring) {
    func matches(in text: String) -> [String] { text.matches(of: self).map { String($0.output.1) } }
}
