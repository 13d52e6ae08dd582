import CutoverCore

extension SQLServerExtractScript {
    /// The second script, written from an export's catalog: per table the exact row count, per column
    /// the count of values (NULLs that appeared on the way show), and per exact numeric column
    /// (integers, decimals, money) the sum, minimum and maximum as decimal text; on SQL Server 2019
    /// and later, per table with a single integer key also the ``PortableChecksum`` of its rows in
    /// up to 1,024 key buckets. Static SQL (no dynamic SQL), read-only; it scans each table once,
    /// twice with checksums.
    public static func aggregates(of catalog: Catalog) -> String {
        let dialect = SQLServerDialect()
        let checksums = SQLServerChecksum.isSupported(version: catalog.serverVersion)
        var lines = [
            "-- Cutover: exact row counts and column aggregates of \(catalog.database) (\(SQLServerExport.aggregatesFormat)).",
            checksums
                ? "-- With row checksums by key bucket (SQL Server 2019 or later: UTF-8 collations) where a table has a single integer key."
                : "-- Without row checksums: they need SQL Server 2019 or later (UTF-8 collations); the export says \(catalog.serverVersion ?? "no version").",
            "-- Read-only; scans each table once, twice with checksums (run it under snapshot isolation for one consistent moment).",
            "-- Run it like the export script and put its output next to the export:",
            "--   sqlcmd -S SERVER -d DATABASE -E -y 0 -h -1 -i cutover-aggregates.sql -o cutover-aggregates.json",
            "-- Then: cutover validate --source sqlserver-export:FOLDER --target URL",
            "SET NOCOUNT ON;",
            "DECLARE @tables NVARCHAR(MAX) = N'';",
        ]
        if checksums { lines.append("DECLARE @lo bigint, @hi bigint, @w bigint, @checksum NVARCHAR(MAX);") }
        for table in catalog.tables where table.kind == .table {
            let checksum = checksums ? checksumStatements(table) : nil
            if let checksum { lines += checksum }
            // Every column's count of values; integers, decimals and money also their sum, min and max.
            let numeric = Dictionary(uniqueKeysWithValues: aggregated(table).map { ($0.index, $0.scale) })
            let measures = table.columns.enumerated().map { index, column -> String in
                let quoted = dialect.quote(column.name)
                guard let scale = numeric[index] else { return ", COUNT_BIG(\(quoted)) AS [c\(index)]" }
                return ", COUNT_BIG(\(quoted)) AS [c\(index)], CONVERT(varchar(64), SUM(CAST(\(quoted) AS decimal(38,\(scale))))) AS [s\(index)], "
                    + "CONVERT(varchar(64), CAST(MIN(\(quoted)) AS decimal(38,\(scale)))) AS [n\(index)], "
                    + "CONVERT(varchar(64), CAST(MAX(\(quoted)) AS decimal(38,\(scale)))) AS [x\(index)]"
            }
            // A NULL in VALUES is typed int, which would turn the other rows' decimal text into ints: cast it.
            let none = "CAST(NULL AS varchar(64))"
            let values = table.columns.enumerated().map { index, column in
                numeric[index] == nil
                    ? "(\(literal(column.name)), a.[c\(index)], \(none), \(none), \(none))"
                    : "(\(literal(column.name)), a.[c\(index)], a.[s\(index)], a.[n\(index)], a.[x\(index)])"
            }
            let columns =
                values.isEmpty
                ? "JSON_QUERY(N'[]')"
                : "(SELECT v.[name], v.[count], v.[sum], v.[min], v.[max] FROM (VALUES " + values.joined(separator: ", ")
                    + ") AS v([name], [count], [sum], [min], [max]) FOR JSON PATH, INCLUDE_NULL_VALUES)"
            lines.append(
                "SET @tables = @tables + N',' + (SELECT a.[schema], a.[name], a.[rows], \(columns) AS [columns]"
                    + (checksum == nil ? "" : ", JSON_QUERY(@checksum) AS [checksum]"))
            lines.append(
                "  FROM (SELECT \(literal(table.ref.schema ?? "dbo")) AS [schema], \(literal(table.ref.name)) AS [name], COUNT_BIG(*) AS [rows]"
                    + measures.joined())
            lines.append("          FROM \(dialect.qualified(table.ref))) AS a")
            lines.append("  FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES);")
        }
        lines.append(
            "SELECT (SELECT \(literal(SQLServerExport.aggregatesFormat)) AS [format], DB_NAME() AS [database], "
                + "CONVERT(varchar(33), SYSUTCDATETIME(), 126) + 'Z' AS [extracted_at], "
                + "JSON_QUERY(N'[' + ISNULL(STUFF(@tables, 1, 1, N''), N'') + N']') AS [tables] FOR JSON PATH, WITHOUT_ARRAY_WRAPPER);")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Buckets per table: enough to point at the keys that differ, few enough for one JSON value.
    static let checksumBuckets = 1024

    /// The statements that set `@checksum` to the table's ``SourceAggregates/KeyBucketChecksums``
    /// as JSON; nil when the table has no single integer key or a column has no T-SQL form.
    static func checksumStatements(_ table: Table) -> [String]? {
        let dialect = SQLServerDialect()
        guard let key = table.primaryKey?.columns, key.count == 1, let keyColumn = table.column(named: key[0]), case .integer = keyColumn.canonical
        else { return nil }
        var columns: [ChecksumColumn] = []
        for column in table.columns {
            guard case .success(let form) = ChecksumForm.common(source: column.canonical, target: column.canonical) else { return nil }
            columns.append((column.name, form, column.nativeType))
        }
        let k = dialect.quote(keyColumn.name), from = dialect.qualified(table.ref)
        guard let buckets = SQLServerChecksum.bucketQuery(columns, table: from, key: k, lower: "@lo", width: "@w") else { return nil }
        let namesJSON = "[" + columns.map { JSONCanonical.quoted($0.name) }.joined(separator: ",") + "]"
        return [
            "SELECT @lo = MIN(\(k)), @hi = MAX(\(k)) FROM \(from);",
            // In decimal: the span of a bigint key can pass bigint's range.
            "SET @w = CASE WHEN @hi IS NULL THEN 1 ELSE CONVERT(bigint, FLOOR((CONVERT(decimal(20, 0), @hi) - @lo) / \(checksumBuckets))) + 1 END;",
            "SET @checksum = (SELECT \(literal(keyColumn.name)) AS [key], JSON_QUERY(\(literal(namesJSON))) AS [columns], "
                + "\(literal(columns.map(\.form.code).joined(separator: ","))) AS [forms], @lo AS [low], @hi AS [high], @w AS [width],",
            "  JSON_QUERY(ISNULL((\(buckets) ORDER BY bucket FOR JSON PATH), N'[]')) AS [buckets]",
            "  FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES);",
        ]
    }

    /// The columns whose sums and extremes are exact in decimal text, with their position and scale.
    public static func aggregated(_ table: Table) -> [(index: Int, column: Column, scale: Int)] {
        table.columns.enumerated().compactMap { index, column in
            switch column.canonical {
            case .integer: return (index, column, 0)
            case .decimal(_, let scale): return (index, column, scale ?? 0)
            default: return nil
            }
        }
    }
}
