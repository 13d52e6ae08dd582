import CutoverCore
import Foundation

/// Reads PostgreSQL's catalogs (pg_catalog) into a ``Catalog``. Each query returns one JSON
/// document so names with commas, quotes or unicode survive intact.
struct PostgresCatalogReader {
    let session: PostgresSession

    func read(_ scope: Scope) throws -> Catalog {
        let allSchemas =
            try decode(
                [String].self,
                """
                SELECT json_agg(nspname ORDER BY nspname) FROM pg_namespace
                WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
                """, []) ?? []
        // A schema as written, else as PostgreSQL folds an unquoted name (lower case).
        let requested = try scope.schemas.map { written in
            if allSchemas.contains(written) { return written }
            let folded = NameFolding.lower.stored(written)
            guard allSchemas.contains(folded) else {
                throw CutoverError(
                    .schemaNotFound, "schema '\(written)' does not exist in database '\(session.url.database)'",
                    hint: "schemas here: " + allSchemas.joined(separator: ", "))
            }
            return folded
        }
        let schemas = requested.isEmpty ? allSchemas : requested
        let schemaParameter = String(decoding: try JSONEncoder().encode(schemas), as: UTF8.self)
        let inSchemas = "IN (SELECT json_array_elements_text($1::json))"

        let enums =
            try decode(
                [EnumRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
                  'values', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)))
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let domains =
            try decode(
                [DomainRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'name', t.typname, 'base', format_type(t.typbasetype, t.typtypmod),
                  'notnull', t.typnotnull, 'checks', (SELECT json_agg(pg_get_constraintdef(c.oid)) FROM pg_constraint c WHERE c.contypid = t.oid)))
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let relations =
            try decode(
                [RelationRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'kind', c.relkind,
                  'estimate', c.reltuples::bigint, 'bytes', pg_total_relation_size(c.oid), 'comment', obj_description(c.oid, 'pg_class'),
                  'parent_schema', pn.nspname, 'parent', p.relname, 'populated', c.relispopulated,
                  'view', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END) ORDER BY n.nspname, c.relname)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
                LEFT JOIN pg_class p ON p.oid = i.inhparent LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let columns =
            try decode(
                [ColumnRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'ordinal', a.attnum, 'name', a.attname,
                  'type', format_type(a.atttypid, a.atttypmod), 'typtype', t.typtype, 'typname', t.typname, 'typschema', tn.nspname,
                  'elemtype', et.typname, 'elemtyptype', et.typtype,
                  'notnull', a.attnotnull, 'default', pg_get_expr(ad.adbin, ad.adrelid), 'identity', a.attidentity,
                  'comment', col_description(c.oid, a.attnum)) ORDER BY n.nspname, c.relname, a.attnum)
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
                LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
                LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let constraints =
            try decode(
                [ConstraintRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'name', con.conname, 'type', con.contype,
                  'columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                  'refschema', rn.nspname, 'reftable', rc.relname,
                  'refcolumns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
                  'ondelete', con.confdeltype, 'onupdate', con.confupdtype, 'definition', pg_get_constraintdef(con.oid)) ORDER BY con.conname)
                FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE con.contype IN ('p', 'u', 'f', 'c') AND n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let indexes =
            try decode(
                [IndexRow].self,
                """
                SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'name', i.relname, 'unique', x.indisunique,
                  'columns', (SELECT json_agg(coalesce(a.attname, '(expression)') ORDER BY k.ord)
                              FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                              LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum),
                  'definition', pg_get_indexdef(x.indexrelid),
                  'backs_constraint', EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u'))) ORDER BY i.relname)
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname \(inSchemas)
                """, [schemaParameter]) ?? []
        let sequences =
            try decode(
                [SequenceRow].self,
                """
                SELECT json_agg(json_build_object('schema', schemaname, 'name', sequencename, 'type', data_type::regtype::text,
                  'start', start_value, 'increment', increment_by, 'last', last_value,
                  'owned', (SELECT tc.relname || '.' || a.attname FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
                            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = format('%I.%I', schemaname, sequencename)::regclass
                              AND d.deptype IN ('a', 'i') LIMIT 1)) ORDER BY schemaname, sequencename)
                FROM pg_sequences WHERE schemaname \(inSchemas)
                """, [schemaParameter]) ?? []

