import Foundation

/// One token of SQL as every dialect Cutover reads writes it: T-SQL's `[brackets]` and `#temp`
/// tables, PostgreSQL's `"quotes"` and `::casts`, MySQL-style backticks, `@variables` and `$1`
/// parameters. Comments are dropped.
public struct SQLToken: Sendable, Hashable {
    /// What a token is.
    public enum Kind: Sendable, Hashable {
        /// A name; `quoted` when it was written in quotes or brackets (never a keyword then).
        case identifier(quoted: Bool)
        case string, number, parameter, symbol
    }
    public var kind: Kind
    public var text: String

    /// The keyword this token is, upper-cased; nil for quoted names and everything but words.
    var keyword: String? {
        if case .identifier(quoted: false) = kind { return text.uppercased() }
        return nil
    }

    var isName: Bool { if case .identifier = kind { return true } else { return false } }
}

/// Splits SQL text into tokens.
public enum SQLTokenizer {
    public static func tokens(_ sql: String) -> [SQLToken] {
        let chars = Array(sql.unicodeScalars)
        var tokens: [SQLToken] = []
        var i = 0
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
        func isWord(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) || c == "$" }
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace { i += 1; continue }
            if c == "-", peek(1) == "-" {  // line comment
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", peek(1) == "*" {  // block comment, nested as PostgreSQL and T-SQL allow
                var depth = 0
                repeat {
                    if peek() == "/", peek(1) == "*" {
                        depth += 1; i += 2
                    } else if peek() == "*", peek(1) == "/" {
                        depth -= 1; i += 2
                    } else {
                        i += 1
                    }
                } while depth > 0 && i < chars.count
                continue
            }
            if c == "'" || ((c == "N" || c == "n" || c == "E" || c == "e") && peek(1) == "'") {  // 'text', N'text', E'text'; '' is a quote
                if c != "'" { i += 1 }
                i += 1
                var text = ""
                while i < chars.count {
                    if chars[i] == "'" {
                        if peek(1) == "'" { text.unicodeScalars.append("'"); i += 2; continue }
                        i += 1
                        break
                    }
                    text.unicodeScalars.append(chars[i])
                    i += 1
                }
                tokens.append(SQLToken(kind: .string, text: text))
                continue
            }
            if c == "\"" || c == "[" || c == "`" {  // quoted names
                let close: Unicode.Scalar = c == "[" ? "]" : c
                i += 1
                var text = ""
                while i < chars.count {
                    if chars[i] == close {
                        if close != "]", peek(1) == close { text.unicodeScalars.append(close); i += 2; continue }
                        i += 1
                        break
                    }
                    text.unicodeScalars.append(chars[i])
                    i += 1
                }
                tokens.append(SQLToken(kind: .identifier(quoted: true), text: text))
                continue
            }
            if ("0"..."9").contains(c) || (c == "." && peek(1).map { ("0"..."9").contains($0) } == true) {
                var text = ""
                while let d = peek(), ("0"..."9").contains(d) || d == "." || d == "e" || d == "E" { text.unicodeScalars.append(d); i += 1 }
                tokens.append(SQLToken(kind: .number, text: text))
                continue
            }
            if c == "@" || c == ":" && peek(1).map(isWord) == true && tokens.last?.text != ":" || c == "?"
                || c == "$" && peek(1).map { ("0"..."9").contains($0) } == true
            {
                var text = String(c)
                i += 1
                while let d = peek(), isWord(d) || d == "@" { text.unicodeScalars.append(d); i += 1 }
                tokens.append(SQLToken(kind: .parameter, text: text))
                continue
            }
            if c == "#" || isWord(c) {  // names; T-SQL temp tables keep their #
                var text = ""
                while let d = peek(), isWord(d) || (d == "#" && text.allSatisfy { $0 == "#" }) { text.unicodeScalars.append(d); i += 1 }
                tokens.append(SQLToken(kind: .identifier(quoted: false), text: text))
                continue
            }
            let pair = peek(1).map { String(c) + String($0) }
            if let pair, ["<=", ">=", "<>", "!=", "::", "||", "=="].contains(pair) {
                tokens.append(SQLToken(kind: .symbol, text: pair))
                i += 2
                continue
            }
            tokens.append(SQLToken(kind: .symbol, text: String(c)))
            i += 1
        }
        return tokens
    }
}

/// What one statement reads and how: its tables, the column pairs it joins on, the columns it
/// filters, groups and aggregates by. A recovering reader, not a validating parser: it reads what
/// it recognizes and skips what it does not, so a dialect's oddities cost a detail, never the
/// statement.
public struct StatementUse: Sendable, Hashable, Codable {
    /// `schema.table` as written (quotes removed), lower-cased.
    public var tables: Set<String> = []
    /// Temp tables (`#t`) and table variables, which are not migrated.
    public var tempTables: Set<String> = []
    /// `table.column = table.column`, each pair in name order.
    public var joins: Set<JoinPair> = []
    /// `table.column`.
    public var filtered: Set<String> = []
    public var grouped: Set<String> = []
    public var aggregated: Set<String> = []
    /// SELECT, INSERT, UPDATE, DELETE, MERGE or another first keyword.
    public var kind: String = ""

