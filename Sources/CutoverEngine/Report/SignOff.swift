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
        let x = RunReport.xml
        let go = decision == "go"
        var page = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-off \(x(project))</title>
            <style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.6rem 0;width:100%}
            td,th{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;vertical-align:top}th{background:#f1f3f6}
            .badge{display:inline-block;padding:.3rem 1rem;border-radius:6px;font-weight:700;font-size:1.4rem;color:#fff}
            .go{background:#1f8a4c}.nogo{background:#c62f2f}li{margin:.2rem 0}.muted{color:#666}</style></head>
            <body><h1>Sign-off — \(x(project))</h1>
            <p><span class="badge \(go ? "go" : "nogo")">\(go ? "GO" : "NO-GO")</span></p>
            <p class="muted">\(x(source ?? "–")) → \(x(target ?? "–")) · generated \(x(generatedAt)) by Cutover</p>
            """
        page +=
            go
            ? "<p>Every pipeline's last run passed and every mapping was reviewed.</p>"
            : "<h2>Why not</h2><ul>" + reasons.map { "<li>\(x($0))</li>" }.joined() + "</ul>"
        page +=
            "<h2>Pipelines</h2><table><tr><th>pipeline</th><th>last run</th><th>status</th><th>passed</th><th>failed</th><th>warned</th><th>as now</th></tr>"
        for p in pipelines {
            page +=
                "<tr><td>\(x(p.name))</td><td>\(x(p.runID ?? "never"))<br><span class=\"muted\">\(x(p.runAt ?? ""))</span></td><td>\(x(p.status ?? "–"))</td>"
                + "<td>\(p.passed)</td><td>\(p.failed)</td><td>\(p.warned)</td><td>\(p.runID == nil ? "–" : p.current ? "yes" : "no")</td></tr>"
        }
        page += "</table>"
        if let mappings {
            page +=
                "<h2>Mappings</h2><p>\(mappings.accepted) accepted, \(mappings.excluded) excluded, \(mappings.unreviewed) not reviewed; "
                + "\(mappings.typeProblems) accepted column(s) with a type that cannot hold every value.</p>"
        }
        page += "<h2>Failing checks</h2>"
        page +=
            failingChecks.isEmpty
            ? "<p>None.</p>"
            : "<table><tr><th>pipeline</th><th>step</th><th>check</th><th>table</th><th>message</th></tr>"
                + failingChecks.map {
                    "<tr><td>\(x($0.pipeline))</td><td>\($0.step.map(String.init) ?? "")</td><td>\(x($0.check))</td><td>\(x($0.table ?? ""))</td><td>\(x($0.message ?? ""))</td></tr>"
                }.joined()
                + "</table>"
        page += "<h2>Pass rate of the last runs</h2>" + trendSVG + "</body></html>"
        return page
    }

    /// A line of the pass rate per run, 0–100 %.
    var trendSVG: String {
        guard !trend.isEmpty else { return "<p>No runs yet.</p>" }
        let width = 640.0, height = 180.0, left = 40.0, bottom = 24.0, top = 10.0
        let step = trend.count == 1 ? 0 : (width - left - 20) / Double(trend.count - 1)
        func px(_ i: Int) -> Double { trend.count == 1 ? (width + left) / 2 : left + Double(i) * step }
        func py(_ rate: Double) -> Double { top + (height - top - bottom) * (1 - rate / 100) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"pass rate\">"
        for rate in [0.0, 50, 100] {
            svg +=
                "<line x1=\"\(left)\" x2=\"\(width)\" y1=\"\(py(rate))\" y2=\"\(py(rate))\" stroke=\"#ddd\"/><text x=\"0\" y=\"\(py(rate) + 4)\" font-size=\"11\">\(Int(rate))%</text>"
        }
        let path = trend.enumerated().map {
            "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", px($0.offset))),\(String(format: "%.1f", py($0.element.passRate)))"
        }
        svg += "<path d=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"#2458d3\" stroke-width=\"2\"/>"
        for (i, point) in trend.enumerated() {
            svg +=
                "<circle cx=\"\(String(format: "%.1f", px(i)))\" cy=\"\(String(format: "%.1f", py(point.passRate)))\" r=\"3.5\" fill=\"#2458d3\"><title>\(RunReport.xml(point.runID)): \(String(format: "%.1f", point.passRate))%</title></circle>"
        }
        if let first = trend.first, let last = trend.last {
            svg +=
                "<text x=\"\(left)\" y=\"\(height - 4)\" font-size=\"11\">\(RunReport.xml(String(first.at.prefix(16)).replacingOccurrences(of: "T", with: " ")))</text>"
            if trend.count > 1 {
                svg +=
                    "<text x=\"\(width)\" y=\"\(height - 4)\" font-size=\"11\" text-anchor=\"end\">\(RunReport.xml(String(last.at.prefix(16)).replacingOccurrences(of: "T", with: " ")))</text>"
            }
        }
        return svg + "</svg>"
    }
}
