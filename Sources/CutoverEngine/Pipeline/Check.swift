import CutoverCore
import Foundation
import Yams

/// One step of a pipeline file, as written in YAML.
public struct StepSpec: Codable, Sendable, Hashable {
    public var check: String
    public var table: String
    /// The target table when its name differs from the planned one.
    public var targetTable: String?
    public var column: String?
    public var columns: [String]?
    /// `source`, `target` (default for single-side checks) or `both`.
    public var side: String?
    /// `error` (default) or `warn`.
    public var severity: String?
    public var min: Double?
    public var max: Double?
    public var values: [String]?
    /// Relative tolerance in percent for comparative checks (default 0).
    public var tolerancePercent: Double?
    public var parentTable: String?
    public var parentColumn: String?
    /// For `custom_sql`: a query returning one number; `{{table}}` is the side's qualified table.
    public var sql: String?
    /// For `pattern`: a regular expression every non-NULL value must match (whole value).
    public var pattern: String?
    /// For `top_n`: how many of the most frequent values to compare (default 10); for `sampled_diff`:
    /// how many key ranges to sample (default 10).
    public var n: Int?
    /// For `group_metrics` and `rolling_drift`: the numeric column measured.
    public var measure: String?
    /// For `group_metrics`: sum (default), avg, min, max or count.
    public var aggregate: String?
    /// An absolute tolerance for comparative checks, beside `tolerance_percent`.
    public var toleranceAbsolute: Double?
    /// For `rolling_drift`: the window in periods (default 7).
    public var window: Int?
    /// For `sampled_diff`: the share of the key range compared, in percent (default 1).
    public var samplePercent: Double?

    /// In the order a suggested pipeline writes them.
    enum CodingKeys: String, CodingKey {
        case check, table, targetTable = "target_table", column, columns, parentTable = "parent_table", parentColumn = "parent_column"
        case measure, aggregate, window, n, samplePercent = "sample_percent", values, min, max, pattern, sql
        case tolerancePercent = "tolerance_percent", toleranceAbsolute = "tolerance_abs", side, severity
    }

    public init(check: String, table: String) {
        self.check = check
        self.table = table
    }

    /// The step on one line as a YAML flow mapping, encoded by Yams from the step itself: keys in
    /// the order a reader scans them (`CodingKeys`' order: check, table, columns, relationship,
    /// measure, options, severity), scalars quoted only where YAML would read them as something else.
    public func flowYAML() throws -> String {
        let node = Self.flow(try Pipeline.readableNode(self, what: "the step \(check) on \(table)"))
        return try Yams.serialize(node: node, width: -1, allowUnicode: true).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The node with every mapping and sequence in flow style, so the step stays on one line.
    static func flow(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping): .mapping(Node.Mapping(mapping.map { ($0.key, flow($0.value)) }, mapping.tag, .flow))
        case .sequence(let sequence): .sequence(Node.Sequence(sequence.map(flow), sequence.tag, .flow))
        case .scalar, .alias: node
        }
    }

    /// Whether the field of this YAML key is given (a list: not empty).
    func has(_ key: String) -> Bool {
        switch CodingKeys(rawValue: key) {
        case .column: column.map { !$0.isEmpty } ?? false
        case .columns: !(columns ?? []).isEmpty
        case .min: min != nil
        case .max: max != nil
        case .values: !(values ?? []).isEmpty
        case .sql: sql.map { !$0.isEmpty } ?? false
        case .pattern: pattern.map { !$0.isEmpty } ?? false
        case .n: n != nil
        case .measure: measure.map { !$0.isEmpty } ?? false
        case .aggregate: aggregate != nil
        case .window: window != nil
        case .tolerancePercent: tolerancePercent != nil
        case .toleranceAbsolute: toleranceAbsolute != nil
        case .parentTable: parentTable.map { !$0.isEmpty } ?? false
        case .parentColumn: parentColumn.map { !$0.isEmpty } ?? false
        case .samplePercent: samplePercent != nil
        case .targetTable: targetTable != nil
        case .side: side != nil
        case .severity: severity != nil
        case .check, .table: true
        case nil: false
        }
    }
}

/// What a check sees: both connectors and the planned mapping of its table.
public struct CheckContext: Sendable {
    public var source: any Connector
    public var target: any Connector
    public var plan: TablePlan
    public var table: Table
    public var spec: StepSpec
    /// For steps written by someone who does not own the connections (a server user): their SQL
    /// never runs on a role that may read the server's files.
    public var refusePrivilegedRole = false
    /// The source catalog and the whole plan, for checks that involve another table (a parent).
    public var catalog: Catalog
    public var migration: MigrationPlan
    /// The environment (DEV/TEST/UAT/PROD from cutover.yml) whose names fill `{{database}}`,
    /// `{{schema}}` and `{{environment}}` in a step's SQL.
    public var environmentName: String?
    public var environment: EnvironmentConfig?
    /// Per-column tolerances (`table.column` → rule) the row compare applies: a project's mapping decisions.
    public var tolerances = Tolerances()

