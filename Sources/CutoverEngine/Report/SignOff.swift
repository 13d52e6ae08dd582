import CutoverCore
import CutoverStore
import Foundation

/// A project's sign-off summary: go or no-go, and why — every pipeline's latest run passed, every
/// mapping was reviewed — with the failing checks and the pass-rate trend of its runs.
public struct SignOff: Codable, Sendable {
    /// A pipeline's last run, as the sign-off judges it.
    public struct PipelineState: Codable, Sendable {
        public var name: String
        public var runID: String?
        public var runAt: String?
        public var status: String?
        public var passed: Int
        public var failed: Int
        public var warned: Int
        /// Whether the run ran the pipeline as it is now (its YAML's hash).
        public var current: Bool
    }

    /// A check that failed in a pipeline's last run.
    public struct FailingCheck: Codable, Sendable {
        public var pipeline: String
        public var runID: String
        public var step: Int?
        public var check: String
        public var table: String?
        public var message: String?
    }

    /// One run's pass rate, for the trend.
    public struct TrendPoint: Codable, Sendable {
        public var runID: String
        public var at: String
        public var passRate: Double
    }

    /// How far the mappings were reviewed.
    public struct MappingState: Codable, Sendable {
        public var accepted = 0
        public var excluded = 0
        public var unreviewed = 0
        /// Accepted columns whose target type cannot hold every source value.
        public var typeProblems = 0
    }

    public var projectID: String
    public var project: String
    public var source: String?
    public var target: String?
    /// `go` or `no-go`.
    public var decision: String
    public var reasons: [String]
    public var pipelines: [PipelineState]
    public var failingChecks: [FailingCheck]
    public var trend: [TrendPoint]
    public var mappings: MappingState?
    public var generatedAt: String

    public static func build(project: ProjectRecord, store: any MetadataStore, now: Date = Date()) async throws -> SignOff {
        let runs = try await store.validationRuns(projectID: project.id, limit: 200)
        var reasons: [String] = []
        var states: [PipelineState] = []
        var failing: [FailingCheck] = []
        let pipelines = try await store.pipelines(projectID: project.id)
        if pipelines.isEmpty { reasons.append("the project has no pipeline") }
        for pipeline in pipelines.sorted(by: { $0.name < $1.name }) {
            guard let last = runs.first(where: { $0.pipelineName == pipeline.name }) else {
                reasons.append("pipeline \(pipeline.name) has never run")
                states.append(PipelineState(name: pipeline.name, passed: 0, failed: 0, warned: 0, current: false))
                continue
            }
            let current = last.pipelineHash == pipeline.contentHash
            states.append(
                PipelineState(
                    name: pipeline.name, runID: last.id, runAt: last.startedAt, status: last.status, passed: last.passed,
                    failed: last.failed, warned: last.warned, current: current))
            if last.failed > 0 || last.status != "passed" {
                reasons.append(
                    "the last run of \(pipeline.name) (\(last.id)) \(last.failed > 0 ? "has \(last.failed) failed check(s)" : "is \(last.status)")")
            }
            if !current { reasons.append("pipeline \(pipeline.name) changed after its last run (\(last.id)): run it again") }
            for result in try await store.validationResults(runID: last.id) where result.status == "failed" {
                failing.append(
                    FailingCheck(
                        pipeline: pipeline.name, runID: last.id, step: result.step, check: result.check, table: result.table, message: result.message)
                )
            }
        }
        let mappings = Self.mappingState(project)
        if let mappings {
            if mappings.unreviewed > 0 { reasons.append("\(mappings.unreviewed) table mapping(s) not reviewed (accept or exclude them)") }
            if mappings.typeProblems > 0 {
                reasons.append("\(mappings.typeProblems) accepted column(s) map to a type that cannot hold every source value")
            }
        } else {
            reasons.append("the mappings were never set up or reviewed (run the auto-setup)")
        }
        let trend = runs.prefix(20).reversed().map { run in
            let total = run.passed + run.failed + run.warned
            return TrendPoint(runID: run.id, at: run.startedAt, passRate: total == 0 ? 0 : Double(run.passed) * 100 / Double(total))
        }
        return SignOff(
            projectID: project.id, project: project.name, source: project.source, target: project.target, decision: reasons.isEmpty ? "go" : "no-go",
            reasons: reasons, pipelines: states, failingChecks: failing, trend: Array(trend), mappings: mappings, generatedAt: ISOTime.string(now))
    }

