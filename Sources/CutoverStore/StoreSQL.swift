import CutoverCore
/// A statement for the store with its values bound, never spliced: in
/// `"SELECT … FROM runs WHERE id = \(id)"` the id becomes a parameter. Only what the code itself
/// writes goes in as text — `\(raw: Self.runColumns)`, a `StoreSQL` fragment built the same way
/// (a filter, with its own parameters) — and `\(json: text)` binds a JSON document the way the
/// backend stores one (`CAST(? AS JSONB)` on PostgreSQL, `PARSE_JSON(?)` on Snowflake).
struct StoreSQL: ExpressibleByStringInterpolation, Sendable {
    /// The statement with a `?` per bound value and ``jsonMarker`` where a JSON value goes.
    private(set) var text: String
    private(set) var parameters: [String?]

    /// Stands for a JSON parameter until the backend says how it binds one.
    static let jsonMarker = "\u{1}json\u{1}"

    init(stringLiteral value: String) {
        text = value
        parameters = []
    }

    init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
        parameters = stringInterpolation.parameters
    }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""
        var parameters: [String?] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 2)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }

        /// A value, bound as a parameter (NULL for nil).
        mutating func appendInterpolation(_ value: String?) {
            text += "?"
            parameters.append(value)
        }

        /// A whole number, bound as a parameter in its decimal text (NULL for nil).
        mutating func appendInterpolation<Number: BinaryInteger>(_ value: Number?) {
            appendInterpolation(value.map { String($0) })
        }

        /// A JSON document, bound as the backend stores JSON.
        mutating func appendInterpolation(json value: String?) {
            text += StoreSQL.jsonMarker
            parameters.append(value)
        }

        /// A fragment with its own bound values (a filter, a list of conditions).
        mutating func appendInterpolation(_ fragment: StoreSQL) {
            text += fragment.text
            parameters += fragment.parameters
        }

        /// SQL the code writes itself — column lists, table names from ``ArchivableTable`` — never a value.
        mutating func appendInterpolation(raw sql: String) { text += sql }
    }

    /// `parts` with `separator` between them, their parameters in order.
    static func joined(_ parts: [StoreSQL], separator: String) -> StoreSQL {
        var joined = StoreSQL(stringLiteral: "")
        for (index, part) in parts.enumerated() {
            if index > 0 { joined.text += separator }
            joined.text += part.text
            joined.parameters += part.parameters
        }
        return joined
    }

    static func + (left: StoreSQL, right: StoreSQL) -> StoreSQL { joined([left, right], separator: "") }

    var isEmpty: Bool { text.isEmpty }
}

extension StoreDatabase {
    /// Runs one statement with its bound values; rows come back as text.
    @discardableResult
    func execute(_ sql: StoreSQL) throws -> [[String?]] {
        let text = sql.text.contains(StoreSQL.jsonMarker) ? sql.text.replacingOccurrences(of: StoreSQL.jsonMarker, with: json()) : sql.text
        return try executeBound(text, sql.parameters)
    }

    /// The whole number a one-value query answers (a COUNT, a MAX); NULL — no rows — is 0, and
    /// anything else that is not a whole number is an error naming the query.
    func count(_ sql: StoreSQL) throws -> Int64 {
        guard let text = try execute(sql).first?.first ?? nil else { return 0 }
        guard let value = Value.text(text).wholeNumber else {
            throw CutoverError(.store, "\(sql.text) answered \(text), not a whole number", hint: "the store was changed by hand")
        }
        return value
    }
}