        let enumValues = Dictionary(enums.map { ("\($0.schema).\($0.name)", $0.values ?? []) }, uniquingKeysWith: { a, _ in a })
        let domainByName = Dictionary(domains.map { ("\($0.schema).\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
        let columnsByTable = Dictionary(grouping: columns) { TableRef(schema: $0.schema, name: $0.table) }
        let constraintsByTable = Dictionary(grouping: constraints) { TableRef(schema: $0.schema, name: $0.table) }
        let indexesByTable = Dictionary(grouping: indexes) { TableRef(schema: $0.schema, name: $0.table) }

        var tables: [Table] = []
        for relation in relations {
            let ref = TableRef(schema: relation.schema, name: relation.name)
            guard scope.includes(ref, folding: .lower) else { continue }
            let kind: Table.Kind =
                switch relation.kind {
                case "p": .partitioned
                case "v": .view
                case "m": .materializedView
                default: .table
                }
            var table = Table(ref: ref, kind: kind, columns: (columnsByTable[ref] ?? []).map { column($0, enumValues, domainByName) })
            table.comment = relation.comment
            table.sizeBytes = relation.bytes
            table.viewDefinition = relation.view
            if let parent = relation.parent { table.partitionOf = TableRef(schema: relation.parent_schema, name: parent) }
            for con in constraintsByTable[ref] ?? [] {
                let cols = con.columns ?? []
                switch con.type {
                case "p": table.primaryKey = KeyConstraint(name: con.name, columns: cols)
                case "u": table.uniqueKeys.append(KeyConstraint(name: con.name, columns: cols))
                case "f":
                    table.foreignKeys.append(
                        ForeignKey(
                            name: con.name, columns: cols, referencedTable: TableRef(schema: con.refschema, name: con.reftable ?? ""),
                            referencedColumns: con.refcolumns ?? [], onDelete: Self.action(con.ondelete), onUpdate: Self.action(con.onupdate)))
                case "c": table.checks.append(CheckConstraint(name: con.name, expression: con.definition ?? ""))
                default: break
                }
            }
            table.indexes = (indexesByTable[ref] ?? []).filter { !$0.backs_constraint }.map {
                Index(name: $0.name, columns: $0.columns ?? [], isUnique: $0.unique, definition: $0.definition)
            }
            if kind == .materializedView, relation.populated == false {
                // Created WITH NO DATA (as in Pagila): it cannot be read until refreshed, so it has no count.
                table.notes = [
                    "materialized view not populated (WITH NO DATA): no row count; REFRESH MATERIALIZED VIEW \(PostgresDialect().qualified(ref)) to read it"
                ]
            } else if kind == .table || kind == .partitioned || kind == .materializedView {
                let estimate = relation.estimate ?? -1
                if scope.exactCounts || estimate < 1_000_000 {
                    let count = try session.execute("SELECT count(*) FROM \(PostgresDialect().qualified(ref))").firstValue
                    table.rowCount = count.flatMap { Int64($0) }
                    table.rowCountIsExact = true
                } else {
                    table.rowCount = estimate
                }
            }
            tables.append(table)
        }
        for wanted in scope.tables where !tables.contains(where: { NameFolding.lower.names(wanted, $0.ref) }) {
            throw CutoverError(
                .tableNotFound,
                "table '\(wanted)' does not exist in schema(s) \(schemas.joined(separator: ", ")) of database '\(session.url.database)'",
                hint: "run `cutover analyze` to list the tables, or pass --schema")
        }
        return Catalog(
            engine: .postgres, database: session.url.database, serverVersion: session.serverVersion, schemas: schemas, tables: tables,
            sequences: sequences.map {
                Sequence(
                    schema: $0.schema, name: $0.name, dataType: $0.type, start: $0.start, increment: $0.increment, lastValue: $0.last,
                    ownedBy: $0.owned)
            },
            enums: enums.map { EnumType(schema: $0.schema, name: $0.name, values: $0.values ?? []) },
            domains: domains.map { DomainType(schema: $0.schema, name: $0.name, baseType: $0.base, isNullable: !$0.notnull, checks: $0.checks ?? []) }
        )
    }

    private func column(_ row: ColumnRow, _ enumValues: [String: [String]], _ domains: [String: DomainRow]) -> Column {
        var canonical = PostgresTypes.canonical(row.type)
        var domain: String?
        let typeKey = "\(row.typschema).\(row.typname)"
        if row.typtype == "e" {
            canonical = .enumeration(name: row.typname, values: enumValues[typeKey] ?? [])
        } else if row.typtype == "d", let d = domains[typeKey] {
            canonical = PostgresTypes.canonical(d.base)
            domain = d.name
        } else if row.elemtyptype == "e", let element = row.elemtype {
            canonical = .array(of: .enumeration(name: element, values: enumValues["\(row.typschema).\(element)"] ?? []))
        }
        var identity: IdentityKind? =
            switch row.identity {
            case "a": .always
            case "d": .byDefault
            default: nil
            }
        if identity == nil, let def = row.default, def.hasPrefix("nextval(") { identity = .serial }
        return Column(
            name: row.name, ordinal: row.ordinal, nativeType: row.type, canonical: canonical, isNullable: !row.notnull,
            defaultExpression: row.default, identity: identity, comment: row.comment, domain: domain)
    }

    private static func action(_ code: String?) -> String? {
        switch code {
        case "c": "CASCADE"
        case "n": "SET NULL"
        case "d": "SET DEFAULT"
        case "r": "RESTRICT"
        default: nil  // 'a' = NO ACTION, the default
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ sql: String, _ parameters: [String?]) throws -> T? {
        guard let json = try session.query(sql, parameters).firstValue else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch {
            throw CutoverError(.query, "could not read PostgreSQL catalog answer: \(error)", context: ["query": String(sql.prefix(80))])
        }
    }
}

private struct EnumRow: Decodable { let schema: String; let name: String; let values: [String]? }
private struct DomainRow: Decodable { let schema: String; let name: String; let base: String; let notnull: Bool; let checks: [String]? }
private struct RelationRow: Decodable {
    let schema: String; let name: String; let kind: String; let estimate: Int64?; let bytes: Int64?
    let comment: String?; let parent_schema: String?; let parent: String?; let view: String?; let populated: Bool?
}
private struct ColumnRow: Decodable {
    let schema: String; let table: String; let ordinal: Int; let name: String; let type: String
    let typtype: String; let typname: String; let typschema: String; let elemtype: String?; let elemtyptype: String?
    let notnull: Bool; let `default`: String?; let identity: String?; let comment: String?
}
private struct ConstraintRow: Decodable {
    let schema: String; let table: String; let name: String; let type: String; let columns: [String]?
    let refschema: String?; let reftable: String?; let refcolumns: [String]?; let ondelete: String?; let onupdate: String?; let definition: String?
}
private struct IndexRow: Decodable {
    let schema: String; let table: String; let name: String; let unique: Bool; let columns: [String]?; let definition: String?;
    let backs_constraint: Bool
}
private struct SequenceRow: Decodable {
    let schema: String; let name: String; let type: String; let start: Int64?; let increment: Int64?; let last: Int64?
    /// `table.column` of the serial or identity column that owns it.
    let owned: String?
}
