import CutoverCore
import Foundation

/// What `pipeline suggest` concluded about one table, with the reasons it gives the reader.
public struct TableProfile: Sendable, Codable {
    /// A column of the table pointing at another table's key, declared or inferred from names.
    public struct Relationship: Sendable, Codable, Hashable {
        public var column: String
        public var parent: TableRef
        public var parentColumn: String
        /// Declared as a foreign key; otherwise inferred from names.
        public var declared: Bool
    }

    public var table: TableRef
    /// fact, dimension, bridge or table.
    public var role: String
    public var rows: Int64?
    public var surrogateKey: String?
    public var businessKeys: [[String]]
    /// A business key guessed from names, not declared: its uniqueness runs as a warning.
    public var businessKeyInferred: Bool
    public var relationships: [Relationship]
    public var measures: [String]
    public var dates: [String]
    public var reasons: [String]
}

/// Reads a catalog the way a data engineer would before writing checks: which tables are facts and
/// which dimensions, which keys are surrogate and which business, which columns point at which
/// tables — then writes a pipeline with the checks that fit each table.
public enum PipelineSuggester {
    /// Above this many rows a table gets a sampled compare besides the row count, not a full row diff.
    public static let fullDiffRowLimit: Int64 = 5_000_000

    public static func profiles(_ catalog: Catalog, plan: MigrationPlan) -> [TableProfile] {
        let tables = catalog.dataTables.filter { plan.table($0.ref) != nil }
        var relationships: [TableRef: [TableProfile.Relationship]] = [:]
        for table in tables { relationships[table.ref] = self.relationships(of: table, among: tables) }
        var incoming: [TableRef: [String]] = [:]
        for (child, links) in relationships {
            for link in links where link.parent != child { incoming[link.parent, default: []].append("\(child.name).\(link.column)") }
        }
        return tables.map { table in
            let links = relationships[table.ref] ?? []
            let linkColumns = Set(links.map(\.column))
            let keyColumns = Set(table.primaryKey?.columns ?? [])
            let measures = table.columns.filter { column in
                guard !keyColumns.contains(column.name), !linkColumns.contains(column.name), column.identity == nil, !looksLikeKey(column.name) else {
                    return false
                }
                switch column.canonical {
                case .integer, .decimal, .float: return true;
                default: return false
                }
            }.map(\.name)
            let dates = table.columns.filter { if case .date = $0.canonical { true } else { false } }.map(\.name)
            let referencedBy = incoming[table.ref] ?? []
            var reasons: [String] = []
            let lower = table.ref.name.lowercased()
            let role: String
            if lower.hasPrefix("fact_") || lower.hasSuffix("_fact") || lower.hasPrefix("f_") {
                role = "fact"; reasons.append("named like a fact table")
            } else if lower.hasPrefix("dim_") || lower.hasSuffix("_dim") || lower.hasPrefix("d_") {
                role = "dimension"; reasons.append("named like a dimension")
            } else if !referencedBy.isEmpty {
                role = "dimension"; reasons.append("referenced by " + referencedBy.prefix(4).joined(separator: ", "))
            } else if links.isEmpty, !dates.isEmpty, !measures.isEmpty, attributes(table) > measures.count {
                role = "dimension";
                reasons.append("descriptive: \(attributes(table)) text attributes, \(measures.count) measure(s), nothing it points at")
            } else if !measures.isEmpty, !links.isEmpty || !dates.isEmpty {
                role = "fact"
                reasons.append(
                    "not referenced, " + (links.isEmpty ? "dated by \(dates[0])" : "points at \(links.count) table(s)")
                        + ", measures \(measures.prefix(3).joined(separator: ", "))")
            } else if links.count >= 2, measures.isEmpty {
                role = "bridge"; reasons.append("links \(links.map(\.parent.name).joined(separator: " and ")) with no measures")
            } else {
                role = "table"; reasons.append("no relationships or measures to classify it by")
            }
            var surrogate: String?
            if let pk = table.primaryKey, pk.columns.count == 1, let column = table.column(named: pk.columns[0]), case .integer = column.canonical,
                column.identity != nil || looksLikeKey(column.name)
            {
                surrogate = column.name
                reasons.append("surrogate key \(column.name)")
            }
            var businessKeys = table.uniqueKeys.map(\.columns)
            var inferred = false
            if businessKeys.isEmpty, surrogate != nil, role == "dimension",
                let candidate = table.columns.first(where: { column in
                    guard !column.isNullable, column.name != surrogate else { return false }
                    if case .text = column.canonical {} else { return false }
                    let name = column.name.lowercased()
                    return ["code", "email", "number", "sku", "key", "username"].contains {
                        name == $0 || name.hasSuffix("_" + $0) || name.hasSuffix($0)
                    }
                })
            {
                businessKeys = [[candidate.name]]
                inferred = true
                reasons.append("business key guessed: \(candidate.name)")
            } else if !businessKeys.isEmpty {
                reasons.append("business key " + businessKeys.map { $0.joined(separator: "+") }.joined(separator: ", "))
            }
            let guessed = links.filter { !$0.declared }
            if !guessed.isEmpty {
                reasons.append("inferred relationship(s): " + guessed.map { "\($0.column) → \($0.parent.name)" }.joined(separator: ", "))
            }
            return TableProfile(
                table: table.ref, role: role, rows: table.rowCount, surrogateKey: surrogate, businessKeys: businessKeys,
                businessKeyInferred: inferred, relationships: links, measures: measures, dates: dates, reasons: reasons)
        }
    }

