import CutoverCore

/// Snowflake's native types → canonical types (for Snowflake sources), and the SQL that turns the
/// text a load stages into each canonical type (for Snowflake targets).
enum SnowflakeTypes {
    /// `dataType` as INFORMATION_SCHEMA.COLUMNS spells it (NUMBER, TEXT, TIMESTAMP_NTZ, …).
    static func canonical(dataType: String, precision: Int?, scale: Int?, length: Int?) -> CanonicalType {
        switch dataType.uppercased() {
        case "NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT":
            let p = precision ?? 38, s = scale ?? 0
            guard s == 0 else { return .decimal(precision: p, scale: s) }
            switch p {
            case ...4: return .integer(bits: 16)
            case ...9: return .integer(bits: 32)
            case ...18: return .integer(bits: 64)
            default: return .decimal(precision: p, scale: 0)
            }
        case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL": return .float(bits: 64)
        case "TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER", "NCHAR", "NVARCHAR":
            // 16,777,216 is Snowflake's default (unbounded) length.
            guard let length, length < 16_777_216 else { return .text(maxLength: nil) }
            return .text(maxLength: length)
        case "BOOLEAN": return .boolean
        case "DATE": return .date
        case "TIME": return .time(withTimeZone: false)
        case "TIMESTAMP_NTZ", "DATETIME", "TIMESTAMP": return .timestamp(withTimeZone: false, precision: scale)
        case "TIMESTAMP_TZ", "TIMESTAMP_LTZ": return .timestamp(withTimeZone: true, precision: scale)
        case "BINARY", "VARBINARY": return .binary
        case "VARIANT", "OBJECT", "ARRAY": return .json(binary: true)
        default: return .unknown(native: dataType)
        }
    }

    /// The expression converting a staged VARCHAR column (see ``SnowflakeCSV``) to `type`.
    static func conversion(_ stagedColumn: String, to type: CanonicalType) -> String {
        let quoted = SnowflakeCSV.unmarked(stagedColumn)
        switch type {
        case .boolean: return "TO_BOOLEAN(\(quoted))"
        case .integer: return "\(quoted)::NUMBER(38,0)"
        case .decimal(let p, let s):
            guard let p, p <= 38 else { return "\(quoted)::NUMBER(38,\(min(s ?? 10, 37)))" }
            return "\(quoted)::NUMBER(\(p),\(s ?? 0))"
        case .float: return "\(quoted)::FLOAT"
        case .binary: return "TO_BINARY(\(quoted), 'HEX')"
        case .date: return "\(quoted)::DATE"
        case .time: return "\(quoted)::TIME"
        case .timestamp(let tz, _): return "\(quoted)::\(tz ? "TIMESTAMP_TZ" : "TIMESTAMP_NTZ")"
        case .json, .array: return "PARSE_JSON(\(quoted))"
        default: return quoted
        }
    }
}

/// Encodes rows as CSV for a VARCHAR staging table. NULL is an empty unquoted field; every other
/// value is quoted and carries a one-character prefix (``marker``) that the load strips again. So no
/// value — not '', not the text `\N` — can ever be read as NULL, whichever way a server treats
/// quoted empty fields or NULL_IF. Bytes are hex; timestamps with zones ISO 8601 (`T`, `+00:00`).
enum SnowflakeCSV {
    static func fileFormat(gzip: Bool) -> String {
        #"FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = () EMPTY_FIELD_AS_NULL = TRUE COMPRESSION = "#
            + (gzip ? "GZIP" : "NONE") + ")"
    }
    static let marker = "v"

    /// The staged column with the marker removed.
    static func unmarked(_ quotedColumn: String) -> String { "SUBSTR(\(quotedColumn), 2)" }

    static func append(_ value: Value, as type: CanonicalType, to out: inout [UInt8]) {
        guard let text = staged(value, as: type) else { return }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The staged form: marker + text, or nil for NULL (also what array binds send).
    static func staged(_ value: Value, as type: CanonicalType) -> String? {
        text(value, as: type).map { marker + $0 }
    }

    /// The text a value is staged as, or nil for NULL. Also used for array binds.
    static func text(_ value: Value, as type: CanonicalType) -> String? {
        switch value {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .int(let i):
            if case .boolean = type { return i != 0 ? "true" : "false" }
            return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            if case .decimal = type { return DecimalText.plain(d) }
            return d.description
        case .bytes(let b): return b.map { hex($0) }.joined()
        case .text(let s):
            switch type {
            case .timestamp(true, _):
                guard let utc = Timestamp.normalize(s, withTimeZone: true) else { return s }
                return utc.replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "Z", with: "+00:00")
            case .time(true):
                // Snowflake TIME has no zone (the plan says so): keep the wall-clock part.
                return String(s.prefix { $0 != "+" && $0 != "-" })
            case .char:
                // CHAR's padding is not part of the value (its canonical form drops it); Snowflake's CHAR is VARCHAR and would keep it.
                return CanonicalForm.text(value, as: type)
            case .array(let element):
                // PARSE_JSON reads JSON, not PostgreSQL's `{…}`; already JSON (another Snowflake) passes.
                return ArrayLiteral.json(s, element: element) ?? s
            case .float:
                switch s.lowercased() {
                case "infinity", "+infinity": return "inf"
                case "-infinity": return "-inf"
                default: return s
                }
            default: return s
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
