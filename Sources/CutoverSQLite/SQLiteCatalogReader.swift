import CutoverCore

/// Reads `sqlite_master` and the table PRAGMAs into a ``Catalog``.
struct SQLiteCatalogReader {
    let session: SQLiteSession

    func read(_ scope: Scope) throws -> Catalog {
        for schema in scope.schemas where schema.lowercased() != "main" {
            throw CutoverError(
                .schemaNotFound, "SQLite has no schema '\(schema)': a SQLite file has one schema, main",
                hint: "drop --schema for SQLite sources")
        }
        let objects = try session.execute(
            "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        var tables: [Table] = []
        for row in objects.rows {
            guard case .text(let name) = row[0], case .text(let type) = row[1] else { continue }
            let ref = TableRef(schema: nil, name: name)
            guard scope.includes(ref, folding: .caseInsensitive) else { continue }
            let createSQL: String = if case .text(let s) = row[2] { s } else { "" }
            var table = try table(ref, isView: type == "view", createSQL: createSQL)
            try SQLiteProfiler(session: session).profile(&table, depth: scope.profile)
            tables.append(table)
        }
        for wanted in scope.tables where !tables.contains(where: { NameFolding.caseInsensitive.names(wanted, $0.ref) }) {
            throw CutoverError(
                .tableNotFound, "table '\(wanted)' does not exist in SQLite file \(session.path)",
                hint: "tables here: " + objects.rows.compactMap { if case .text(let n) = $0[0] { n } else { nil } }.joined(separator: ", "))
        }
        let version = try session.execute("SELECT sqlite_version()").rows.first?.first?.displayText
        return Catalog(engine: .sqlite, database: session.path, serverVersion: version, schemas: ["main"], tables: tables)
    }

    private func table(_ ref: TableRef, isView: Bool, createSQL: String) throws -> Table {
        let quoted = SQLiteDialect().quote(ref.name)
        let info = try session.execute("PRAGMA table_xinfo(\(quoted))")
        var columns: [Column] = []
        var keyParts: [(Int, String)] = []
        for row in info.rows {
            guard case .text(let name) = row[1] else { continue }
            if case .int(let hidden) = row[6], hidden != 0, hidden != 2, hidden != 3 { continue }
            let declared = row[2].isNull ? "" : row[2].displayText
            let notNull = row[3] == .int(1)
            let defaultValue: String? = row[4].isNull ? nil : row[4].displayText
            if case .int(let pk) = row[5], pk > 0 { keyParts.append((Int(pk), name)) }
            columns.append(
                Column(
                    name: name, ordinal: columns.count + 1, nativeType: declared, canonical: SQLiteTypes.canonical(declared),
                    isNullable: !notNull, defaultExpression: defaultValue))
        }
        var table = Table(ref: ref, kind: isView ? .view : .table, columns: columns)
        if isView { table.viewDefinition = createSQL; return table }
        let keyColumns = keyParts.sorted { $0.0 < $1.0 }.map(\.1)
        if !keyColumns.isEmpty {
            table.primaryKey = KeyConstraint(name: nil, columns: keyColumns)
            // INTEGER PRIMARY KEY is an alias of the rowid: SQLite assigns it when omitted.
            let withoutRowid = createSQL.uppercased().contains("WITHOUT ROWID")
            if keyColumns.count == 1, !withoutRowid, let index = table.columns.firstIndex(where: { $0.name == keyColumns[0] }),
                table.columns[index].nativeType.uppercased() == "INTEGER"
            {
                table.columns[index].identity = .rowid
                table.columns[index].isNullable = false
            }
            for index in table.columns.indices where keyColumns.contains(table.columns[index].name) {
                table.columns[index].isNullable = false  // SQLite allows NULL in non-integer PKs; the plan should not
            }
        }
        let foreignKeys = try session.execute("PRAGMA foreign_key_list(\(quoted))")
        var grouped: [Int64: ForeignKey] = [:]
        for row in foreignKeys.rows {
            guard case .int(let id) = row[0] else { continue }
            let target = row[2].displayText, from = row[3].displayText
            let to = row[4].isNull ? nil : row[4].displayText
            var fk =
                grouped[id]
                ?? ForeignKey(
                    name: nil, columns: [], referencedTable: TableRef(schema: nil, name: target), referencedColumns: [],
                    onDelete: Self.action(row[6].displayText), onUpdate: Self.action(row[5].displayText))
            fk.columns.append(from)
            if let to { fk.referencedColumns.append(to) }
            grouped[id] = fk
        }
        table.foreignKeys = grouped.keys.sorted().compactMap { grouped[$0] }
        let indexList = try session.execute("PRAGMA index_list(\(quoted))")
        for row in indexList.rows {
            let name = row[1].displayText
            let unique = row[2] == .int(1)
            let origin = row[3].displayText
            let indexColumns = try session.execute("PRAGMA index_info(\(SQLiteDialect().quote(name)))").rows.map {
                $0[2].isNull ? "(expression)" : $0[2].displayText
            }
            switch origin {
            case "pk": continue
            case "u": table.uniqueKeys.append(KeyConstraint(name: nil, columns: indexColumns))
            default:
                let definition = try session.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [.text(name)]).rows.first?
                    .first
                table.indexes.append(
                    Index(
                        name: name, columns: indexColumns, isUnique: unique, definition: definition?.isNull == false ? definition?.displayText : nil))
            }
        }
        if case .int(let count) = try session.execute("SELECT count(*) FROM \(quoted)").rows.first?.first ?? .null {
            table.rowCount = count
            table.rowCountIsExact = true
        }
        // dbstat is compiled into Debian's SQLite; elsewhere the size stays unknown.
        if let size = try? session.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", [.text(ref.name)]).rows.first?.first,
            case .int(let bytes) = size
        {
            table.sizeBytes = bytes
        }
        return table
    }

    private static func action(_ text: String) -> String? {
        text == "NO ACTION" || text.isEmpty ? nil : text
    }
}
