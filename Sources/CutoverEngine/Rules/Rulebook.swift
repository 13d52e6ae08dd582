import Crypto
import CutoverCore
import CutoverStore
import Foundation
import Yams

/// A "decision": SQL that must return zero rows (duplicate keys, orphans, negative amounts …).
public struct Rule: Codable, Sendable, Hashable {
    /// How a broken rule counts: an error fails the run, a warning does not.
    public typealias Severity = RuleSeverity
    /// Which database a rule's SQL runs on.
    public typealias Side = RuleSide

    public var name: String
    public var description: String?
    /// `error` (default) fails the run when `error_if` holds; `warn` only ever warns.
    public var severity: Severity
    /// May use `{{database}}`, `{{schema}}` and `{{environment}}`.
    public var sql: String
    /// dbt-style thresholds on the number of offending rows: `"!= 0"` (default), `"> 10"`, `">= 5"`.
    public var warnIf: String?
    public var errorIf: String?
    public var side: Side
    /// A free grouping (`data quality`, `finance`, …), shown with the rule.
    public var category: String?

    enum CodingKeys: String, CodingKey { case name, description, severity, sql, warnIf = "warn_if", errorIf = "error_if", side, category }

    public init(
        name: String, description: String? = nil, severity: Severity = .error, sql: String, warnIf: String? = nil, errorIf: String? = nil,
        side: Side = .target, category: String? = nil
    ) {
        self.name = name
        self.description = description
        self.severity = severity
        self.sql = sql
        self.warnIf = warnIf
        self.errorIf = errorIf
        self.side = side
        self.category = category
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        severity = try c.decodeIfPresent(Severity.self, forKey: .severity) ?? .error
        sql = try c.decode(String.self, forKey: .sql)
        warnIf = try c.decodeIfPresent(String.self, forKey: .warnIf)
        errorIf = try c.decodeIfPresent(String.self, forKey: .errorIf)
        side = try c.decodeIfPresent(Side.self, forKey: .side) ?? .target
        category = try c.decodeIfPresent(String.self, forKey: .category)
        for (key, threshold) in [(CodingKeys.warnIf, warnIf), (.errorIf, errorIf)] {
            if let threshold, Threshold(threshold) == nil {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c,
                    debugDescription: "threshold '\(threshold)' is not understood: write e.g. \"!= 0\", \"> 10\" or \">= 5\"")
            }
        }
    }

    /// Identity of the rule's content: the same rule loaded twice is stored once.
    public func contentHash() throws -> String {
        Hex.encode(SHA256.hash(data: try JSONEncoder.sorted.encode(self)))
    }

    public func stored() throws -> StoredRule {
        StoredRule(
            contentHash: try contentHash(), name: name, description: description, severity: severity, sql: sql, warnIf: warnIf,
            errorIf: errorIf, side: side, category: category)
    }
}

/// Reading rule files and filling their templates.
public enum Rulebook {
    struct File: Decodable { var rules: [Rule] }

    /// Reads `rules:` from a YAML file, checking every threshold before anything runs.
    public static func load(path: String) throws -> [Rule] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CutoverError(
                .config, "cannot read the rule file \(path): \(error.localizedDescription)", hint: "check the path and that the file is UTF-8 text")
        }
        let rules: [Rule]
        do {
            rules = try YAMLDecoder().decode(File.self, from: text).rules
        } catch {
            throw CutoverError(
                .config, "rule file \(path) is not valid: \(error)",
                hint: "expected rules: [{name, sql, severity: error|warn, warn_if, error_if, side: source|target|both}]")
        }
        for rule in rules {
            for threshold in [rule.warnIf, rule.errorIf].compactMap({ $0 }) where Threshold(threshold) == nil {
                throw CutoverError(
                    .config, "rule \(rule.name): threshold '\(threshold)' is not understood", hint: "write e.g. \"!= 0\", \"> 10\" or \">= 5\"")
            }
        }
        let duplicates = Dictionary(grouping: rules, by: \.name).filter { $0.value.count > 1 }.keys
        if let name = duplicates.first {
            throw CutoverError(.config, "rule file \(path) names two rules \(name)", hint: "give every rule its own name")
        }
        return rules
    }

    /// A query as the SQL runner sends it: rendered for the environment, without surrounding blanks
    /// and semicolons.
    public static func statement(_ sql: String, environment name: String?, _ environment: EnvironmentConfig?) throws -> String {
        try render(sql, environment: name, environment).trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
    }

    /// Fills `{{database}}`, `{{schema}}` and `{{environment}}`; any other placeholder is an error.
    public static func render(_ sql: String, environment name: String?, _ environment: EnvironmentConfig?) throws -> String {
        var output = ""
        var rest = Substring(sql)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw CutoverError(.config, "unclosed {{ in rule SQL")
            }
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let value: String? =
                switch key {
                case "database": environment?.database
                case "schema": environment?.schema
                case "environment": name
                default: nil
                }
            guard let value else {
                throw CutoverError(
                    .config, "rule SQL uses {{\(key)}}, which the environment \(name ?? "(none)") does not define",
                    hint: "pass --env with an environment from cutover.yml that sets \(key)")
            }
            output += value
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}

