import CutoverCore

/// Maps a source catalog onto a target engine: every column's type with its rationale, the target
/// DDL, and what a person should look at before data moves.
public struct Planner: Sendable {
    public var targetEngine: ConnectionURL.Engine
    public var overrides: TypeOverrides
    /// Put every table in this target schema instead of the source's schema name.
    public var targetSchema: String?

    public init(targetEngine: ConnectionURL.Engine, overrides: TypeOverrides = .init(), targetSchema: String? = nil) {
        self.targetEngine = targetEngine
        self.overrides = overrides
        self.targetSchema = targetSchema
    }

    public func plan(_ catalog: Catalog, source: ConnectionURL, tables selection: TableSelection = .init()) throws -> MigrationPlan {
        let dialect = try Connectors.dialect(targetEngine)
        let sameEngine = catalog.engine == targetEngine
        var tablePlans: [TablePlan] = []
        var recommendations: [String] = []
        for table in catalog.dataTables where selection.includes(table.ref) {
            tablePlans.append(planTable(table, catalog: catalog, dialect: dialect, sameEngine: sameEngine))
        }
        // Two source tables into one target table (a target schema for tables of several schemas) would overwrite each other.
        for sources in Dictionary(grouping: tablePlans, by: { $0.target.description.lowercased() }).values where sources.count > 1 {
            throw CutoverError(
                .usage,
                "tables \(sources.map(\.source.description).sorted().joined(separator: " and ")) would all land in one target table, \(sources[0].target)",
                hint:
                    "migrate one source schema at a time (--schema), or give each its own target schema (--target-schema, or the schema in the target URL)"
            )
        }
        let builder = DDLBuilder(dialect: dialect, catalog: catalog, sameEngine: sameEngine, plans: tablePlans)
        let ddl = builder.build()
        for index in tablePlans.indices {
            tablePlans[index].createDDL = ddl.create[tablePlans[index].source] ?? []
            tablePlans[index].postDataDDL = ddl.postData[tablePlans[index].source] ?? []
        }
        recommendations += ddl.notes
        recommendations += Recommendations.make(catalog: catalog, plans: tablePlans, dialect: dialect, sameEngine: sameEngine)
        return MigrationPlan(
            source: source.description, sourceEngine: catalog.engine, targetEngine: targetEngine, generatedAt: ISOTime.now(),
            tables: tablePlans, setupDDL: ddl.setup, recommendations: recommendations)
    }

    func targetRef(_ ref: TableRef, dialect: any Dialect) -> TableRef {
        let schema: String? = dialect.supportsSchemas ? (targetSchema ?? ref.schema.map(dialect.targetName) ?? dialect.defaultSchema) : nil
        return TableRef(schema: schema, name: dialect.targetName(ref.name))
    }

    func planTable(_ table: Table, catalog: Catalog, dialect: any Dialect, sameEngine: Bool) -> TablePlan {
        var notes: [String] = []
        if table.kind == .partitioned {
            let partitions = catalog.tables.filter { $0.partitionOf == table.ref }.map(\.ref.description)
            notes.append(
                "partitioned table: its \(partitions.count) partitions (\(partitions.joined(separator: ", "))) are read through it and land in one target table"
            )
        }
        let columns = table.columns.map { decide($0, table: table, catalog: catalog, dialect: dialect, sameEngine: sameEngine) }
        return TablePlan(
            source: table.ref, target: targetRef(table.ref, dialect: dialect), columns: columns, key: table.rowKey,
            estimatedRows: table.rowCount, notes: notes)
    }

    func decide(_ column: Column, table: Table, catalog: Catalog, dialect: any Dialect, sameEngine: Bool) -> MappingDecision {
        var decision = MappingDecision(
            column: column.name, targetColumn: dialect.targetName(column.name), sourceType: column.nativeType.isEmpty ? "(none)" : column.nativeType,
            canonicalType: column.canonical.description, targetType: "", rationale: "", lossy: false, needsReview: false,
            nullable: column.isNullable, identity: column.identity?.rawValue, override: nil, unmappable: false)
        if let override = overrides.override(table: table.ref, column: column) {
            decision.targetType = override.type
            decision.override = override.source
            decision.rationale = "chosen by \(override.source)"
            return decision
        }
        if sameEngine, column.identity != .serial, !column.nativeType.isEmpty {
            decision.targetType = column.nativeType
            decision.rationale = "same engine: native type kept" + (column.domain.map { " (domain \($0))" } ?? "")
            return decision
        }
        var choice = dialect.typeChoice(for: column.canonical)
        // An unconstrained decimal the target cannot hold exactly (Snowflake's NUMBER has a fixed
        // scale) gets the digits the profiled values need, where that holds them.
        if choice.isLossy, let digits = column.advice?.unconstrainedDigits, digits.integer + digits.scale > 0 {
            let fitted = dialect.typeChoice(for: .decimal(precision: digits.integer + digits.scale, scale: digits.scale))
            if !fitted.isLossy {
                choice = TypeChoice(
                    fitted.sqlType, "no declared precision; the values need \(digits.integer) integer and \(digits.scale) fractional digits",
                    review: true)
            }
        }
        decision.targetType = choice.sqlType
        decision.lossy = choice.isLossy
        decision.needsReview = choice.needsReview || (column.advice?.needsReview ?? false)
        var rationale = ([choice.rationale] + (column.advice?.notes ?? []) + (column.advice?.evidence ?? [])).joined(separator: "; ")
        if case .unknown = column.canonical {
            decision.unmappable = true
            rationale += "; add an override in cutover.yml (overrides.columns.\"\(table.ref.description).\(column.name)\": TYPE) before migrating"
        }
        if catalog.engine == .sqlite, column.profile == nil, case .text(let max?) = column.canonical {
            rationale += "; SQLite never enforced the length \(max), so longer values fail the load with the row's key"
        }
        if column.identity == .serial { rationale += "; serial becomes an identity column" }
        if let domain = column.domain { rationale += "; domain \(domain) flattened to its base type" }
        decision.rationale = rationale
        return decision
    }
}
