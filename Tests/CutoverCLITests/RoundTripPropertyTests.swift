import CutoverCore
import CutoverPostgres
import CutoverTesting
import Foundation
import Testing

/// Random awkward rows taken PostgreSQL → another engine → PostgreSQL with `cutover migrate`. Every
/// hop ends either validated (exit 0) or failed with the column or value named (exit 1); when both
/// hops say "validated", PostgreSQL itself must find the final copy equal to the original, each
/// column cast back to its original type — an oracle that shares no code with Cutover's compare.
/// Even rounds draw only values every engine holds (they must come back exact); odd rounds add the
/// ones some engine cannot hold (NaN in a NUMBER, -0.0 in SQLite's REAL, 30-digit decimals), which
/// must fail by name. Replay a failing run with `CUTOVER_FUZZ_SEED`.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct RoundTripPropertyTests {
    /// Column name and PostgreSQL type of the generated table.
    static let columns: [(String, String)] = [
        ("n", "numeric(20,6)"), ("nu", "numeric"), ("f8", "double precision"), ("f4", "real"), ("i2", "smallint"), ("i8", "bigint"),
        ("t", "text"), ("vc", "varchar(10)"), ("c", "char(5)"), ("b", "bytea"), ("d", "date"), ("ts", "timestamp"), ("tz", "timestamptz"),
        ("tm", "time"), ("bo", "boolean"), ("j", "jsonb"), ("u", "uuid"),
    ]

    @Test func pgToSQLiteAndBackIsExactOrFailsNamingTheValue() async throws {
        try await roundTrip(through: { _, _ in "sqlite:middle.db" })
    }

    @Test(.enabled(if: TestEnvironment.hasSnowflake)) func pgToSnowflakeAndBackIsExactOrFailsNamingTheValue() async throws {
        // By array binds: the emulator's COPY sniffs each staged file's CSV dialect and gives up on
        // quoted fields mixing CR and LF, which Snowflake itself reads as written.
        try await TestEnvironment.withSnowflakeDatabase(["load": "binds"]) { sf in
            try await roundTrip(through: { _, _ in TestEnvironment.cliText(sf) })
        }
    }

    func roundTrip(through middle: (String, Int) -> String) async throws {
        let seed = FuzzGenerator.seed
        var generator = FuzzGenerator(seed: seed)
        for round in 0..<4 {
            let wild = round % 2 == 1
            try await TestEnvironment.withTemporaryDirectory { dir in
                try await TestEnvironment.withPostgresDatabase { original in
                    try await TestEnvironment.withPostgresDatabase { copy in
                        let ddl =
                            "CREATE TABLE awkward (id integer PRIMARY KEY, "
                            + Self.columns.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")"
                        try await TestEnvironment.psql(original, ddl)
                        for id in 1...60 {
                            let values = Self.columns.map { Self.literal(for: $0.1, wild: wild, using: &generator) }
                            try await TestEnvironment.psql(original, "INSERT INTO awkward VALUES (\(id), \(values.joined(separator: ", ")))")
                        }
                        let via = middle(dir, round)
                        let context = "seed \(seed) round \(round) (\(wild ? "wild" : "portable") values) via \(via.prefix(9))"
                        let out = try await CLI.run(
                            ["migrate", "--source", TestEnvironment.cliText(original), "--target", via, "--replace"], in: dir)
                        try Self.expectExactOrNamed(out, context, wild: wild)
                        guard out.status == 0 else { return }
                        let back = try await CLI.run(["migrate", "--source", via, "--target", TestEnvironment.cliText(copy)], in: dir)
                        try Self.expectExactOrNamed(back, context, wild: wild)
                        guard back.status == 0 else { return }
                        let before = try await Self.rendered(original)
                        let after = try await Self.rendered(copy)
                        #expect(before.count == after.count, "\(context): row counts")
                        for (a, b) in zip(before, after) where a != b {
                            let changed = zip(["id"] + Self.columns.map(\.0), zip(a, b)).filter { $0.1.0 != $0.1.1 }
                                .map { "\($0.0): \($0.1.0.debugText) → \($0.1.1.debugText)" }
                            Issue.record("\(context): validated but changed, id \(a.first?.displayText ?? "?"): \(changed.joined(separator: "; "))")
                        }
                    }
                }
            }
        }
    }

    /// Exit 0, or exit 1 with a changed value or a refused column named. Never 3 (a crash or an
    /// unexplained failure) and never a silent pass over a difference.
    static func expectExactOrNamed(_ result: CLI.Result, _ context: String, wild: Bool) throws {
        #expect(result.status == 0 || (wild && result.status == 1), "\(context): \(result.output)")
        if result.status == 1 {
            let named =
                result.output.contains(" → ")
                || Self.columns.contains { result.output.contains("awkward.\($0.0)") || result.output.contains("AWKWARD.\($0.0.uppercased())") }
            #expect(named, "\(context): a failure must name the value or column\n\(result.output)")
        }
    }

    /// Every row of the one table named awkward in any case and schema (Snowflake upper-cases the
    /// names it creates), each column cast by PostgreSQL to its original type and rendered as text.
    static func rendered(_ url: ConnectionURL) async throws -> [[Value]] {
        let connector = try await PostgresConnector(url: url)
        let found = try await connector.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE lower(table_name) = 'awkward'")
        let rows = found.rows.map { $0.map(\.displayText) }
        guard let first = rows.first else { throw CutoverError(.tableNotFound, "no table awkward in \(url)") }
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        func actual(_ name: String) -> String { quoted(rows.first { $0[2].lowercased() == name }?[2] ?? name) }
        // Numbers compare by value: a target type with a fixed scale may add trailing zeros.
        let casts = Self.columns.map { $0.1.hasPrefix("numeric") ? "trim_scale(\(actual($0.0))::\($0.1))::text" : "(\(actual($0.0))::\($0.1))::text" }
        return try await connector.execute(
            "SELECT \(actual("id")), \(casts.joined(separator: ", ")) FROM \(quoted(first[0])).\(quoted(first[1])) ORDER BY 1"
        ).rows
    }

    // MARK: Awkward values

    /// A literal of `type`; `wild` adds values some engine cannot hold.
    static func literal(for type: String, wild: Bool, using g: inout FuzzGenerator) -> String {
        if Int.random(in: 0..<12, using: &g) == 0 { return "NULL" }
        func pick(_ options: [String], wild extra: [String] = []) -> String {
            let all = wild ? options + extra : options
            return all[Int.random(in: 0..<all.count, using: &g)]
        }
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &g))) }) }
        switch type {
        case "numeric(20,6)":
            return pick(
                ["0", "-0.000001", "99999999999999.999999", "-99999999999999.999999", "0.5", "1"]
                    + ["\(pick(["", "-"]))\(digits(Int.random(in: 1...14, using: &g))).\(digits(Int.random(in: 0...6, using: &g)))"])
        case "numeric":
            return "'"
                + pick(
                    [
                        "0.0000000001", "1234567890123456789012345678.1234567891", "-1e-10", "1e25",
                        "\(digits(Int.random(in: 1...28, using: &g))).\(digits(Int.random(in: 1...10, using: &g)))",
                    ],
                    wild: [
                        "NaN", "0.000000000000000000001", "123456789012345678901234567890.123456789", "-1e-20",
                        "\(digits(Int.random(in: 1...30, using: &g))).\(digits(Int.random(in: 1...20, using: &g)))",
                    ]) + "'"
        case "double precision":
            let random = Double(bitPattern: g.next())
            return "'"
                + pick(
                    [
                        "NaN", "Infinity", "-Infinity", "5e-324", "1.7976931348623157e308", "0.1", "2.2250738585072014e-308",
                        random.isNaN || random == 0 ? "NaN" : "\(random)",
                    ], wild: ["-0"]) + "'::float8"
        case "real":
            let random = Float(bitPattern: UInt32(truncatingIfNeeded: g.next()))
            return "'" + pick(["NaN", "Infinity", "1e-45", "3.4028235e38", "0.1", random.isNaN || random == 0 ? "NaN" : "\(random)"], wild: ["-0"])
                + "'::float4"
        case "smallint": return pick(["-32768", "32767", "0", String(Int.random(in: -32768...32767, using: &g))])
        case "bigint": return pick(["-9223372036854775808", "9223372036854775807", "0", String(Int64.random(in: .min ... .max, using: &g))])
        case "text": return sqlText(randomText(using: &g, maxLength: 40))
        case "varchar(10)": return sqlText(randomText(using: &g, maxLength: 10))
        case "char(5)": return sqlText(pick(["", "a", "ab ", " x", "héllo", "12345"]))
        case "bytea":
            let bytes = (0..<Int.random(in: 0...24, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            return "'\\x" + bytes.map { String(format: "%02x", $0) }.joined() + "'::bytea"
        case "date":
            return "'"
                + pick([
                    "0001-01-01", "9999-12-31", "2000-02-29", "1969-12-31", "1970-01-01",
                    String(
                        format: "%04d-%02d-%02d", Int.random(in: 1...9999, using: &g), Int.random(in: 1...12, using: &g),
                        Int.random(in: 1...28, using: &g)),
                ]) + "'"
        case "timestamp", "timestamptz":
            let stamp = String(
                format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", Int.random(in: 1...9999, using: &g), Int.random(in: 1...12, using: &g),
                Int.random(in: 1...28, using: &g), Int.random(in: 0...23, using: &g), Int.random(in: 0...59, using: &g),
                Int.random(in: 0...59, using: &g), Int.random(in: 0...999_999, using: &g))
            let zone = type == "timestamptz" ? pick(["+00", "+05:30", "-08", "Z"]) : ""
            return "'" + pick(["1969-12-31 23:59:59.999999", "2000-01-01 00:00:00", "1970-01-01 00:00:00.000001", stamp]) + zone + "'"
        case "time":
            return "'"
                + pick([
                    "00:00:00", "23:59:59.999999", "12:34:56.000001",
                    String(
                        format: "%02d:%02d:%02d.%06d", Int.random(in: 0...23, using: &g), Int.random(in: 0...59, using: &g),
                        Int.random(in: 0...59, using: &g), Int.random(in: 0...999_999, using: &g)),
                ]) + "'"
        case "boolean": return pick(["true", "false"])
        case "jsonb":
            return sqlText(
                pick(
                    [
                        "{}", "[]", "null", "\"\"", "{\"a\": [1, 2.5, -0, 1e-7], \"b\": {\"é\": \"\\u00e9\\n\"}}",
                        "{\"z\": 1, \"a\": 2}", "[{\"k\": null}, true, false]", "{\"t\": \(jsonString(randomText(using: &g, maxLength: 12)))}",
                    ],
                    wild: ["12345678901234567890.5"])) + "::jsonb"
        case "uuid": return "'" + UUID().uuidString.lowercased() + "'"
        default: fatalError("no generator for \(type)")
        }
    }

    /// Text with what breaks naive pipelines: quotes, backslashes, tabs, newlines, CR, combining
    /// marks, right-to-left text, emoji, trailing spaces, characters outside the BMP.
    static func randomText(using g: inout FuzzGenerator, maxLength: Int) -> String {
        let pieces = [
            "a", "Z", " ", "'", "\"", "\\", "\t", "\n", "\r", ",", "|", "é", "e\u{301}", "ß", "ש", "中", "😀", "👩‍👩‍👧", "\u{FEFF}",
            "\u{7F}", "\u{1}", "%", "_", "NULL", "\\N", "0", "𝔘",
        ]
        var text = ""
        for _ in 0..<Int.random(in: 0...maxLength, using: &g) {
            let next = pieces[Int.random(in: 0..<pieces.count, using: &g)]
            if (text + next).unicodeScalars.count > maxLength { break }
            text += next
        }
        return text
    }

    static func sqlText(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static func jsonString(_ s: String) -> String {
        "\""
            + s.unicodeScalars.map { scalar in
                switch scalar {
                case "\"": "\\\""
                case "\\": "\\\\"
                case _ where scalar.value < 0x20: String(format: "\\u%04x", scalar.value)
                default: String(scalar)
                }
            }.joined() + "\""
    }
}

extension Value {
    /// The value with invisible characters spelled out, for a failure message.
    var debugText: String { isNull ? "NULL" : String(reflecting: displayText) }
}
