import CutoverCore

extension SQLServerExtractScript {
    /// The second script, written from an export's catalog: per table the exact row count, per column
    /// the count of values (NULLs that appeared on the way show), and per exact numeric column
    /// (integers, decimals, money) the sum, minimum and maximum as decimal text. Static SQL (no
    /// dynamic SQL), read-only; it scans each table once.
    public static func aggregates(of catalog: Catalog) -> String {
        let dialect = SQLServerDialect()
        var lines = [
            "-- Cutover: exact row counts and column aggregates of \(catalog.database) (\(SQLServerExport.aggregatesFormat)).",
            "-- Read-only; scans each table once (run it under snapshot isolation for one consistent moment).",
            "-- Run it like the export script and put its output next to the export:",
            "--   sqlcmd -S SERVER -d DATABASE -E -y 0 -h -1 -i cutover-aggregates.sql -o cutover-aggregates.json",
            "-- Then: cutover validate --source sqlserver-export:FOLDER --target URL",
            "SET NOCOUNT ON;",
            "DECLARE @tables NVARCHAR(MAX) = N'';",
        ]
        for table in catalog.tables where table.kind == .table {
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
            lines.append("SET @tables = @tables + N',' + (SELECT a.[schema], a.[name], a.[rows], \(columns) AS [columns]")
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
