import CutoverCore
import CutoverEngine
import Testing

@Suite struct RulebookTests {
    @Test(arguments: [
        ("!= 0", 0, false), ("!= 0", 3, true), ("> 10", 10, false), ("> 10", 11, true), (">= 5", 5, true), ("== 0", 0, true), ("< 2", 1, true),
    ])
    func thresholds(text: String, count: Int64, holds: Bool) throws {
        #expect(try #require(Threshold(text)).holds(count) == holds)
    }

    @Test func badThresholdsAreRejected() {
        #expect(Threshold("more than 3") == nil)
        #expect(Threshold("> x") == nil)
    }

    @Test func templatesResolveFromTheEnvironment() throws {
        let env = EnvironmentConfig(database: "ANALYTICS", schema: "RAW")
        #expect(
            try Rulebook.render("SELECT * FROM {{database}}.{{ schema }}.t -- {{environment}}", environment: "PROD", env)
                == "SELECT * FROM ANALYTICS.RAW.t -- PROD")
        #expect(throws: CutoverError.self) { try Rulebook.render("SELECT {{warehouse}}", environment: "PROD", env) }
        #expect(throws: CutoverError.self) { try Rulebook.render("SELECT * FROM {{schema}}.t", environment: nil, nil) }
    }

    @Test func contentHashIgnoresNothingThatMatters() throws {
        let a = try Rule(name: "r", sql: "SELECT 1 WHERE false").contentHash()
        #expect(try a == Rule(name: "r", sql: "SELECT 1 WHERE false").contentHash())
        #expect(try a != Rule(name: "r", sql: "SELECT 2 WHERE false").contentHash())
        #expect(try a != Rule(name: "r", severity: .warn, sql: "SELECT 1 WHERE false").contentHash())
    }
}