    /// Declared foreign keys, plus columns whose name matches another table's single-column primary key
    /// (`ArtistId` → Artist.ArtistId) or its name (`customer_id` → customers.id).
    static func relationships(of table: Table, among tables: [Table]) -> [TableProfile.Relationship] {
        var links = table.foreignKeys.filter { $0.columns.count == 1 }.map {
            TableProfile.Relationship(
                column: $0.columns[0], parent: $0.referencedTable, parentColumn: $0.referencedColumns.first ?? $0.columns[0], declared: true)
        }
        let own = Set(table.primaryKey?.columns ?? [])
        for column in table.columns where !own.contains(column.name) && !links.contains(where: { $0.column == column.name }) {
            guard case .integer = column.canonical else { continue }
            let name = column.name.lowercased()
            for parent in tables where parent.ref != table.ref {
                guard let pk = parent.primaryKey, pk.columns.count == 1 else { continue }
                let parentName = parent.ref.name.lowercased()
                let singular = parentName.hasSuffix("s") ? String(parentName.dropLast()) : parentName
                let stem = name.hasSuffix("_id") ? String(name.dropLast(3)) : name.hasSuffix("id") ? String(name.dropLast(2)) : nil
                if pk.columns[0].lowercased() == name || (stem != nil && (stem == parentName || stem == singular)) {
                    links.append(.init(column: column.name, parent: parent.ref, parentColumn: pk.columns[0], declared: false))
                    break
                }
            }
        }
        return links
    }

    /// Text columns: what describes a dimension member.
    static func attributes(_ table: Table) -> Int {
        table.columns.filter {
            switch $0.canonical {
            case .text, .char, .enumeration: true;
            default: false
            }
        }.count
    }

    static func looksLikeKey(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "id" || lower.hasSuffix("_id") || name.hasSuffix("Id") || name.hasSuffix("ID") || lower.hasSuffix("_sk")
            || lower.hasSuffix("_key")
    }

