import CutoverCore

/// Reads INFORMATION_SCHEMA and `SHOW … KEYS` into a ``Catalog``. Without `--schema`, the URL's
/// schema is read (Snowflake databases often hold many unrelated schemas).
struct SnowflakeCatalogReader {
    let client: SnowflakeClient
    let settings: SnowflakeSettings
    private let dialect = SnowflakeDialect()

    /// An identifier as Snowflake resolves it: quoted as written, otherwise in upper case.
    static func resolved(_ written: String) -> String {
        if written.count >= 2, written.hasPrefix("\""), written.hasSuffix("\"") { return String(written.dropFirst().dropLast()) }
        return written.uppercased()
    }

    func read(_ scope: Scope) async throws -> Catalog {
        // A schema as written, else as Snowflake reads an unquoted name: upper case.
        let written = scope.schemas.isEmpty ? [settings.schema] : scope.schemas
        let database = dialect.quote(settings.database)
        let candidates = Set(written.flatMap { [$0, Self.resolved($0)] })
        let existing = try await rows(
            "SELECT SCHEMA_NAME FROM \(database).INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME IN (\(candidates.map { dialect.literal($0) }.joined(separator: ", ")))"
        )
        let found = Set(existing.map { $0[0].displayText })
        let schemas = written.map { found.contains($0) ? $0 : Self.resolved($0) }
        let schemaList = schemas.map { dialect.literal($0) }.joined(separator: ", ")
        for schema in schemas where !found.contains(schema) {
            throw CutoverError(
                .schemaNotFound, "schema '\(schema)' does not exist in Snowflake database \(settings.database)",
                hint: "Snowflake stores unquoted names in upper case: try \(schema.uppercased())")
        }
        let tableRows = try await rows(
            """
            SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ROW_COUNT, BYTES, COMMENT FROM \(database).INFORMATION_SCHEMA.TABLES
            WHERE TABLE_SCHEMA IN (\(schemaList)) ORDER BY TABLE_SCHEMA, TABLE_NAME
            """)
        var tables: [Table] = []
        var index: [TableRef: Int] = [:]
        for row in tableRows {
            let ref = TableRef(schema: row[0].displayText, name: row[1].displayText)
            guard scope.includes(ref, folding: .upper) else { continue }
            let kind: Table.Kind = row[2].displayText.uppercased().contains("VIEW") ? .view : .table
            var table = Table(ref: ref, kind: kind, columns: [])
            table.sizeBytes = Self.int(row[4])
            table.comment = row[5].isNull ? nil : row[5].displayText
            index[ref] = tables.count
            tables.append(table)
        }
        for wanted in scope.tables where !tables.contains(where: { NameFolding.upper.names(wanted, $0.ref) }) {
            throw CutoverError(
                .tableNotFound, "table '\(wanted)' does not exist in Snowflake \(settings.database).\(schemas.joined(separator: ","))",
                hint: "tables here: " + tableRows.map { $0[1].displayText }.prefix(30).joined(separator: ", "))
        }
        let columnRows = try await rows(
            """
            SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
                   CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, COMMENT
            FROM \(database).INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA IN (\(schemaList))
            ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
            """)
        for row in columnRows {
            guard let at = index[TableRef(schema: row[0].displayText, name: row[1].displayText)] else { continue }
            let dataType = row[4].displayText
            let length = Self.int(row[7]).map(Int.init), precision = Self.int(row[8]).map(Int.init), scale = Self.int(row[9]).map(Int.init)
            var native = dataType
            if dataType == "NUMBER" { native = "NUMBER(\(precision ?? 38),\(scale ?? 0))" }
            if dataType == "TEXT", let length, length < 16_777_216 { native = "VARCHAR(\(length))" }
            let defaultExpression = row[6].isNull ? nil : row[6].displayText
            var column = Column(
                name: row[2].displayText, ordinal: tables[at].columns.count + 1, nativeType: native,
                canonical: SnowflakeTypes.canonical(dataType: dataType, precision: precision, scale: scale, length: length),
                isNullable: row[5].displayText.uppercased() == "YES", defaultExpression: defaultExpression,
                comment: row[10].isNull ? nil : row[10].displayText)
            if let defaultExpression, defaultExpression.uppercased().hasPrefix("IDENTITY") || defaultExpression.uppercased().contains(".NEXTVAL") {
                column.identity = .byDefault
            }
            tables[at].columns.append(column)
        }
        try await readKeys(schemas, into: &tables, index: index)
        for i in tables.indices where tables[i].kind == .table {
            if scope.exactCounts {
                let count = try await rows("SELECT COUNT(*) AS N FROM \(dialect.qualified(tables[i].ref))").first?.first
                tables[i].rowCount = count.flatMap(Self.int)
                tables[i].rowCountIsExact = true
            } else {
                tables[i].rowCount = tableRows.first { $0[0].displayText == tables[i].ref.schema && $0[1].displayText == tables[i].ref.name }.flatMap
                { Self.int($0[3]) }
            }
        }
        let version = try? await rows("SELECT CURRENT_VERSION() AS V").first?.first?.displayText  // informational only
        return Catalog(engine: .snowflake, database: settings.database, serverVersion: version, schemas: schemas, tables: tables)
    }