    /// The source tables a person accepted, once the mappings were reviewed; nil before.
    public static func acceptedTables(_ project: ProjectRecord) -> [String]? {
        guard let tables = project.mappingTables, tables.contains(where: { $0["decision"] != nil }) else { return nil }
        return tables.filter { $0["decision"] as? String == "accepted" }.compactMap { $0["source"] as? String }
    }

    /// Counts from the project's stored mappings (auto-setup's proposal or the saved decisions).
    static func mappingState(_ project: ProjectRecord) -> MappingState? {
        guard let tables = project.mappingTables else { return nil }
        var state = MappingState()
        for table in tables {
            switch table["decision"] as? String {
            case "accepted":
                state.accepted += 1
                let columns = table["columns"] as? [[String: Any]] ?? []
                state.typeProblems += columns.filter { $0["type_fits"] as? Bool == false && $0["excluded"] as? Bool != true }.count
            case "excluded": state.excluded += 1
            default: state.unreviewed += 1
            }
        }
        return state
    }

    /// One self-contained page (inline CSS and SVG), also what the PDF is printed from.
    public var html: String {
        get throws { try HTMLTemplates.render("sign-off", page) }
    }

    /// What the sign-off page shows, ready for its template.
    struct Page {
        struct Pipeline {
            var name: String, run: String, runAt: String, status: String
            var passed: Int, failed: Int, warned: Int
            var asNow: String
        }
        struct Check {
            var pipeline: String, step: String, check: String, table: String, message: String
        }
        struct GridLine {
            var x1: String, x2: String, y: String, labelY: String, label: String
        }
        struct Point {
            var x: String, y: String, title: String
        }
        struct Label {
            var x: String, y: String, text: String
        }
        struct Trend {
            var width: Int, height: Int
            var gridLines: [GridLine]
            var path: String
            var points: [Point]
            var first: Label
            var last: Label?
        }
        var project: String, source: String, target: String, generatedAt: String
        var go: Bool
        var badgeClass: String, badge: String
        var reasons: [String]
        var pipelines: [Pipeline]
        var mappings: MappingState?
        var hasFailingChecks: Bool
        var failingChecks: [Check]
        var trend: Trend?
    }

    var page: Page {
        let go = decision == "go"
        return Page(
            project: project, source: source ?? "–", target: target ?? "–", generatedAt: generatedAt, go: go, badgeClass: go ? "go" : "nogo",
            badge: go ? "GO" : "NO-GO", reasons: reasons,
            pipelines: pipelines.map { p in
                Page.Pipeline(
                    name: p.name, run: p.runID ?? "never", runAt: p.runAt ?? "", status: p.status ?? "–", passed: p.passed, failed: p.failed,
                    warned: p.warned, asNow: p.runID == nil ? "–" : p.current ? "yes" : "no")
            }, mappings: mappings, hasFailingChecks: !failingChecks.isEmpty,
            failingChecks: failingChecks.map {
                Page.Check(
                    pipeline: $0.pipeline, step: $0.step.map(String.init) ?? "", check: $0.check, table: $0.table ?? "", message: $0.message ?? "")
            }, trend: trendChart)
    }

    /// The pass rate of the last runs as a line chart: 0/50/100 % grid lines, one point per run, the
    /// first and last run's time under the axis.
    var trendChart: Page.Trend? {
        guard let first = trend.first, let last = trend.last else { return nil }
        let width = 640.0, height = 180.0, left = 40.0, bottom = 24.0, top = 10.0
        let step = trend.count == 1 ? 0 : (width - left - 20) / Double(trend.count - 1)
        func px(_ i: Int) -> Double { trend.count == 1 ? (width + left) / 2 : left + Double(i) * step }
        func py(_ rate: Double) -> Double { top + (height - top - bottom) * (1 - rate / 100) }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        func time(_ at: String) -> String { String(at.prefix(16)).replacingOccurrences(of: "T", with: " ") }
        return Page.Trend(
            width: Int(width), height: Int(height),
            gridLines: [0.0, 50, 100].map {
                Page.GridLine(x1: "\(left)", x2: "\(width)", y: "\(py($0))", labelY: "\(py($0) + 4)", label: "\(Int($0))%")
            },
            path: trend.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f(px($0.offset))),\(f(py($0.element.passRate)))" }.joined(separator: " "),
            points: trend.enumerated().map {
                Page.Point(x: f(px($0.offset)), y: f(py($0.element.passRate)), title: "\($0.element.runID): \(f($0.element.passRate))%")
            },
            first: Page.Label(x: "\(left)", y: "\(height - 4)", text: time(first.at)),
            last: trend.count > 1 ? Page.Label(x: "\(width)", y: "\(height - 4)", text: time(last.at)) : nil)
    }
}
