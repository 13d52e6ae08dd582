import CutoverCore

/// The T-SQL a DBA runs (sqlcmd or SSMS, SQL Server 2016 or later, read-only: catalog views and
/// `sys.dm_db_partition_stats`) to export what `analyze` and `plan` need, as one JSON document.
public enum SQLServerExtractScript {
    /// The script for `schemas` and `tables` (`name` or `schema.name`; empty: all user tables).
    public static func text(schemas: [String] = [], tables: [String] = []) -> String {
        var filters: [String] = []
        if !schemas.isEmpty { filters.append("s.name IN (\(schemas.map(literal).joined(separator: ", ")))") }
        if !tables.isEmpty {
            let names = tables.map { name -> String in
                let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
                return parts.count == 2 ? "(s.name = \(literal(parts[0])) AND t.name = \(literal(parts[1])))" : "t.name = \(literal(name))"
            }
            filters.append("(" + names.joined(separator: " OR ") + ")")
        }
        let filter = filters.map { "\n      AND " + $0 }.joined()
        return """
            -- Cutover: export of a SQL Server database's catalog (\(SQLServerExport.format)): tables and views.
            -- Read-only: it reads catalog views and sys.dm_db_partition_stats (needs VIEW DATABASE STATE).
            -- Run it and keep its one output value whole:
            --   sqlcmd -S SERVER -d DATABASE -E -y 0 -h -1 -i cutover-extract.sql -o cutover-export.json
            -- (-y 0: no truncation of long values; -h -1: no header.) In SSMS: Results to File, then
            -- remove the header line. Then: cutover analyze|plan --source sqlserver-export:cutover-export.json
            SET NOCOUNT ON;
            DECLARE @tables NVARCHAR(MAX) = (
              SELECT s.name AS [schema], t.name AS [name], RTRIM(t.type) AS [kind], OBJECT_DEFINITION(t.object_id) AS [definition],
                (SELECT SUM(p.row_count) FROM sys.dm_db_partition_stats p WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)) AS [rows],
                (SELECT SUM(p.used_page_count) * 8192 FROM sys.dm_db_partition_stats p WHERE p.object_id = t.object_id) AS [bytes],
                (SELECT c.name AS [name], c.column_id AS [ordinal],
                        CASE WHEN ty.is_user_defined = 0 OR ty.is_assembly_type = 1 THEN ty.name ELSE TYPE_NAME(c.system_type_id) END AS [type],
                        c.max_length AS [max_length], c.precision AS [precision], c.scale AS [scale], c.is_nullable AS [nullable],
                        c.collation_name AS [collation], c.is_identity AS [identity], c.is_computed AS [computed],
                        cc.definition AS [computed_definition], c.is_sparse AS [sparse], dc.definition AS [default]
                   FROM sys.columns c
                   JOIN sys.types ty ON ty.user_type_id = c.user_type_id
                   LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
                   LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
                  WHERE c.object_id = t.object_id
                  ORDER BY c.column_id
                  FOR JSON PATH, INCLUDE_NULL_VALUES) AS [columns],
                (SELECT i.name AS [name], i.is_primary_key AS [primary], i.is_unique AS [unique], i.is_unique_constraint AS [unique_constraint],
                        (SELECT col.name AS [name]
                           FROM sys.index_columns ic
                           JOIN sys.columns col ON col.object_id = ic.object_id AND col.column_id = ic.column_id
                          WHERE ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
                          ORDER BY ic.key_ordinal
                          FOR JSON PATH) AS [columns]
                   FROM sys.indexes i
                  WHERE i.object_id = t.object_id AND i.type > 0 AND i.is_hypothetical = 0
                  FOR JSON PATH) AS [indexes],
                (SELECT fk.name AS [name], SCHEMA_NAME(rt.schema_id) AS [ref_schema], rt.name AS [ref_table],
                        fk.delete_referential_action_desc AS [on_delete], fk.update_referential_action_desc AS [on_update],
                        (SELECT pc.name AS [column], rc.name AS [ref_column]
                           FROM sys.foreign_key_columns fkc
                           JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
                           JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
                          WHERE fkc.constraint_object_id = fk.object_id
                          ORDER BY fkc.constraint_column_id
                          FOR JSON PATH) AS [columns]
                   FROM sys.foreign_keys fk
                   JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id
                  WHERE fk.parent_object_id = t.object_id
                  FOR JSON PATH) AS [foreign_keys],
                (SELECT ck.name AS [name], ck.definition AS [definition]
                   FROM sys.check_constraints ck
                  WHERE ck.parent_object_id = t.object_id
                  FOR JSON PATH) AS [checks]
              FROM sys.objects t
              JOIN sys.schemas s ON s.schema_id = t.schema_id
              WHERE t.type IN ('U', 'V') AND t.is_ms_shipped = 0\(filter)
              ORDER BY s.name, t.name
              FOR JSON PATH, INCLUDE_NULL_VALUES);
            SELECT (SELECT \(literal(SQLServerExport.format)) AS [format], DB_NAME() AS [database], @@VERSION AS [server_version],
                           CONVERT(varchar(33), SYSUTCDATETIME(), 126) + 'Z' AS [extracted_at], JSON_QUERY(ISNULL(@tables, '[]')) AS [tables]
                    FOR JSON PATH, WITHOUT_ARRAY_WRAPPER);

            """
    }

    static func literal(_ text: String) -> String { "N'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}