/// `!= 0`, `> 10`, `>= 5`, `< 3`, `<= 3`, `== 0`: a condition on the number of offending rows.
public struct Threshold: Sendable, Hashable {
    let comparison: String
    let value: Int64

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for op in ["!=", ">=", "<=", "==", ">", "<", "="] where trimmed.hasPrefix(op) {
            guard let number = Int64(trimmed.dropFirst(op.count).trimmingCharacters(in: .whitespaces)) else { return nil }
            comparison = op == "=" ? "==" : op
            value = number
            return
        }
        return nil
    }

    public func holds(_ count: Int64) -> Bool {
        switch comparison {
        case "!=": count != value
        case ">=": count >= value
        case "<=": count <= value
        case "==": count == value
        case ">": count > value
        default: count < value
        }
    }
}

/// One rule evaluated on one side.
public struct RuleResult: Sendable, Codable {
    public var rule: String
    public var side: String
    public var status: CheckStatus
    public var severity: String
    public var offendingRows: Int64
    /// The first offending rows (at most ``RuleRunner/sampleSize``), as column → value.
    public var sample: [[String: String]]
    public var sql: String
    public var message: String
}

extension RuleResult {
    func resultRecord(runID: String) -> ValidationResultRecord {
        struct Details: Encodable { var sql: String; var sample: [[String: String]] }
        // Strings always encode; without the details the result still says how many rows offend.
        let details = (try? JSONEncoder.sorted.encode(Details(sql: sql, sample: sample))).map { String(decoding: $0, as: UTF8.self) }
        return ValidationResultRecord(
            validationRunID: runID, check: "rule:" + rule, table: side, status: status.rawValue, severity: severity, message: message,
            targetRows: offendingRows, details: details)
    }
}

/// Runs rules on the source and/or target through the read-only SQL runner.
public struct RuleRunner: Sendable {
    public static let sampleSize = 10
    public var environmentName: String?
    public var environment: EnvironmentConfig?
    /// Rules run read-only (see ``RunnerQuery``); for callers who do not own the connection, also
    /// never on a role that may read the server's files.
    public var refusePrivilegedRole: Bool
    public var timeout: TimeInterval

    public init(environmentName: String?, environment: EnvironmentConfig?, refusePrivilegedRole: Bool = false, timeout: TimeInterval = 3600) {
        self.environmentName = environmentName
        self.environment = environment
        self.refusePrivilegedRole = refusePrivilegedRole
        self.timeout = timeout
    }

    public func run(_ rule: Rule, on connector: any Connector, side: String) async -> RuleResult {
        var result = RuleResult(
            rule: rule.name, side: side, status: .failed, severity: rule.severity.rawValue, offendingRows: 0, sample: [], sql: rule.sql, message: "")
        do {
            let sql = try Rulebook.render(rule.sql, environment: environmentName, environment)
                .trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ";"))
            result.sql = sql
            // A rule is a query: it runs in the read-only runner, so its SQL can neither write nor chain statements.
            let count = try await connector.run(
                RunnerQuery(
                    sql: "SELECT count(*) AS offending FROM (\(sql)) rule_rows", maxRows: 1, timeout: timeout,
                    refusePrivilegedRole: refusePrivilegedRole, reportRole: false)
            ).rows.first?.first
            // Anything but a whole number is a failure to run, never 0 offending rows (a pass).
            guard let offending = count?.wholeNumber else {
                throw CutoverError(.query, "count(*) of the rule's rows answered \(count?.displayText ?? "no row"), not a whole number")
            }
            result.offendingRows = offending
            if result.offendingRows > 0 {
                let sample = try await connector.run(
                    RunnerQuery(
                        sql: "SELECT * FROM (\(sql)) rule_rows", maxRows: Self.sampleSize, timeout: timeout,
                        refusePrivilegedRole: refusePrivilegedRole, reportRole: false))
                result.sample = sample.rows.map { row in
                    Dictionary(zip(sample.columns, row.map(\.displayText)), uniquingKeysWith: { a, _ in a })
                }
            }
            guard let errorIf = Threshold(rule.errorIf ?? "!= 0"), let warnIf = Threshold(rule.warnIf ?? "!= 0") else {
                throw CutoverError(
                    .config, "rule \(rule.name) has a threshold that is not understood", hint: "write e.g. \"!= 0\", \"> 10\" or \">= 5\"")
            }
            if rule.severity == .error, errorIf.holds(result.offendingRows) {
                result.status = .failed
            } else if warnIf.holds(result.offendingRows) {
                result.status = .warning
            } else {
                result.status = .passed
            }
            result.message = "\(Format.count(result.offendingRows)) offending row(s)"
        } catch {
            result.status = .failed
            result.message = "the rule's SQL failed: \(error.redactedDescription)"
        }
        return result
    }
}