    /// Two `table.column` names a statement compares, in name order.
    public struct JoinPair: Sendable, Hashable, Codable, Comparable {
        public var left: String
        public var right: String
        init(_ a: String, _ b: String) { (left, right) = a < b ? (a, b) : (b, a) }
        public static func < (a: JoinPair, b: JoinPair) -> Bool { (a.left, a.right) < (b.left, b.right) }
    }
}

/// Reads a statement's tables, joins and column uses from its tokens.
public enum StatementReader {
    /// Words after which a name is a table.
    static let tableIntroducers: Set<String> = ["FROM", "JOIN", "UPDATE", "INTO", "USING", "APPLY"]
    /// Words that end a FROM list, and cannot be an alias.
    static let clauseWords: Set<String> = [
        "WHERE", "GROUP", "ORDER", "HAVING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER", "ON", "USING", "UNION", "EXCEPT",
        "INTERSECT", "LIMIT", "OFFSET", "FETCH", "FOR", "WINDOW", "SET", "VALUES", "SELECT", "WHEN", "THEN", "ELSE", "END", "AS", "WITH",
        "OPTION", "RETURNING", "OUTPUT", "QUALIFY", "TABLESAMPLE", "NATURAL", "LATERAL", "APPLY", "PIVOT", "UNPIVOT", "AND", "OR", "NOT",
        "IN", "IS", "BETWEEN", "LIKE", "ILIKE", "DEFAULT", "MATCHED", "BY", "NOLOCK", "WITHIN", "OVER", "PARTITION", "INTO",
    ]
    static let comparison: Set<String> = ["=", "<", ">", "<=", ">=", "<>", "!=", "=="]
    static let aggregates: Set<String> = [
        "SUM", "COUNT", "AVG", "MIN", "MAX", "STDDEV", "VARIANCE", "COUNT_BIG", "MEDIAN", "STRING_AGG", "ARRAY_AGG", "LISTAGG",
    ]

