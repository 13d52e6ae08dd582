import CutoverCore

/// Snowflake's types and SQL, used to plan Snowflake targets. (The REST client that runs this SQL
/// against an account comes with the Snowflake connector.)
public struct SnowflakeDialect: Dialect {
    public var nameFolding: NameFolding { .upper }
    /// When set, reads see every table as it was at this instant (a TIMESTAMP_TZ literal's text),
    /// through Time Travel.
    public var asOf: String?

    public init(asOf: String? = nil) { self.asOf = asOf }
    public var engine: ConnectionURL.Engine { .snowflake }
    public var supportsIndexes: Bool { false }
    public var defaultSchema: String? { "PUBLIC" }

    /// Plain lower-case names become upper-case so they can be used unquoted, as Snowflake users
    /// expect; names with other characters or mixed case keep their spelling (and need quotes).
    public func targetName(_ sourceName: String) -> String {
        let plain = sourceName.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        let startsWell = sourceName.first.map { $0.isLetter || $0 == "_" } ?? false
        return plain && startsWell ? sourceName.uppercased() : sourceName
    }

    public func readSource(_ table: TableRef) -> String {
        guard let asOf else { return qualified(table) }
        return qualified(table) + " AT(TIMESTAMP => \(literal(asOf))::TIMESTAMP_TZ)"
    }

    /// Hex digits become an integer by position in `0123456789abcdef` rather than through
    /// `TO_NUMBER(…, 'XXX')` or `MD5_NUMBER_LOWER64`, so the same SQL also runs on the emulator.
    public func portableChecksumSQL(
        _ table: TableRef, columns: [ChecksumColumn], key: String, range: Range<Int64>, width: Int64
    ) -> String? {
        portableChecksumQuery(
            table, columns: columns, key: key, range: range, width: width,
            text: { column, form in
                switch form {
                case .number(let scale):
                    return "TO_VARCHAR(CAST(\(column) * 1\(String(repeating: "0", count: scale)) AS NUMBER(38, 0)))"
                case .boolean: return "CASE WHEN \(column) THEN '1' WHEN NOT \(column) THEN '0' END"
                case .text(let trimmed, let lowercased):
                    let text = trimmed ? "RTRIM(TO_VARCHAR(\(column)), ' ')" : "TO_VARCHAR(\(column))"
                    return lowercased ? "LOWER(\(text))" : text
                case .binary: return "LOWER(HEX_ENCODE(\(column)))"
                case .date: return "TO_VARCHAR(DATEDIFF(day, '1970-01-01'::DATE, \(column)))"
                case .time: return "TO_VARCHAR(DATEDIFF(microsecond, '00:00:00'::TIME, \(column)))"
                case .timestamp: return "TO_VARCHAR(DATE_PART(EPOCH_MICROSECOND, \(column)))"
                // No SQL function gives a double's bits, and VARIANT prints JSON its own way.
                case .float, .json: return nil
                }
            },
            hash: { hex in
                let digits = PortableChecksum.hexDigits
                return "("
                    + (1...digits).map { i in
                        "(POSITION(SUBSTR(\(hex), \(i), 1), '0123456789abcdef') - 1) * \(UInt64(1) << (4 * UInt64(digits - i)))"
                    }.joined(separator: " + ") + ")"
            },
            bucket: { "CAST((\($0) - MOD(\($0), \(width))) / \(width) AS INTEGER)" },
            // The cast keeps the emulator's SUM exact (it sums other numbers as floats).
            sum: { "TO_VARCHAR(SUM(CAST(\($0) AS NUMBER(38, 0))))" })
    }

