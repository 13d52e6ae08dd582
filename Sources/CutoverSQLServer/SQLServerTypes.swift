import CutoverCore

/// SQL Server column types (as `sys.columns` joined with `sys.types` describe them) → canonical
/// types, with what a person should know about each on its way to another engine.
public enum SQLServerTypes {
    /// One column as the catalog describes it. `maxLength` is in bytes, as `sys.columns.max_length`
    /// gives it (-1 for `(max)`; `nvarchar(10)` is 20).
    public struct Declared: Sendable, Hashable, Codable {
        public var type: String
        public var maxLength: Int?
        public var precision: Int?
        public var scale: Int?
        public var collation: String?
        public var isComputed: Bool
        public var computedDefinition: String?
        public var isSparse: Bool

        public init(
            type: String, maxLength: Int? = nil, precision: Int? = nil, scale: Int? = nil, collation: String? = nil, isComputed: Bool = false,
            computedDefinition: String? = nil, isSparse: Bool = false
        ) {
            self.type = type
            self.maxLength = maxLength
            self.precision = precision
            self.scale = scale
            self.collation = collation
            self.isComputed = isComputed
            self.computedDefinition = computedDefinition
            self.isSparse = isSparse
        }
    }

    /// The mapping of one column: its canonical type, the native type as SQL Server writes it,
    /// notes for the plan's rationale, and evidence that needs a person's decision.
    public struct Mapping: Sendable, Hashable {
        public var canonical: CanonicalType
        public var native: String
        public var notes: [String] = []
        public var evidence: [String] = []
    }

