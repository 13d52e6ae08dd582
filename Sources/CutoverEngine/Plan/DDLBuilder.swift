import CutoverCore

/// Writes the target DDL for a plan in the target's dialect.
struct DDLBuilder {
    let dialect: any Dialect
    let catalog: Catalog
    let sameEngine: Bool
    let plans: [TablePlan]

    struct Output {
        var setup: [String] = []
        var create: [TableRef: [String]] = [:]
        var postData: [TableRef: [String]] = [:]
        var notes: [String] = []
    }

    /// Standalone sequences (not owned by a column: those move with their identity) continue where
    /// the source's stand, in the schema the tables of their schema go to.
    func sequences(_ notes: inout [String]) -> [String] {
        var statements: [String] = []
        for sequence in catalog.sequences where sequence.ownedBy == nil {
            let increment = sequence.increment ?? 1
            let next = sequence.lastValue.map { $0.addingReportingOverflow(increment).partialValue } ?? sequence.start ?? 1
            let name = sequence.schema.map { "\($0).\(sequence.name)" } ?? sequence.name
            let schema =
                dialect.supportsSchemas
                ? plans.first { $0.source.schema == sequence.schema }?.target.schema ?? sequence.schema.map(dialect.targetName)
                    ?? dialect.defaultSchema : nil
            guard
                let sql = dialect.createSequence(TableRef(schema: schema, name: dialect.targetName(sequence.name)), start: next, increment: increment)
            else {
                notes.append(
                    "Sequence \(name) (next value \(next)) is not created: \(dialect.engine.rawValue) has no sequences; keep its counter elsewhere.")
                continue
            }
            statements.append(sql)
            notes.append(
                "Sequence \(name) is created to continue at \(next) (its value when planned; if the source keeps using it until the cut-over, "
                    + "set the target's value again then — an existing target sequence is left as it is).")
        }
        return statements
    }

    func build() -> Output {
        var out = Output()
        if dialect.supportsSchemas {
            for schema in Set(plans.compactMap(\.target.schema)).sorted() {
                out.setup.append("CREATE SCHEMA IF NOT EXISTS \(dialect.quote(schema))")
            }
        }
        if sameEngine, dialect.engine == .postgres { out.setup += postgresTypes() }
        out.setup += sequences(&out.notes)
        let planned = Set(plans.map(\.source))
        for plan in plans {
            guard let table = catalog.table(plan.source) else { continue }
            out.create[plan.source] = [createTable(plan, table, &out.notes)] + comments(plan, table)
            for fk in table.foreignKeys {
                guard let referenced = plans.first(where: { $0.source == fk.referencedTable }) else {
                    if !planned.contains(fk.referencedTable) {
                        out.notes.append(
                            "Foreign key \(fk.name ?? fk.columns.joined(separator: ",")) on \(plan.source) references \(fk.referencedTable), which is not migrated: it was left out."
                        )
                    }
                    continue
                }
                if dialect.supportsAlterAddForeignKey {
                    out.postData[plan.source, default: []].append(
                        "ALTER TABLE \(dialect.qualified(plan.target)) ADD \(foreignKeyClause(fk, plan: plan, referenced: referenced))")
                }
            }
            if dialect.supportsIndexes {
                for index in table.indexes {
                    if let sql = createIndex(index, plan: plan, &out.notes) { out.postData[plan.source, default: []].append(sql) }
                }
            }
        }
        return out
    }

    private func columnName(_ plan: TablePlan, _ source: String) -> String {
        dialect.quote(plan.columns.first { $0.column == source }?.targetColumn ?? dialect.targetName(source))
    }

    private func createTable(_ plan: TablePlan, _ table: Table, _ notes: inout [String]) -> String {
        var lines: [String] = []
        // SQLite: a one-column integer key becomes INTEGER PRIMARY KEY, the rowid alias (fast, auto-assigned).
        var rowidKey: String?
        if dialect.engine == .sqlite, let pk = table.primaryKey, pk.columns.count == 1, let column = table.column(named: pk.columns[0]),
            case .integer = column.canonical, plan.columns.first(where: { $0.column == column.name })?.override == nil
        {
            rowidKey = column.name
        }
        for decision in plan.columns {
            guard let column = table.column(named: decision.column) else { continue }
            var line = dialect.quote(decision.targetColumn) + " "
            if rowidKey == column.name {
                line += "INTEGER PRIMARY KEY"
                lines.append(line)
                continue
            }
            line += decision.targetType
            if let kind = column.identity, decision.override == nil, !(sameEngine && kind == .serial && dialect.engine != .postgres),
                let clause = dialect.identityClause(for: kind, type: column.canonical)
            {
                line += " " + clause
            }
            if !column.isNullable { line += " NOT NULL" }
            if column.identity == nil, let expression = column.defaultExpression {
                if let translated = translateDefault(expression) {
                    line += " DEFAULT " + translated
                } else {
                    notes.append(
                        "Default `\(expression)` on \(plan.source).\(column.name) was not carried over: write its \(dialect.engine.rawValue) equivalent by hand."
                    )
                }
            }
            lines.append(line)
        }
        if let pk = table.primaryKey, rowidKey == nil {
            lines.append("PRIMARY KEY (" + pk.columns.map { columnName(plan, $0) }.joined(separator: ", ") + ")")
        }
        for unique in table.uniqueKeys {
            lines.append("UNIQUE (" + unique.columns.map { columnName(plan, $0) }.joined(separator: ", ") + ")")
        }
        for check in table.checks {
            if sameEngine {
                lines.append((check.name.map { "CONSTRAINT \(dialect.quote($0)) " } ?? "") + check.expression)
            } else {
                notes.append(
                    "Check constraint \(check.name ?? "") on \(plan.source) (`\(check.expression)`) was not translated: add it to the target by hand if it still applies."
                )
            }
        }
        if !dialect.supportsAlterAddForeignKey {
            for fk in table.foreignKeys {
                if let referenced = plans.first(where: { $0.source == fk.referencedTable }) {
                    lines.append(foreignKeyClause(fk, plan: plan, referenced: referenced))
                }
            }
        }
        return "CREATE TABLE IF NOT EXISTS \(dialect.qualified(plan.target)) (\n    " + lines.joined(separator: ",\n    ") + "\n)"
    }

