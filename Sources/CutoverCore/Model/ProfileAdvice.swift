/// What a column's ``ValueProfile`` changes about its type: a canonical type that holds every
/// value seen (where one of the same kind does), and the evidence a person should look at where
/// none does. Engines that enforce their declared types have no profile and get no advice.
/// The catalog reader applies it (``apply(to:)``), so planner, mover and compare all work with the
/// type the values need; the declared one is kept here.
public struct ProfileAdvice: Sendable, Hashable, Codable {
    /// The type the declared type maps to.
    public var declared: CanonicalType
    /// The type to plan for: the declared one, or a wider one that holds every value seen.
    public var canonical: CanonicalType
    /// Why the type was widened or chosen, for the rationale.
    public var notes: [String] = []
    /// Values the planned type does not take as they are: the load refuses (or the engine would
    /// reinterpret) them, so the column needs a person's decision.
    public var evidence: [String] = []
    /// A type was chosen from the values because none was declared.
    public var inferred = false

    public var needsReview: Bool { !evidence.isEmpty || inferred }

    /// Replaces a profiled column's canonical type with the one its values need and keeps the
    /// advice when there is any.
    public static func apply(to column: inout Column) {
        let advice = ProfileAdvice(column)
        guard advice.canonical != advice.declared || !advice.notes.isEmpty || !advice.evidence.isEmpty || advice.unconstrainedDigits != nil else {
            return
        }
        column.canonical = advice.canonical
        column.advice = advice
    }

    public init(_ column: Column) {
        declared = column.canonical
        canonical = column.canonical
        guard let profile = column.profile, profile.total > profile.nulls else { return }
        let declared = column.nativeType.isEmpty ? "no type" : column.nativeType
        let examples = Self.shown(profile.examples)

        if column.canonical != .binary, !isUntyped {
            if profile.blobs > 0 {
                evidence.append(
                    "\(Self.values(profile.blobs, "BLOB value")) in a column declared \(declared)\(Self.shown(profile.examples.filter { $0.hasPrefix("BLOB of") })): bytes are not text, so the load refuses such values; map the column to a binary type in cutover.yml overrides or clean the source"
                )
            }
            if profile.invalidUTF8 > 0 {
                evidence.append(
                    "\(Self.values(profile.invalidUTF8, "TEXT value", verb: ("is", "are"))) not valid UTF-8: such text can only move as bytes, so the load refuses such values; map the column to a binary type or repair the text"
                )
            }
        }

        switch column.canonical {
        case .decimal(let precision, let scale):
            numberEvidence(profile, declared: declared, examples: examples)
            let neededScale = max(profile.maxScale ?? 0, scale ?? 0)
            guard let precision else {
                unconstrainedDigits = DecimalDigits(integer: profile.integerDigits, scale: neededScale)
                return
            }
            let integerDigits = max(profile.integerDigits, precision - (scale ?? 0))
            if integerDigits + neededScale > precision || neededScale > (scale ?? 0) {
                canonical = .decimal(precision: integerDigits + neededScale, scale: neededScale)
                notes.append(
                    "SQLite never enforced \(declared): values need \(integerDigits) integer and \(neededScale) fractional digits"
                        + (profile.maxScaleExample.map { " (e.g. \($0))" } ?? "") + ", so the type is widened to hold every value")
            }
        case .integer(let bits):
            numberEvidence(profile, declared: declared, examples: examples)
            if profile.fractional > 0 || profile.wideIntegers > 0 {
                let scale = profile.maxScale ?? 0
                canonical = .decimal(precision: max(profile.integerDigits, 1) + scale, scale: scale)
                let what =
                    profile.fractional > 0
                    ? "\(Self.values(profile.fractional, verb: ("has", "have"))) a fractional part"
                        + (profile.maxScaleExample.map { " (e.g. \($0))" } ?? "")
                    : "\(Self.values(profile.wideIntegers, "integer", verb: ("does", "do"))) not fit in 64 bits\(examples)"
                let change = "declared \(declared) but \(what): widened to an exact decimal that holds such values"
                if profile.fractional > 0 {
                    evidence.append(change + "; keep the decimal, or round such values in the source first")
                } else {
                    notes.append(change)
                }
            } else if bits < 64, let low = profile.minInteger, let high = profile.maxInteger,
                low < -(Int64(1) << (bits - 1)) || high > (Int64(1) << (bits - 1)) - 1
            {
                canonical = .integer(bits: 64)
                notes.append(
                    "SQLite integers are 64-bit whatever the declared \(declared): values range \(low)…\(high), so the type is widened to 64 bits")
            }
        case .float:
            if profile.nonNumericTexts > 0 {
                evidence.append(
                    "\(Self.values(profile.nonNumericTexts, verb: ("is not a number", "are not numbers")))\(examples): a \(declared) column cannot take such values"
                )
            }
        case .boolean:
            if profile.nonBooleans > 0 {
                evidence.append(
                    "\(Self.values(profile.nonBooleans, verb: ("is", "are"))) not 0, 1, true or false\(examples): a boolean cannot hold such values; map the column to an integer or text type, or clean the source"
                )
            }
        case .date, .time, .timestamp:
            timeAdvice(profile, declared: declared, examples: examples)
        case .text(let max?):
            if let longest = profile.maxTextLength, longest > max {
                canonical = .text(maxLength: longest)
                notes.append(
                    "SQLite never enforced the length \(max): the longest value has \(longest) characters, so the type is widened to hold it")
            }
        case .unknown:
            inferType(profile)
        default: break
        }
    }