    public static func map(_ column: Declared) -> Mapping {
        let type = column.type.lowercased()
        let max = column.maxLength
        let isMax = max == -1
        var mapping: Mapping
        switch type {
        case "bit": mapping = Mapping(canonical: .boolean, native: "bit", notes: ["bit holds 0, 1 or NULL: a boolean"])
        case "tinyint":
            mapping = Mapping(
                canonical: .integer(bits: 16), native: "tinyint",
                notes: ["tinyint is unsigned (0–255), wider than a signed 8-bit integer: carried as a 16-bit integer"])
        case "smallint": mapping = Mapping(canonical: .integer(bits: 16), native: "smallint")
        case "int": mapping = Mapping(canonical: .integer(bits: 32), native: "int")
        case "bigint": mapping = Mapping(canonical: .integer(bits: 64), native: "bigint")
        case "decimal", "numeric":
            let precision = column.precision ?? 18, scale = column.scale ?? 0
            mapping = Mapping(canonical: .decimal(precision: precision, scale: scale), native: "\(type)(\(precision),\(scale))")
        case "money":
            mapping = Mapping(
                canonical: .decimal(precision: 19, scale: 4), native: "money",
                notes: ["money is a 64-bit count of 1/10,000 units: exact as a decimal(19,4), without its currency formatting"])
        case "smallmoney":
            mapping = Mapping(
                canonical: .decimal(precision: 10, scale: 4), native: "smallmoney",
                notes: ["smallmoney is a 32-bit count of 1/10,000 units: exact as a decimal(10,4)"])
        case "real": mapping = Mapping(canonical: .float(bits: 32), native: "real")
        case "float":
            // float(1–24) is stored as real; sys.columns gives the precision in bits (24 or 53).
            let bits = (column.precision ?? 53) <= 24 ? 32 : 64
            mapping = Mapping(canonical: .float(bits: bits), native: bits == 32 ? "float(24)" : "float")
        case "date": mapping = Mapping(canonical: .date, native: "date")
        case "time":
            let digits = column.scale ?? 7
            mapping = Mapping(canonical: .time(withTimeZone: false), native: "time(\(digits))")
            if digits > 6 {
                mapping.notes.append(
                    "time(\(digits)) counts 100 ns ticks: Snowflake TIME(9) keeps them; PostgreSQL keeps microseconds, so the 7th digit is rounded")
            }
        case "datetime":
            mapping = Mapping(
                canonical: .timestamp(withTimeZone: false, precision: 3), native: "datetime",
                notes: ["datetime rounds to 1/300 s (milliseconds ending in 0, 3 or 7): every value is exact with 3 fractional digits"])
        case "smalldatetime":
            mapping = Mapping(
                canonical: .timestamp(withTimeZone: false, precision: 0), native: "smalldatetime",
                notes: ["smalldatetime has minute precision (its seconds are always 00)"])
        case "datetime2":
            let digits = column.scale ?? 7
            mapping = Mapping(canonical: .timestamp(withTimeZone: false, precision: digits), native: "datetime2(\(digits))")
            if digits > 6 {
                mapping.notes.append(
                    "datetime2(\(digits)) counts 100 ns ticks: Snowflake TIMESTAMP_NTZ(9) keeps them; PostgreSQL keeps microseconds, so the 7th digit is rounded"
                )
            }
        case "datetimeoffset":
            let digits = column.scale ?? 7
            mapping = Mapping(
                canonical: .timestamp(withTimeZone: true, precision: digits), native: "datetimeoffset(\(digits))",
                notes: [
                    "datetimeoffset keeps each value's UTC offset: Snowflake TIMESTAMP_TZ keeps it too; PostgreSQL timestamptz keeps the instant (in UTC) and drops the offset, so values compare as instants"
                ])
        case "char", "varchar":
            let length = isMax ? nil : max
            mapping = Mapping(
                canonical: type == "char" ? .char(length: length ?? 1) : .text(maxLength: length),
                native: "\(type)(\(isMax ? "max" : String(max ?? 1)))")
            if let collation = column.collation, collation.uppercased().contains("UTF8") {
                mapping.notes.append("collation \(collation) stores UTF-8: the length counts bytes, so it holds at most that many characters")
            } else if column.collation != nil {
                mapping.notes.append("\(type) stores the collation's code page, not Unicode: the text is read as Unicode and moved as UTF-8")
            }
        case "nchar", "nvarchar":
            let length = isMax ? nil : (max ?? 2) / 2
            mapping = Mapping(
                canonical: type == "nchar" ? .char(length: length ?? 1) : .text(maxLength: length),
                native: "\(type)(\(isMax ? "max" : String(length ?? 1)))",
                notes: [
                    "\(type) lengths count UTF-16 code units (a character outside the Basic Multilingual Plane, such as an emoji, takes two): every value fits a target length counted in characters"
                ])
        case "text", "ntext":
            mapping = Mapping(
                canonical: .text(maxLength: nil), native: type, notes: ["\(type) is a deprecated large-object type: moved as unbounded text"])
        case "binary", "varbinary":
            mapping = Mapping(canonical: .binary, native: "\(type)(\(isMax ? "max" : String(max ?? 1)))")
        case "image": mapping = Mapping(canonical: .binary, native: "image", notes: ["image is a deprecated large-object type: moved as bytes"])
        case "uniqueidentifier":
            mapping = Mapping(
                canonical: .uuid, native: "uniqueidentifier",
                notes: [
                    "uniqueidentifier is read as its text form, which is the standard one; its 16 bytes are stored mixed-endian (the first three groups little-endian), so it is never moved or compared as binary(16)"
                ])
        case "xml":
            mapping = Mapping(
                canonical: .text(maxLength: nil), native: "xml",
                notes: [
                    "xml is moved as its text (CONVERT(nvarchar(max), …)); SQL Server normalizes it on the way in, so it is compared as that text"
                ])
        case "sql_variant":
            mapping = Mapping(
                canonical: .text(maxLength: nil), native: "sql_variant",
                evidence: [
                    "sql_variant holds a value of a different base type in each row: it is moved as the text of its value, losing that type (SQL_VARIANT_PROPERTY(col, 'BaseType') lists them); decide a target type"
                ])
        case "hierarchyid":
            mapping = Mapping(
                canonical: .text(maxLength: 4000), native: "hierarchyid",
                notes: ["hierarchyid is moved as its path text (ToString(): /1/3/2/); ordering by the text is not the tree's depth-first order"])
        case "geography", "geometry":
            mapping = Mapping(
                canonical: .text(maxLength: nil), native: type,
                evidence: [
                    "\(type) is moved as well-known text (STAsText()), without its SRID: choose a spatial target type (Snowflake \(type.uppercased()), PostGIS) and load the text into it"
                ])
        case "rowversion", "timestamp":
            mapping = Mapping(
                canonical: .binary, native: "rowversion",
                evidence: [
                    "rowversion is a database-wide change counter SQL Server sets itself: its 8 bytes are moved as binary, but they mean nothing on the target; drop the column or keep it only to detect changes at the source"
                ])
        default:
            mapping = Mapping(canonical: .unknown(native: column.type), native: column.type)
        }
        if let collation = column.collation {
            if collation.uppercased().contains("_CI") {
                mapping.notes.append(
                    "collation \(collation) compares case-insensitively ('a' = 'A'); Snowflake and PostgreSQL compare case-sensitively by default, so keys, joins and DISTINCT on this column can disagree"
                )
            }
            if collation.uppercased().contains("_AI") {
                mapping.notes.append("collation \(collation) ignores accents ('é' = 'e'): the target will not")
            }
        }
        if column.isComputed {
            mapping.notes.append(
                "computed column\(column.computedDefinition.map { " (\($0))" } ?? ""): its values are moved; recreate the expression on the target if it must stay computed"
            )
        }
        if column.isSparse { mapping.notes.append("sparse column: its NULLs take no space at the source; they are ordinary NULLs on the target") }
        return mapping
    }
}