    private func foreignKeyClause(_ fk: ForeignKey, plan: TablePlan, referenced: TablePlan) -> String {
        var sql =
            (fk.name.map { "CONSTRAINT \(dialect.quote($0)) " } ?? "")
            + "FOREIGN KEY (" + fk.columns.map { columnName(plan, $0) }.joined(separator: ", ") + ") REFERENCES "
            + dialect.qualified(referenced.target) + " (" + fk.referencedColumns.map { columnName(referenced, $0) }.joined(separator: ", ") + ")"
        if dialect.engine != .snowflake {
            if let onDelete = fk.onDelete { sql += " ON DELETE " + onDelete }
            if let onUpdate = fk.onUpdate { sql += " ON UPDATE " + onUpdate }
        }
        return sql
    }

    private func createIndex(_ index: Index, plan: TablePlan, _ notes: inout [String]) -> String? {
        if sameEngine, let definition = index.definition, dialect.engine == .postgres {
            return definition.replacingOccurrences(of: "CREATE INDEX ", with: "CREATE INDEX IF NOT EXISTS ")
                .replacingOccurrences(of: "CREATE UNIQUE INDEX ", with: "CREATE UNIQUE INDEX IF NOT EXISTS ")
        }
        guard !index.columns.contains("(expression)") else {
            notes.append("Index \(index.name) on \(plan.source) uses an expression: recreate it by hand (\(index.definition ?? "")).")
            return nil
        }
        let name = dialect.engine == .sqlite ? index.name : index.name
        return "CREATE \(index.isUnique ? "UNIQUE " : "")INDEX IF NOT EXISTS \(dialect.quote(name)) ON \(dialect.qualified(plan.target)) ("
            + index.columns.map { columnName(plan, $0) }.joined(separator: ", ") + ")"
    }

    private func comments(_ plan: TablePlan, _ table: Table) -> [String] {
        guard dialect.engine != .sqlite else { return [] }
        var statements: [String] = []
        if let comment = table.comment { statements.append("COMMENT ON TABLE \(dialect.qualified(plan.target)) IS \(dialect.literal(comment))") }
        for column in table.columns {
            guard let comment = column.comment else { continue }
            statements.append("COMMENT ON COLUMN \(dialect.qualified(plan.target)).\(columnName(plan, column.name)) IS \(dialect.literal(comment))")
        }
        return statements
    }

    /// PostgreSQL → PostgreSQL keeps enum and domain types, created before the tables use them.
    private func postgresTypes() -> [String] {
        var statements: [String] = []
        let used = Set(plans.flatMap { $0.columns.map { $0.targetType.replacingOccurrences(of: "[]", with: "") } })
        for e in catalog.enums where used.contains(e.name) || used.contains("\(e.schema ?? "").\(e.name)") {
            let name = (e.schema.map { dialect.quote($0) + "." } ?? "") + dialect.quote(e.name)
            statements.append(
                "DO $$ BEGIN CREATE TYPE \(name) AS ENUM (\(e.values.map { dialect.literal($0) }.joined(separator: ", "))); EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        }
        for d in catalog.domains where used.contains(d.name) || used.contains("\(d.schema ?? "").\(d.name)") {
            let name = (d.schema.map { dialect.quote($0) + "." } ?? "") + dialect.quote(d.name)
            let checks = d.checks.map { " " + $0 }.joined()
            statements.append(
                "DO $$ BEGIN CREATE DOMAIN \(name) AS \(d.baseType)\(d.isNullable ? "" : " NOT NULL")\(checks); EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        }
        return statements
    }

    /// Literal defaults and the current-time functions carry over; anything else is left to a person.
    func translateDefault(_ expression: String) -> String? {
        if sameEngine, !expression.hasPrefix("nextval(") { return expression }
        var text = expression.trimmingCharacters(in: .whitespaces)
        // PostgreSQL prints 'abc'::character varying; keep the literal.
        if text.hasPrefix("'"), let castStart = text.range(of: "'::", options: .backwards) {
            text = String(text[..<text.index(after: castStart.lowerBound)])
        }
        if text.hasPrefix("("), text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        let lower = text.lowercased()
        if ["now()", "current_timestamp", "localtimestamp", "transaction_timestamp()", "datetime('now')"].contains(lower) {
            return "CURRENT_TIMESTAMP"
        }
        if lower == "current_date" || lower == "date('now')" { return "CURRENT_DATE" }
        if lower == "true" || lower == "false" { return dialect.engine == .sqlite ? (lower == "true" ? "1" : "0") : lower.uppercased() }
        if lower == "null" { return "NULL" }
        if Double(text) != nil { return text }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 { return text }
        return nil
    }
}