    public static func read(_ sql: String) -> StatementUse {
        let tokens = SQLTokenizer.tokens(sql)
        var use = StatementUse()
        use.kind = tokens.first { $0.keyword != nil }?.keyword ?? ""
        if use.kind == "WITH" {  // the statement after the CTEs: the first verb outside their parentheses
            var depth = 0
            use.kind = "SELECT"
            for token in tokens {
                if token.text == "(" { depth += 1 } else if token.text == ")" { depth -= 1 }
                if depth == 0, let word = token.keyword, ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"].contains(word) {
                    use.kind = word
                    break
                }
            }
        }
        let ctes = cteNames(tokens)
        var aliases: [String: String] = [:]  // alias or bare table name → table
        var i = 0
        // Tables and their aliases.
        while i < tokens.count {
            guard let word = tokens[i].keyword,
                tableIntroducers.contains(word) || (word == "MERGE" && tokens[safe: i + 1]?.keyword != "INTO")
                    || (word == "DELETE" && tokens[safe: i + 1]?.keyword != "FROM" && tokens[safe: i + 1]?.isName == true)
            else { i += 1; continue }
            i += 1
            var inList = true
            while inList, i < tokens.count {
                guard let (name, next) = qualifiedName(tokens, at: i) else { break }
                i = next
                if tokens[safe: i]?.text == "(" { break }  // a function (table-valued), not a table
                let lower = name.lowercased()
                let bare = String(lower.split(separator: ".").last ?? Substring(lower))
                if ctes.contains(bare) {
                    aliases[bare] = nil
                } else if bare.hasPrefix("#") || bare.hasPrefix("@") {
                    use.tempTables.insert(bare)
                } else {
                    use.tables.insert(lower)
                    aliases[bare] = lower
                    aliases[lower] = lower
                }
                // [AS] alias
                if tokens[safe: i]?.keyword == "AS" { i += 1 }
                if let alias = tokens[safe: i], alias.isName, !clauseWords.contains(alias.keyword ?? "") {
                    if !ctes.contains(bare), !bare.hasPrefix("#") { aliases[alias.text.lowercased()] = lower }
                    i += 1
                }
                // WITH (NOLOCK) and the like
                if tokens[safe: i]?.keyword == "WITH", tokens[safe: i + 1]?.text == "(" { i = skipParens(tokens, from: i + 1) }
                if tokens[safe: i]?.text == ",", word == "FROM" { i += 1 } else { inList = false }
            }
        }
        let single = use.tables.count == 1 ? use.tables.first : nil
        func column(_ at: Int) -> (name: String, next: Int)? {
            guard let (name, next) = qualifiedName(tokens, at: at), tokens[safe: next]?.text != "(" else { return nil }
            let parts = name.lowercased().split(separator: ".").map(String.init)
            if parts.count >= 2 {
                let owner = parts.dropLast().joined(separator: ".")
                guard let table = aliases[owner] ?? aliases[String(parts[parts.count - 2])] else { return nil }
                return ("\(table).\(parts.last ?? "")", next)
            }
            if clauseWords.contains(name.uppercased())
                || ["NULL", "TRUE", "FALSE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "GETDATE"].contains(name.uppercased())
            {
                return nil
            }
            // An empty quoted name ("") names no column.
            guard let single, let only = parts.first else { return nil }
            return ("\(single).\(only)", next)
        }
        // Joins and filters: `x op y` where one or both sides are columns; group by; aggregates.
        i = 0
        var clause = ""
        while i < tokens.count {
            let token = tokens[i]
            if let word = token.keyword {
                switch word {
                case "WHERE", "ON", "HAVING", "SELECT", "SET": clause = word
                case "GROUP" where tokens[safe: i + 1]?.keyword == "BY":
                    clause = "GROUP"
                    i += 2
                    continue
                case "ORDER", "LIMIT", "FROM", "UNION", "WINDOW": clause = word
                default: break
                }
                if aggregates.contains(word), tokens[safe: i + 1]?.text == "(" {
                    var j = i + 2
                    let end = skipParens(tokens, from: i + 1)
                    while j < end {
                        if let (name, next) = column(j) { use.aggregated.insert(name); j = next } else { j += 1 }
                    }
                }
            }
            guard let (left, next) = column(i) else { i += 1; continue }
            if clause == "GROUP" {
                use.grouped.insert(left)
            } else if ["WHERE", "ON", "HAVING"].contains(clause), let op = tokens[safe: next] {
                if comparison.contains(op.text) {
                    if let (right, after) = column(next + 1), right != left {
                        let tables = (
                            left.split(separator: ".").dropLast().joined(separator: "."),
                            right.split(separator: ".").dropLast().joined(separator: ".")
                        )
                        if tables.0 != tables.1 { use.joins.insert(.init(left, right)) } else { use.filtered.formUnion([left, right]) }
                        i = after
                        continue
                    }
                    use.filtered.insert(left)
                } else if ["IN", "BETWEEN", "LIKE", "ILIKE", "IS", "NOT"].contains(op.keyword ?? "") {
                    use.filtered.insert(left)
                }
            }
            i = next
        }
        return use
    }

    /// `a.b.c` (quotes removed) starting at `index`, and the index after it.
    static func qualifiedName(_ tokens: [SQLToken], at index: Int) -> (String, Int)? {
        guard let first = tokens[safe: index], first.isName, !(first.keyword.map { clauseWords.contains($0) && $0 != "DEFAULT" } ?? false) else {
            return nil
        }
        var parts = [first.text]
        var i = index + 1
        while tokens[safe: i]?.text == ".", let part = tokens[safe: i + 1], part.isName {
            parts.append(part.text)
            i += 2
        }
        return (parts.joined(separator: "."), i)
    }

    /// The index after the parenthesis that closes the one at `open`.
    static func skipParens(_ tokens: [SQLToken], from open: Int) -> Int {
        var depth = 0
        var i = open
        while i < tokens.count {
            if tokens[i].text == "(" { depth += 1 }
            if tokens[i].text == ")" {
                depth -= 1
                if depth == 0 { return i + 1 }
            }
            i += 1
        }
        return i
    }

    /// Names a WITH clause defines: `WITH a AS (…), b (x, y) AS (…)`.
    static func cteNames(_ tokens: [SQLToken]) -> Set<String> {
        var names: Set<String> = []
        var i = 0
        while i < tokens.count {
            guard tokens[i].keyword == "WITH", tokens[safe: i + 1]?.text != "(" else { i += 1; continue }
            i += 1
            if tokens[safe: i]?.keyword == "RECURSIVE" { i += 1 }
            while let name = tokens[safe: i], name.isName {
                var j = i + 1
                if tokens[safe: j]?.text == "(" { j = skipParens(tokens, from: j) }
                guard tokens[safe: j]?.keyword == "AS" else { break }
                names.insert(name.text.lowercased())
                j += 1
                if tokens[safe: j]?.keyword == "MATERIALIZED" || tokens[safe: j]?.keyword == "NOT" { j += tokens[safe: j]?.keyword == "NOT" ? 2 : 1 }
                guard tokens[safe: j]?.text == "(" else { break }
                j = skipParens(tokens, from: j)
                guard tokens[safe: j]?.text == "," else { i = j; break }
                i = j + 1
            }
        }
        return names
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}
