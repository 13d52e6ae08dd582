import CutoverCore

/// The ``PortableChecksum`` in T-SQL, for the live connector's bisection and the aggregates script:
/// each column's ``ChecksumForm`` text as `nvarchar(max)`, framed `length:text` (length in Unicode
/// scalars), the row's frames converted to UTF-8 through a UTF-8 collation and hashed with
/// `HASHBYTES('MD5', …)`, the first 60 bits summed per bucket as `decimal(38,0)`.
///
/// UTF-8 collations arrived in SQL Server 2019 (major version 15). Without one, `nvarchar` only
/// converts to a code page, where characters it lacks all become '?': a target whose 'é' turned
/// into '?' would then checksum equal. So older servers get no portable checksum at all.
public enum SQLServerChecksum {
    /// The first major version with UTF-8 collations.
    public static let firstMajorVersion = 15
    static let utf8Collation = "Latin1_General_100_BIN2_UTF8"
    /// A supplementary-character collation: LEN counts a character above U+FFFF once.
    static let scalarCollation = "Latin1_General_100_CI_AS_SC"

    /// Whether a server whose `@@VERSION` reads `version` has UTF-8 collations (Azure SQL does).
    public static func isSupported(version: String?) -> Bool {
        guard let version else { return false }
        if version.contains("Azure") { return true }
        guard let range = version.range(of: "SQL Server ") else { return false }
        let year = Int(version[range.upperBound...].prefix(4)) ?? 0
        return year >= 2019
    }

    /// The table's alias in the checksum query: the computed columns beside it cannot shadow its own.
    static let tableAlias = "[cutover_t]"

    /// What one row's hash is computed from and how: `from` (the table as ``tableAlias``, with each
    /// column's text computed once beside it) and `hash`, a `varbinary(16)` over those texts; nil
    /// when a column's form has no T-SQL.
    static func rowHash(_ columns: [ChecksumColumn], table: String) -> (from: String, hash: String)? {
        var digits: [String] = [], texts: [String] = [], frames: [String] = []
        for (index, column) in columns.enumerated() {
            let quoted = tableAlias + "." + SQLServerDialect().quote(column.name)
            let digitsName = "[cutover_digits].[d\(index)]"
            guard let text = text(quoted, form: column.form, type: column.type, digits: digitsName) else { return nil }
            if case .number(let scale) = column.form {
                digits.append("REPLACE(CONVERT(nvarchar(60), CAST(\(quoted) AS decimal(38, \(scale)))), N'.', N'') AS [d\(index)]")
            }
            texts.append("\(text) AS [v\(index)]")
            frames.append(frame("[cutover_texts].[v\(index)]"))
        }
        var from = "\(table) AS \(tableAlias)"
        if !digits.isEmpty { from += " CROSS APPLY (SELECT \(digits.joined(separator: ", "))) AS [cutover_digits]" }
        if !texts.isEmpty { from += " CROSS APPLY (SELECT \(texts.joined(separator: ", "))) AS [cutover_texts]" }
        let joined = frames.isEmpty ? "CONVERT(nvarchar(max), N'')" : frames.joined(separator: " + ")
        return (from, "HASHBYTES('MD5', CONVERT(varchar(max), (\(joined)) COLLATE \(utf8Collation)))")
    }

    /// Per bucket of `width` keys from `lower` (both T-SQL bigint expressions) that has rows: its
    /// number, row count and hash sum, as `[bucket]`, `[rows]` and `[sum]`. `filter` makes the WHERE
    /// condition from the qualified key; nil when a column's form has no T-SQL.
    static func bucketQuery(
        _ columns: [ChecksumColumn], table: String, key quotedKey: String, lower: String, width: String, filter: ((String) -> String)? = nil
    ) -> String? {
        guard let row = rowHash(columns, table: table) else { return nil }
        let k = tableAlias + "." + quotedKey
        return "SELECT bucket AS [bucket], COUNT_BIG(*) AS [rows], \(sum("h")) AS [sum] "
            + "FROM (SELECT (CAST(\(k) AS bigint) - \(lower)) / \(width) AS bucket, \(row.hash) AS h FROM \(row.from)"
            + (filter.map { " WHERE " + $0(k) } ?? "") + ") AS hashed GROUP BY bucket"
    }

    /// The sum over rows of the first 60 bits of `hash` (a column of ``rowHash(_:table:)`` hashes), as
    /// decimal text: seven bytes as a non-negative bigint, then the high half of the eighth.
    public static func sum(_ hash: String) -> String {
        "CONVERT(varchar(40), SUM(CONVERT(decimal(38, 0), CONVERT(bigint, 0x00 + SUBSTRING(\(hash), 1, 7)) * 16 "
            + "+ CONVERT(int, SUBSTRING(\(hash), 8, 1)) / 16)))"
    }