    /// Primary, unique and foreign keys: Snowflake records them (unenforced, except NOT NULL).
    private func readKeys(_ schemas: [String], into tables: inout [Table], index: [TableRef: Int]) async throws {
        for schema in schemas {
            let location = "\(dialect.quote(settings.database)).\(dialect.quote(schema))"
            var primary: [TableRef: [(Int64, String, String)]] = [:]
            for row in try await keyRows("SHOW PRIMARY KEYS IN SCHEMA \(location)") {
                let ref = TableRef(schema: row["schema_name"] ?? schema, name: row["table_name"] ?? "")
                primary[ref, default: []].append((Int64(row["key_sequence"] ?? "") ?? 0, row["column_name"] ?? "", row["constraint_name"] ?? ""))
            }
            for (ref, parts) in primary {
                guard let at = index[ref] else { continue }
                let sorted = parts.sorted { $0.0 < $1.0 }
                tables[at].primaryKey = KeyConstraint(name: sorted.first?.2, columns: sorted.map(\.1))
                for c in tables[at].columns.indices where sorted.contains(where: { $0.1 == tables[at].columns[c].name }) {
                    tables[at].columns[c].isNullable = false
                }
            }
            var unique: [TableRef: [String: [(Int64, String)]]] = [:]
            for row in try await keyRows("SHOW UNIQUE KEYS IN SCHEMA \(location)") {
                let ref = TableRef(schema: row["schema_name"] ?? schema, name: row["table_name"] ?? "")
                unique[ref, default: [:]][row["constraint_name"] ?? "", default: []].append(
                    (Int64(row["key_sequence"] ?? "") ?? 0, row["column_name"] ?? ""))
            }
            for (ref, constraints) in unique {
                guard let at = index[ref] else { continue }
                for name in constraints.keys.sorted() {
                    tables[at].uniqueKeys.append(KeyConstraint(name: name, columns: (constraints[name] ?? []).sorted { $0.0 < $1.0 }.map(\.1)))
                }
            }
            var foreign: [String: (TableRef, ForeignKey)] = [:]
            for row in try await keyRows("SHOW IMPORTED KEYS IN SCHEMA \(location)") {
                // The emulator lists primary keys here with an empty referenced table: skip those.
                guard let pkTable = row["pk_table_name"], !pkTable.isEmpty, let name = row["fk_name"] else { continue }
                let ref = TableRef(schema: row["fk_schema_name"] ?? schema, name: row["fk_table_name"] ?? "")
                var (owner, key) =
                    foreign[name] ?? (
                        ref,
                        ForeignKey(
                            name: name, columns: [], referencedTable: TableRef(schema: row["pk_schema_name"], name: pkTable), referencedColumns: [])
                    )
                key.columns.append(row["fk_column_name"] ?? "")
                key.referencedColumns.append(row["pk_column_name"] ?? "")
                owner = ref
                foreign[name] = (owner, key)
            }
            for (owner, key) in foreign.values {
                if let at = index[owner] { tables[at].foreignKeys.append(key) }
            }
        }
    }

    private func rows(_ sql: String) async throws -> [[Value]] {
        try await SnowflakeResultPages(try await client.run(sql), client: client).all()
    }

    /// SHOW output as name → text maps (SHOW column names are lower case).
    private func keyRows(_ sql: String) async throws -> [[String: String]] {
        let data = try await client.run(sql)
        let names = (data.rowtype ?? []).map { $0.name.lowercased() }
        return try await SnowflakeResultPages(data, client: client).all().map { row in
            var out: [String: String] = [:]
            for (name, value) in zip(names, row) where out[name] == nil && !value.isNull { out[name] = value.displayText }
            return out
        }
    }

    static func int(_ value: Value) -> Int64? {
        switch value {
        case .int(let n): return n
        case .text(let s): return Int64(s)
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }
}
