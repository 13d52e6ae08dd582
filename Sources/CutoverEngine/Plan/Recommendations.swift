import CutoverCore

/// Advice for `improvement_recommendations.md`, derived from the catalog and the plan.
enum Recommendations {
    static func make(catalog: Catalog, plans: [TablePlan], dialect: any Dialect, sameEngine: Bool) -> [String] {
        var items: [String] = []
        for plan in plans where plan.key == nil {
            items.append(
                "\(plan.source) has no primary key or NOT NULL unique key: rows are compared as a multiset and chunked by offset. Add a key if the data has one."
            )
        }
        for plan in plans {
            for column in plan.columns where column.unmappable {
                items.append(
                    "\(plan.source).\(column.column) has type \(column.sourceType), which has no mapping: set `overrides.columns.\"\(plan.source).\(column.column)\"` in cutover.yml. Migration refuses this table until then."
                )
            }
            for column in plan.columns where column.needsReview && !column.unmappable {
                items.append("Review \(plan.source).\(column.column) (\(column.sourceType) → \(column.targetType)): \(column.rationale).")
            }
            items += plan.notes.map { "\(plan.source): \($0)." }
        }
        if dialect.engine == .snowflake {
            let indexed = plans.filter { catalog.table($0.source)?.indexes.isEmpty == false }.map(\.source.description)
            if !indexed.isEmpty {
                items.append(
                    "Snowflake has no secondary indexes; the indexes of \(indexed.joined(separator: ", ")) are not created. For large tables filtered on the same columns, consider a clustering key."
                )
            }
            if plans.contains(where: { !(catalog.table($0.source)?.foreignKeys.isEmpty ?? true) }) {
                items.append(
                    "Snowflake records primary and foreign keys but does not enforce them: keep the validation rules for orphans and duplicate keys in the pipeline."
                )
            }
            let mixedCase = plans.flatMap { plan in
                plan.columns.filter { $0.targetColumn != $0.targetColumn.uppercased() }.map { "\(plan.source).\($0.column)" }
            }
            if !mixedCase.isEmpty {
                items.append(
                    "\(mixedCase.count) column name(s) keep mixed case or special characters (e.g. \(mixedCase.prefix(3).joined(separator: ", "))) and must be quoted in Snowflake SQL; rename them with overrides if users query them by hand."
                )
            }
        }
        if dialect.engine == .postgres, catalog.engine != .postgres {
            let mixed = plans.filter { $0.target.name != $0.target.name.lowercased() }.map(\.target.name)
            if !mixed.isEmpty {
                items.append(
                    "Table names with upper-case letters (\(mixed.prefix(5).joined(separator: ", "))\(mixed.count > 5 ? ", …" : "")) are kept exactly, so PostgreSQL SQL must quote them (\"\(mixed[0])\")."
                )
            }
        }
        for plan in plans where (plan.estimatedRows ?? 0) > 10_000_000 {
            items.append(
                "\(plan.source) has about \(Format.count(plan.estimatedRows ?? 0)) rows: migrate it with parallel chunks and validate with checksums per key range."
            )
        }
        let planned = Set(plans.map(\.source))
        for view in catalog.tables where (view.kind == .view || view.kind == .materializedView) && !planned.contains(view.ref) {
            let what = view.kind == .view ? "View" : "Materialized view"
            items.append(
                "\(what) \(view.ref) is not created on the target: Cutover moves data, and its SQL is \(catalog.engine.rawValue)'s "
                    + "(definition in analysis_report.json) — port it by hand after the tables\(view.kind == .materializedView ? ", or copy its rows into a table first (CREATE TABLE … AS SELECT) and migrate that" : "")."
            )
        }
        let reserved = dialect.reservedWords
        if !reserved.isEmpty {
            var names: [String] = []
            for plan in plans {
                if reserved.contains(plan.target.name.uppercased()) { names.append("table \(plan.target.name)") }
                names += plan.columns.filter { reserved.contains($0.targetColumn.uppercased()) }.map { "\(plan.source).\($0.targetColumn)" }
            }
            if !names.isEmpty {
                items.append(
                    "\(names.count) name(s) are reserved words in \(dialect.engine.rawValue) (\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", …" : "")): "
                        + "Cutover quotes them, but every query written by hand must too; rename them with overrides if that is a burden.")
            }
        }
        for plan in plans where plan.columns.count > 500 {
            items.append(
                "\(plan.source) has \(plan.columns.count) columns: wide rows make chunks heavy — consider --chunk-bytes, and check the target's limits and the tools that read it."
            )
        }
        if dialect.engine == .snowflake {
            let large = plans.flatMap { plan in
                plan.columns.filter { mapping in
                    guard let column = catalog.table(plan.source)?.column(named: mapping.column) else { return false }
                    switch column.canonical {
                    case .text(nil), .binary, .json: return true
                    default: return false
                    }
                }.map { "\(plan.source).\($0.column)" }
            }
            if !large.isEmpty {
                items.append(
                    "\(large.count) unbounded text, binary or JSON column(s) (\(large.prefix(5).joined(separator: ", "))\(large.count > 5 ? ", …" : "")): Snowflake holds at most 16 MB of text "
                        + "or VARIANT and 8 MB of BINARY per value; a larger value fails the load of its chunk.")
            }
        }
        if plans.contains(where: { $0.columns.contains { $0.identity != nil } }) {
            items.append(
                dialect.engine == .snowflake
                    ? "Identity and serial columns are loaded with their source values; Snowflake cannot restart an identity, so the table is created with it starting past the source's largest value when the load begins (rows added at the source during the move can still collide: reload with --replace after the cut-over)."
                    : "Identity and serial columns are loaded with their source values; after the load the target's identity is moved past the largest value so new rows do not collide."
            )
        }
        return items
    }
}