    /// Another table a check names (a relationship's parent), on each side: found in the source
    /// catalog — unqualified, in the child's schema first, else the one table of that name — and on
    /// the target wherever the plan puts it, never assumed to sit in the child's schema.
    func relatedTable(_ name: String) throws -> (source: TableRef, target: TableRef) {
        let wanted = TableRef(parsing: name)
        let candidates = catalog.tables.filter { $0.ref.name == wanted.name && (wanted.schema == nil || $0.ref.schema == wanted.schema) }
        let chosen = candidates.first { $0.ref.schema == table.ref.schema } ?? (candidates.count == 1 ? candidates.first : nil)
        guard let parent = chosen else {
            throw CutoverError(
                candidates.isEmpty ? .tableNotFound : .config,
                candidates.isEmpty
                    ? "\(spec.check) on \(spec.table): the source has no table \(name)"
                    : "\(spec.check) on \(spec.table): \(name) is ambiguous (\(candidates.map(\.ref.description).joined(separator: ", ")))",
                hint: "name the parent with its schema: parent_table: schema.table")
        }
        let target =
            migration.table(parent.ref)?.target
            ?? TableRef(schema: plan.target.schema, name: target.dialect.targetName(parent.ref.name))
        return (parent.ref, target)
    }

    func connector(_ side: String) -> any Connector { side == "source" ? source : target }
    func ref(_ side: String) -> TableRef { side == "source" ? plan.source : plan.target }
    /// A source column's name on `side`.
    func column(_ name: String, _ side: String) -> String {
        side == "source" ? name : plan.columns.first { $0.column == name }?.targetColumn ?? name
    }
    /// The sides a single-side check runs on.
    var sides: [String] { spec.side == "both" ? ["source", "target"] : [spec.side ?? "target"] }

    /// Runs a query returning one number on `side`, read-only: `custom_sql` steps bring their own
    /// SQL, which must neither write nor chain a second statement.
    func number(_ side: String, _ sql: (any Dialect, String) -> String) async throws -> Double {
        // NULL is an aggregate over no values (the min, max or mean of an empty column): the checks
        // that ask for one use it to bound or count values, where no values means 0. A count is never NULL.
        try await measure(side, sql).double ?? 0
    }

    /// Runs a query returning one number on `side`: as the engine printed it (exact, for decimals
    /// and counts), and as a double; nil for NULL.
    func measure(_ side: String, _ sql: (any Dialect, String) -> String) async throws -> (text: String?, double: Double?) {
        let connector = connector(side)
        let query = RunnerQuery(
            sql: sql(connector.dialect, connector.dialect.qualified(ref(side))), maxRows: 1, timeout: 6 * 3600,
            refusePrivilegedRole: refusePrivilegedRole, reportRole: false)
        guard let value = try await connector.run(query).rows.first?.first, !value.isNull else { return (nil, nil) }
        guard let number = Double(value.displayText) else {
            throw CutoverError(
                .query, "the query returned \(value.displayText.prefix(60)), not a number", context: ["query": String(query.sql.prefix(200))])
        }
        return (value.displayText, number)
    }

    /// The target table as its catalog describes it.
    func targetTable() async throws -> Table? {
        let scope = Scope(schemas: plan.target.schema.map { [$0] } ?? [], tables: [plan.target.name], exactCounts: false)
        return try await target.catalog(scope).table(plan.target)
    }

    /// A named column that must exist in the source table.
    func requireColumn(_ name: String?, _ field: String) throws -> String {
        guard let name else { throw CutoverError(.config, "check \(spec.check) on \(spec.table) needs `\(field)`") }
        guard table.column(named: name) != nil else { throw CutoverError(.config, "\(spec.table) has no column \(name)") }
        return name
    }

    /// The type of a column ``requireColumn()`` checked.
    func columnType(_ name: String) throws -> CanonicalType {
        guard let column = table.column(named: name) else { throw CutoverError(.config, "\(spec.table) has no column \(name)") }
        return column.canonical
    }

    func requireColumn() throws -> String {
        guard let column = spec.column else { throw CutoverError(.config, "check \(spec.check) on \(spec.table) needs `column`") }
        guard table.column(named: column) != nil else { throw CutoverError(.config, "\(spec.table) has no column \(column)") }
        return column
    }
}

/// The outcome of one check.
public struct CheckOutcome: Sendable, Codable {
    public var passed: Bool
    public var message: String
    public var details: [String: String]
    /// What comparative checks measured, for the stored result (history, match %, reports).
    public var sourceRows: Int64?
    public var targetRows: Int64?
    public var matchPercent: Double?
    /// The columns that differ or that the check is about; by default the step's `column(s)`.
    public var affectedColumns: [String]?

    public init(passed: Bool, message: String, details: [String: String] = [:]) {
        self.passed = passed
        self.message = message
        self.details = details
    }
}

