import CutoverCore
import CutoverStore
import Foundation

/// `cutover demo`: sample data in an embedded SQLite source, then analyze → plan → migrate into a
/// second SQLite file → validate, with every artifact written and the run recorded.
public struct Demo: Sendable {
    public var directory: String
    public var jobs: Jobs

    public init(directory: String, jobs: Jobs) {
        self.directory = directory
        self.jobs = jobs
    }

    /// What the demo did: its source and target files and the runs it made.
    public struct Outcome: Sendable {
        public var sourcePath: String
        public var targetPath: String
        public var analysis: Jobs.AnalyzeOutcome
        public var migration: Jobs.MigrateOutcome
        public var seconds: Double
    }

    public func run() async throws -> Outcome {
        let started = Date()
        let sourcePath = (directory as NSString).appendingPathComponent("source.db")
        let targetPath = (directory as NSString).appendingPathComponent("target.db")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: targetPath)  // a fresh demo target; none there is fine
        jobs.say("1/4 generating sample data in \(sourcePath)")
        try DemoData.generate(at: sourcePath)
        let source = ConnectionURL(engine: .sqlite, database: sourcePath)
        let target = ConnectionURL(engine: .sqlite, database: targetPath)
        jobs.say("2/4 analyzing the source")
        let analysis = try await jobs.analyze(source: source, scope: Scope())
        jobs.say(
            "    \(analysis.report.totals.tables) tables, \(analysis.report.totals.columns) columns, \(Format.count(analysis.report.totals.rows)) rows"
        )
        jobs.say("3/4 planning, migrating and 4/4 validating into \(targetPath)")
        let migration = try await jobs.migrate(
            source: source, target: target, scope: Scope(), config: CutoverConfig(),
            options: MoveOptions(replace: true), validate: true, kind: "demo")
        return Outcome(
            sourcePath: sourcePath, targetPath: targetPath, analysis: analysis, migration: migration,
            seconds: Date().timeIntervalSince(started))
    }
}