    /// `length:text`, or `-` for NULL; both `nvarchar(max)`, so the concatenation of a row's frames
    /// is never cut at 4,000 characters. LEN drops trailing blanks, so it measures the text and a mark.
    static func frame(_ text: String) -> String {
        "CASE WHEN \(text) IS NULL THEN CONVERT(nvarchar(max), N'-') ELSE CONVERT(nvarchar(max), "
            + "CONVERT(nvarchar(20), LEN((\(text) + N'.') COLLATE \(scalarCollation)) - 1)) + N':' + \(text) END"
    }

    /// The form's text of the column `quoted`, whose SQL Server type is `type`, as `nvarchar(max)`;
    /// nil where the form has no T-SQL or does not fit the type.
    /// `digits` names the column's decimal text without its point (computed beside the table by
    /// ``rowHash(_:table:)``), for the number form.
    static func text(_ quoted: String, form: ChecksumForm, type: String, digits: String) -> String? {
        let base = String(type.lowercased().prefix { $0 != "(" })
        switch form {
        case .number(let scale):
            guard ["tinyint", "smallint", "int", "bigint", "decimal", "numeric", "money", "smallmoney"].contains(base), scale <= 38 else {
                return nil
            }
            // The value × 10^scale without arithmetic (which could round or overflow): its decimal
            // text at the form's scale without the point, leading zeros dropped.
            let significant = "SUBSTRING(\(digits), PATINDEX(N'%[1-9]%', \(digits)), 60)"
            return "CASE WHEN \(quoted) IS NULL THEN NULL WHEN \(quoted) = 0 THEN CONVERT(nvarchar(max), N'0') "
                + "WHEN \(quoted) < 0 THEN CONVERT(nvarchar(max), N'-' + \(significant)) ELSE CONVERT(nvarchar(max), \(significant)) END"
        case .boolean:
            guard base == "bit" else { return nil }
            return "CONVERT(nvarchar(max), CASE WHEN \(quoted) = 1 THEN N'1' WHEN \(quoted) = 0 THEN N'0' END)"
        case .text(let trimmed, let lowercased):
            // The text the connector reads (uniqueidentifier, xml, hierarchyid… through their expression).
            let read = SQLServerReading.expression(quoted: quoted, type: type) ?? quoted
            var text = "CONVERT(nvarchar(max), \(read))"
            // RTRIM drops blanks only, as the compare's CHAR trimming does.
            if trimmed { text = "RTRIM(\(text))" }
            if lowercased { text = "LOWER(\(text))" }
            return text
        case .binary:
            return "CONVERT(nvarchar(max), LOWER(CONVERT(varchar(max), CONVERT(varbinary(max), \(quoted)), 2)))"
        case .date:
            guard base == "date" else { return nil }
            return "CONVERT(nvarchar(max), DATEDIFF(day, CONVERT(date, '19700101', 112), \(quoted)))"
        // DATEDIFF_BIG counts microsecond boundaries: a 7th digit is dropped, as the compare drops it.
        case .time:
            guard base == "time" else { return nil }
            return "CONVERT(nvarchar(max), DATEDIFF_BIG(microsecond, CONVERT(time(7), '00:00:00', 108), \(quoted)))"
        case .timestamp(zoned: false):
            guard ["datetime", "datetime2", "smalldatetime"].contains(base), let read = SQLServerReading.expression(quoted: quoted, type: type) else {
                return nil
            }
            // Through the text the connector reads: datetime's 1/300 s ticks as the 3 digits it prints.
            return "CONVERT(nvarchar(max), DATEDIFF_BIG(microsecond, CONVERT(datetime2(7), '19700101', 112), CONVERT(datetime2(7), \(read), 121)))"
        case .timestamp(zoned: true):
            guard base == "datetimeoffset" else { return nil }
            return "CONVERT(nvarchar(max), DATEDIFF_BIG(microsecond, CAST('1970-01-01 00:00:00 +00:00' AS datetimeoffset(7)), \(quoted)))"
        // A float converts to binary as its IEEE-754 bits, most significant byte first. SQL Server
        // stores no NaN.
        case .float(let bits):
            guard base == "float" || base == "real" else { return nil }
            let bytes = bits == 32 ? 4 : 8
            return "CONVERT(nvarchar(max), LOWER(CONVERT(varchar(16), CONVERT(binary(\(bytes)), \(quoted)), 2)))"
        // SQL Server has no JSON type: a document in nvarchar is checksummed as text.
        case .json:
            return nil
        }
    }
}

extension SQLServerDialect {
    /// The portable checksum in T-SQL where the server has UTF-8 collations (``SQLServerChecksum``).
    public func portableChecksumSQL(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String? {
        guard utf8Collations else { return nil }
        // Literals past int's range are decimals in T-SQL: every bound is cast, so the bucket is integer division.
        let lower = "CAST(\(range.lowerBound) AS bigint)", upper = "CAST(\(range.upperBound) AS bigint)"
        return SQLServerChecksum.bucketQuery(
            columns, table: qualified(table), key: quote(key), lower: lower, width: "CAST(\(width) AS bigint)",
            filter: { k in "\(k) >= \(lower) AND \(k) < \(upper)" })
    }
}
