/// What a column really holds, as opposed to what it declares — for engines whose declared types
/// do not constrain values (SQLite stores any value in any column). Filled by profiling the data;
/// the planner widens a type to hold every value seen, or flags the column with this evidence.
public struct ValueProfile: Sendable, Hashable, Codable {
    /// Values by storage class.
    public var nulls: Int64 = 0
    public var integers: Int64 = 0
    public var reals: Int64 = 0
    public var texts: Int64 = 0
    public var blobs: Int64 = 0
    /// TEXT values that are not valid UTF-8 (they travel as bytes).
    public var invalidUTF8: Int64 = 0
    /// The longest text, in characters.
    public var maxTextLength: Int?
    /// For numbers (integers, reals, numeric text): the most digits before and after the point.
    public var maxIntegerDigits: Int?
    public var maxScale: Int?
    /// Integers written as text that do not fit in 64 bits.
    public var wideIntegers: Int64 = 0
    /// Text that is not a number, in a column declared numeric.
    public var nonNumericTexts: Int64 = 0
    /// For date and time columns: how many values are in each spelling (`iso-date`,
    /// `iso-timestamp`, `epoch-number`, `other`).
    public var timeFormats: [String: Int64]?
    /// For boolean columns: values other than 0/1/true/false.
    public var nonBooleans: Int64 = 0
    /// A few values that do not fit the declared type, as evidence.
    public var examples: [String] = []

    public init() {}

    public var total: Int64 { nulls + integers + reals + texts + blobs }
}