    public func typeChoice(for type: CanonicalType) -> TypeChoice {
        switch type {
        case .boolean: return TypeChoice("BOOLEAN", "same type")
        case .integer(let bits):
            switch bits {
            case ...16: return TypeChoice("NUMBER(5,0)", "SMALLINT range fits 5 digits")
            case ...32: return TypeChoice("NUMBER(10,0)", "INTEGER range fits 10 digits")
            default: return TypeChoice("NUMBER(19,0)", "BIGINT range fits 19 digits")
            }
        case .decimal(let p, let s):
            guard let p else {
                return TypeChoice(
                    "NUMBER(38,10)",
                    "unconstrained numeric has no declared scale: NUMBER(38,10) holds 28 integer and 10 fractional digits; check the data's real range",
                    lossy: true, review: true)
            }
            if p > 38 {
                return TypeChoice("NUMBER(38,\(min(s ?? 0, 37)))", "precision \(p) exceeds Snowflake's 38 digits", lossy: true, review: true)
            }
            return TypeChoice("NUMBER(\(p),\(s ?? 0))", "exact decimal: \(p) digits, \(s ?? 0) after the point")
        case .float(let bits):
            return TypeChoice(
                "FLOAT", bits <= 32 ? "Snowflake FLOAT is 64-bit: every 32-bit value fits" : "64-bit IEEE float, NaN and ±Infinity included")
        case .text(let max):
            guard let max else { return TypeChoice("VARCHAR", "unbounded text (16 MB limit)") }
            return TypeChoice("VARCHAR(\(max))", "same maximum length")
        case .char(let n): return TypeChoice("CHAR(\(n))", "Snowflake CHAR is VARCHAR(n): values keep the padding they had when read", review: false)
        case .binary: return TypeChoice("BINARY", "raw bytes (8 MB limit per value)")
        case .date: return TypeChoice("DATE", "same type")
        case .time(let tz):
            return tz
                ? TypeChoice("TIME", "Snowflake TIME has no zone: the offset is dropped", lossy: true, review: true)
                : TypeChoice("TIME", "time of day")
        case .timestamp(let tz, let p):
            let precision = p.map { "(\(min($0, 9)))" } ?? ""
            return tz
                ? TypeChoice("TIMESTAMP_TZ\(precision)", "instant with offset; values are written in UTC")
                : TypeChoice("TIMESTAMP_NTZ\(precision)", "wall-clock date-time without zone")
        case .interval:
            return TypeChoice(
                "VARCHAR",
                "Snowflake has no INTERVAL column type: kept as ISO-8601 duration text, exact but no longer "
                    + "an interval (no arithmetic, no ordering; months and days stay separate units)", lossy: true, review: true)
        case .uuid: return TypeChoice("VARCHAR(36)", "Snowflake has no UUID type: canonical 36-character text")
        case .json(let binary):
            // jsonb has already collapsed duplicate keys and dropped spacing; json keeps both, VARIANT does not.
            return binary
                ? TypeChoice(
                    "VARIANT",
                    "semi-structured JSON; key order is not kept; numbers beyond 38 digits become doubles "
                        + "(validation compares numbers exactly and names any that changed)")
                : TypeChoice(
                    "VARIANT",
                    "json text into VARIANT: duplicate keys collapse to the last, spacing and key order go, numbers "
                        + "beyond 38 digits become doubles; validation names any document that changed — map to VARCHAR to keep the text",
                    lossy: true, review: true)
        case .array(let element):
            return TypeChoice("ARRAY", "semi-structured ARRAY of \(element); element types are not enforced")
        case .enumeration(let name, let values):
            let longest = values.map(\.count).max() ?? 1
            return TypeChoice("VARCHAR(\(max(longest, 1)))", "enum \(name) becomes text; allowed values: \(values.joined(separator: ", "))")
        case .unknown(let native):
            return TypeChoice("VARCHAR", "no rule for \(native): its text form is kept", lossy: true, review: true)
        }
    }

    /// Snowflake keeps its statistics itself.
    public func analyze(_ table: TableRef) -> String? { nil }
    /// Snowflake has no physical row address; HASH over the columns is deterministic and treats
    /// NULL as a value, so every row lands in exactly one bucket.
    public func hashBucket(_ quotedColumns: [String], count: Int) -> String? {
        "MOD(ABS(HASH(\(quotedColumns.joined(separator: ", ")))), \(count))"
    }

    public func identityClause(for kind: IdentityKind, type: CanonicalType) -> String? {
        guard case .integer = type else { return nil }
        return Self.identityFromOne
    }

    static let identityFromOne = "IDENTITY(1,1)"

    /// Snowflake's reserved keywords (its documentation's "Reserved & limited keywords", the reserved ones).
    public var reservedWords: Set<String> {
        [
            "ACCOUNT", "ALL", "ALTER", "AND", "ANY", "AS", "BETWEEN", "BY", "CASE", "CAST", "CHECK", "COLUMN", "CONNECT", "CONNECTION", "CONSTRAINT",
            "CREATE", "CROSS", "CURRENT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DATABASE", "DELETE", "DISTINCT",
            "DROP",
            "ELSE", "EXISTS", "FALSE", "FOLLOWING", "FOR", "FROM", "FULL", "GRANT", "GROUP", "GSCLUSTER", "HAVING", "ILIKE", "IN", "INCREMENT",
            "INNER",
            "INSERT", "INTERSECT", "INTO", "IS", "ISSUE", "JOIN", "LATERAL", "LEFT", "LIKE", "LOCALTIME", "LOCALTIMESTAMP", "MINUS", "NATURAL", "NOT",
            "NULL", "OF", "ON", "OR", "ORDER", "ORGANIZATION", "QUALIFY", "REGEXP", "REVOKE", "RIGHT", "RLIKE", "ROW", "ROWS", "SAMPLE", "SCHEMA",
            "SELECT", "SET", "SOME", "START", "TABLE", "TABLESAMPLE", "THEN", "TO", "TRIGGER", "TRUE", "TRY_CAST", "UNION", "UNIQUE", "UPDATE",
            "USING", "VALUES", "VIEW", "WHEN", "WHENEVER", "WHERE", "WITH",
        ]
    }

    public func createSequence(_ sequence: TableRef, start: Int64, increment: Int64) -> String? {
        "CREATE SEQUENCE IF NOT EXISTS \(qualified(sequence)) START = \(start) INCREMENT = \(increment)"
    }

    /// Snowflake cannot restart an identity, so the table is created with it starting past the
    /// source's largest value.
    public func identityStart(column: String, in createDDL: [String]) -> ((Int64) -> [String])? {
        let definition = quote(column) + " "
        return { next in
            createDDL.map { statement in
                statement.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                    guard line.trimmingCharacters(in: .whitespaces).hasPrefix(definition), line.contains(Self.identityFromOne) else {
                        return String(line)
                    }
                    return line.replacingOccurrences(of: Self.identityFromOne, with: "IDENTITY(\(next),1)")
                }.joined(separator: "\n")
            }
        }
    }

    public func byteOrder(_ quotedColumn: String, type: CanonicalType) -> String {
        switch type {
        case .text, .char, .enumeration, .unknown: return "COLLATE(\(quotedColumn), '')"
        default: return quotedColumn
        }
    }
}