/// A validation check. Adding one is one type conforming to this plus its line in ``CheckRegistry``.
public protocol ValidationCheck: Sendable {
    /// The name pipelines use (`row_count`).
    static var name: String { get }
    /// schema, quality, relationship, statistics, business, time_series or comparative.
    static var category: String { get }
    /// One line for people: what it checks, naming the fields it reads in backticks.
    static var summary: String { get }
    /// The step fields it reads beside `table`, `side` and `severity` (forms in the console are made from these).
    static var parameters: [CheckParameter] { get }
    /// A check holds no state between steps: the registry makes one per step.
    init()
    /// Runs the check for one step: passed or not, with a message and details.
    func run(_ context: CheckContext) async throws -> CheckOutcome
}

extension ValidationCheck {
    public static var parameters: [CheckParameter] { [] }
}

/// A step field a check reads: its YAML key, what kind of value it takes and what it means.
public struct CheckParameter: Sendable, Codable, Hashable {
    /// What kind of value a parameter takes, for the form that asks for it.
    public enum Kind: String, Sendable, Codable {
        /// One column of the step's table; `columns` several.
        case column, columns
        case number, integer, text, sql
        /// Several texts or numbers.
        case list
        case table
        case choice
    }
    public var name: String
    public var kind: Kind
    public var required: Bool
    public var description: String
    public var choices: [String]?

    /// Every step field a check may read, with its kind and usual meaning (one place: StepSpec's keys).
    static let fields: [String: (kind: Kind, description: String, choices: [String]?)] = [
        "column": (.column, "the column checked", nil),
        "columns": (.columns, "columns", nil),
        "min": (.number, "the smallest value", nil),
        "max": (.number, "the largest value", nil),
        "values": (.list, "values", nil),
        "tolerance_percent": (.number, "relative tolerance in percent (default 0)", nil),
        "tolerance_abs": (.number, "absolute tolerance (default 0)", nil),
        "parent_table": (.table, "the parent table", nil),
        "parent_column": (.text, "the parent table's key column", nil),
        "sql": (.sql, "a query returning one number; {{table}} is the side's table", nil),
        "pattern": (.text, "a regular expression every non-NULL value must match as a whole", nil),
        "n": (.integer, "how many", nil),
        "measure": (.column, "the numeric column measured (none: the row count)", nil),
        "aggregate": (.choice, "how the measure is aggregated (default sum)", ["sum", "avg", "min", "max", "count"]),
        "window": (.integer, "the window in periods (default 7)", nil),
        "sample_percent": (.number, "the share of the key range compared, in percent (default 1)", nil),
    ]

    /// A known step field, with a description for this check when the usual one says too little.
    static func field(_ name: String, _ description: String? = nil, required: Bool = false) -> CheckParameter {
        let known = fields[name] ?? (.text, name, nil)
        return CheckParameter(name: name, kind: known.kind, required: required, description: description ?? known.description, choices: known.choices)
    }
}

/// A check as the catalogue shows it.
public struct CheckDescription: Sendable, Codable, Hashable {
    public var name: String
    public var category: String
    public var summary: String
    public var parameters: [CheckParameter]
}

/// Every check a pipeline step can name.
public enum CheckRegistry {
    /// Every check with its parameters, by category then name.
    public static var catalogue: [CheckDescription] {
        all.map { CheckDescription(name: $0.name, category: $0.category, summary: $0.summary, parameters: $0.parameters) }
            .sorted { ($0.category, $0.name) < ($1.category, $1.name) }
    }

    public static let all: [any ValidationCheck.Type] = [
        TableExistsCheck.self, ColumnSetCheck.self, NullabilityCheck.self, PrimaryKeyCheck.self,
        NullRateCheck.self, UniquenessCheck.self, AllowedValuesCheck.self, ValueRangeCheck.self, StringLengthCheck.self, PatternCheck.self,
        ColumnTypesCheck.self, UniqueKeysCheck.self, DefaultsCheck.self,
        ForeignKeyOrphansCheck.self, DimensionConformanceCheck.self,
        DistinctCountCheck.self, OutliersCheck.self, DistributionCheck.self, QuantilesCheck.self, IQROutliersCheck.self,
        CustomSQLCheck.self, TopNCheck.self, GroupMetricsCheck.self,
        DateGapsCheck.self, DuplicatePeriodsCheck.self, RollingDriftCheck.self,
        RowCountCheck.self, ColumnAggregatesCheck.self, RowDiffCheck.self, SampledDiffCheck.self,
    ]

    public static var names: [String] {
        var names: [String] = []
        for type in all { names.append(type.name) }
        return names
    }

    public static func check(named name: String) throws -> any ValidationCheck.Type {
        for type in all where type.name == name { return type }
        throw CutoverError(.config, "unknown check '\(name)'", hint: "checks: " + names.joined(separator: ", "))
    }
}