    /// The pipeline file: a commented block per table, then its steps.
    public static func yaml(_ profiles: [TableProfile], catalog: Catalog, source: String, target: String) throws -> String {
        var out = """
            # Suggested by `cutover pipeline suggest` for \(source) → \(target).
            # Review it: checks on inferred keys and relationships run with severity warn.
            # Run it: cutover validate --source … --target … --pipeline THIS_FILE
            parallel: 4
            steps:

            """
        for profile in profiles {
            guard let table = catalog.table(profile.table) else { continue }
            out +=
                "  # \(profile.table) — \(profile.role)" + (profile.rows.map { ", \(Format.count($0)) rows" } ?? "") + ": "
                + profile.reasons.joined(separator: "; ") + "\n"
            let name = profile.table.description
            func step(_ check: String, _ fill: (inout StepSpec) -> Void = { _ in }) -> StepSpec {
                var spec = StepSpec(check: check, table: name)
                fill(&spec)
                return spec
            }
            var steps = ["table_exists", "column_set", "column_types", "nullability", "row_count"].map { step($0) }
            if table.primaryKey != nil { steps.append(step("primary_key")) }
            if !table.uniqueKeys.isEmpty { steps.append(step("unique_keys")) }
            if table.columns.contains(where: { $0.defaultExpression != nil && $0.identity == nil }) { steps.append(step("defaults")) }
            let huge = (profile.rows ?? 0) > fullDiffRowLimit
            if huge, let surrogate = profile.surrogateKey {
                steps.append(
                    step("sampled_diff") {
                        $0.n = 20; $0.samplePercent = 1
                    })
                out +=
                    "  # \(profile.table) has more than \(Format.count(fullDiffRowLimit)) rows: a 1% sample by \(surrogate); switch to row_diff for a full compare\n"
            } else {
                steps.append(step("row_diff"))
            }
            for key in profile.businessKeys {
                steps.append(
                    step("uniqueness") {
                        $0.columns = key; $0.severity = profile.businessKeyInferred ? "warn" : nil
                    })
            }
            for link in profile.relationships {
                let relate = { (spec: inout StepSpec) in
                    spec.column = link.column
                    spec.parentTable = link.parent.description
                    spec.parentColumn = link.parentColumn
                    spec.severity = link.declared ? nil : "warn"
                }
                steps.append(step("fk_orphans", relate))
                if profile.role == "fact", profiles.first(where: { $0.table == link.parent })?.role == "dimension" {
                    steps.append(step("dimension_conformance", relate))
                }
            }
            if profile.role == "fact", let measure = profile.measures.first {
                steps.append(step("column_aggregates") { $0.columns = Array(profile.measures.prefix(5)) })
                steps.append(step("quantiles") { $0.column = measure })
                if let dimension = profile.relationships.first(where: { link in profiles.first { $0.table == link.parent }?.role == "dimension" }) {
                    steps.append(
                        step("group_metrics") {
                            $0.columns = [dimension.column]; $0.measure = measure; $0.aggregate = "sum"
                        })
                }
                if let date = profile.dates.first {
                    steps.append(
                        step("rolling_drift") {
                            $0.column = date; $0.measure = measure; $0.window = 7
                        })
                }
            }
            for spec in steps { out += "  - \(try spec.flowYAML())\n" }
            out += "\n"
        }
        return out
    }
}

extension Jobs {
    /// Profiles the source and writes a suggested pipeline (also kept as a run artifact).
    public func suggestPipeline(
        source sourceURL: ConnectionURL, target targetURL: ConnectionURL, scope: Scope, config: CutoverConfig,
        targetSchema: String? = nil, workload: WorkloadSummary? = nil
    ) async throws -> (yaml: String, profiles: [TableProfile], runID: String) {
        let recorder = try await newRecorder(kind: "suggest", source: sourceURL, target: targetURL, echo: say)
        do {
            let p = try await prepare(
                source: sourceURL, target: targetURL, writingTarget: false, scope: scope, config: config, targetSchema: targetSchema)
            let profiles = PipelineSuggester.profiles(p.catalog, plan: p.plan)
            var yaml = try PipelineSuggester.yaml(profiles, catalog: p.catalog, source: sourceURL.description, target: targetURL.description)
            if let workload {
                let existing = try Pipeline.parse(yaml, name: "suggested").steps
                yaml += try WorkloadSuggestions.yaml(WorkloadSuggestions.steps(workload, catalog: p.catalog, existing: existing))
            }
            _ = try recorder.writeArtifact("pipeline_suggested.yml", yaml)
            _ = try recorder.writeJSONArtifact("table_profiles.json", profiles)
            try await recorder.finish(
                status: .succeeded,
                summary: "\(profiles.count) tables: "
                    + Dictionary(grouping: profiles, by: \.role).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", "))
            return (yaml, profiles, recorder.runID)
        } catch {
            await recorder.fail(error)
            throw error
        }
    }
}