    /// For a decimal without declared precision: the digits the values need, for targets whose
    /// unconstrained decimal would lose some (Snowflake's NUMBER has a fixed scale).
    public var unconstrainedDigits: DecimalDigits?

    /// The most digits a column's values have before and after the decimal point.
    public struct DecimalDigits: Sendable, Hashable, Codable {
        public var integer: Int
        public var scale: Int
    }

    /// ` (e.g. 'a', 'b')`, or nothing.
    static func shown(_ examples: [String]) -> String {
        examples.isEmpty ? "" : " (e.g. " + examples.map { "'\($0)'" }.joined(separator: ", ") + ")"
    }

    /// `3 values are`, `1 BLOB value is`: a count with its noun and verb agreeing.
    static func values(_ n: Int64, _ noun: String = "value", verb: (singular: String, plural: String)? = nil) -> String {
        Format.count(n) + " " + noun + (n == 1 ? "" : "s") + (verb.map { " " + (n == 1 ? $0.singular : $0.plural) } ?? "")
    }

    private var isUntyped: Bool { if case .unknown = canonical { true } else { false } }

    private mutating func numberEvidence(_ profile: ValueProfile, declared: String, examples: String) {
        if profile.nonNumericTexts > 0 {
            evidence.append(
                "\(Self.values(profile.nonNumericTexts, verb: ("is not a number", "are not numbers")))\(examples): a \(declared) column cannot take such values; map the column to text in cutover.yml overrides, or clean the source"
            )
        }
        if profile.nonFinite > 0 {
            evidence.append(
                "\(Self.values(profile.nonFinite, verb: ("is", "are"))) NaN or infinite\(examples): no exact decimal holds such values; map the column to a float type"
            )
        }
    }

    private mutating func timeAdvice(_ profile: ValueProfile, declared: String, examples: String) {
        let spellings = profile.timeSpellings
        func count(_ spelling: String) -> Int64 { spellings[spelling] ?? 0 }
        let summary = spellings.sorted { $0.key < $1.key }.map { "\($0.key) \(Format.count($0.value))" }.joined(separator: ", ")
        let withOffset = count(TimeSpelling.isoTimestampWithOffset.rawValue)
        switch canonical {
        case .date where count(TimeSpelling.isoTimestamp.rawValue) + withOffset > 0:
            canonical = .timestamp(withTimeZone: withOffset > 0, precision: nil)
            evidence.append(
                "declared \(declared) but \(Self.values(count(TimeSpelling.isoTimestamp.rawValue) + withOffset, verb: ("carries", "carry"))) a time of day (\(summary)): a date would drop it, so the type is widened to a timestamp; confirm that is wanted"
            )
        case .timestamp(false, let precision) where withOffset > 0:
            canonical = .timestamp(withTimeZone: true, precision: precision)
            evidence.append(
                "\(Self.values(withOffset, verb: ("carries", "carry"))) a UTC offset (\(summary)): a timestamp without zone would drop it, so the type is widened to a zoned timestamp that keeps the instant; confirm that is wanted"
            )
        default: break
        }
        let epochs = count("epoch-number")
        if epochs > 0 {
            if case .timestamp = canonical {
                notes.append("\(Self.values(epochs, verb: ("is a number", "are numbers"))), read as Unix epoch seconds")
            } else {
                evidence.append(
                    "\(Self.values(epochs, verb: ("is a number", "are numbers")))\(examples): a \(declared) column cannot take such values")
            }
        }
        let planned = canonical
        let others = spellings.filter { spelling, _ in
            spelling != "epoch-number" && !(TimeSpelling(rawValue: spelling)?.fits(planned) ?? false)
        }.values.reduce(0, +)
        if others > 0 {
            let shown = Self.shown(profile.examples.filter { !TimeSpelling($0).fits(planned) })
            evidence.append(
                "\(Self.values(others, verb: ("is", "are"))) not ISO-8601 in the form a \(planned) column takes\(shown) (\(summary)): engines read such text by their own rules or not at all; convert such values in the source or map the column to text"
            )
        }
    }

    /// A column with no declared type: the one storage class its values share, if they share one.
    private mutating func inferType(_ profile: ValueProfile) {
        let classes = [("integer", profile.integers), ("real", profile.reals), ("text", profile.texts), ("blob", profile.blobs)].filter { $0.1 > 0 }
        let seen = classes.map { "\(Format.count($0.1)) \($0.0)" }.joined(separator: ", ")
        let exactInDouble: Int64 = 1 << 53
        switch Set(classes.map(\.0)) {
        case ["integer"]: canonical = .integer(bits: 64)
        case ["real"]: canonical = .float(bits: 64)
        case ["integer", "real"] where (profile.minInteger ?? 0) > -exactInDouble && (profile.maxInteger ?? 0) < exactInDouble:
            canonical = .float(bits: 64)
        case ["text"]: canonical = .text(maxLength: nil)
        case ["blob"]: canonical = .binary
        default:
            evidence.append(
                "no declared type and values of several kinds (\(seen)): no one type holds such values; choose one in cutover.yml overrides")
            return
        }
        inferred = true
        notes.append("no declared type: chosen from the values (\(seen))")
    }
}
