import CutoverCore
import Foundation

/// What the copilot can recognise in a question besides words: the names it knows.
public struct CopilotVocabulary: Sendable, Codable, Hashable {
    /// Table names as the store and the analyzed catalogs spell them (`public.orders` or `orders`).
    public var tables: [String]
    public var environments: [String]
    /// Check names (`row_count`, `row_diff`, …) a question may name.
    public var checks: [String]

    public init(tables: [String] = [], environments: [String] = [], checks: [String] = []) {
        self.tables = tables
        self.environments = environments
        self.checks = checks
    }
    /// Any list may be left out of a file.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tables = try c.decodeIfPresent([String].self, forKey: .tables) ?? []
        environments = try c.decodeIfPresent([String].self, forKey: .environments) ?? []
        checks = try c.decodeIfPresent([String].self, forKey: .checks) ?? []
    }
}

/// The values a question fills in: a period, a table, a status, a limit …
public struct CopilotSlots: Sendable, Codable, Hashable {
    /// `[from, to)` in UTC, with the words it came from.
    public struct Period: Sendable, Codable, Hashable {
        public var from: Date
        public var to: Date
        public var words: String
    }

    public var period: Period?
    public var table: String?
    /// failed, succeeded, running, cancelled, warning, late.
    public var status: String?
    /// migrate, validate, diff, analyze, plan, pipeline.
    public var kind: String?
    public var run: String?
    public var check: String?
    public var limit: Int?
    /// error or warn.
    public var level: String?
    public var environment: String?

    /// The filled values as text, by slot name (what an answer shows and the evaluation compares).
    public var parameters: [String: String] {
        var values: [String: String] = [:]
        if let period {
            values["from"] = CopilotQuestion.day(period.from)
            values["to"] = CopilotQuestion.day(period.to)
        }
        values["table"] = table
        values["status"] = status
        values["kind"] = kind
        values["run"] = run
        values["check"] = check
        values["limit"] = limit.map(String.init)
        values["level"] = level
        values["environment"] = environment
        return values
    }
}

/// A question read into the words that choose the query and the values that fill it in.
///
/// Values are recognised first and taken out of the words (`last month`, `orders`, `top 5`, a run
/// id), so a table named `track` does not vote for an intent about tracks. Status and kind words
/// stay in as words too: "failed runs" is both a filter and what the question is about.
public struct CopilotQuestion: Sendable {
    public var text: String
    /// Stemmed content words, in order, stop words removed.
    public var terms: [String]
    public var slots: CopilotSlots
    /// Words that ask for a change (delete, drop …): the copilot only reads.
    public var asksToWrite: [String]

    public init(_ text: String, vocabulary: CopilotVocabulary, now: Date) {
        self.text = text
        var words = Self.words(text)
        var taken = Set<Int>()
        var slots = CopilotSlots()
        slots.period = Self.period(in: words, now: now, taken: &taken)
        slots.limit = Self.limit(in: words, taken: &taken)
        for (index, word) in words.enumerated() where !taken.contains(index) {
            if slots.run == nil, Self.isRunID(word) {
                slots.run = word
                taken.insert(index)
            } else if slots.check == nil, let check = vocabulary.checks.first(where: { $0.lowercased() == word }) {
                slots.check = check
                taken.insert(index)
            } else if slots.table == nil, let table = Self.table(named: word, in: vocabulary.tables) {
                slots.table = table
                taken.insert(index)
            } else if slots.environment == nil, let environment = vocabulary.environments.first(where: { $0.lowercased() == word }) {
                slots.environment = environment
                taken.insert(index)
            }
        }
        for (index, word) in words.enumerated() where !taken.contains(index) {
            if slots.status == nil, let status = Self.statuses[word] { slots.status = status }
            if slots.kind == nil, let kind = Self.kinds[word] { slots.kind = kind }
            if slots.level == nil, let level = Self.levels[word] { slots.level = level }
        }
        asksToWrite = words.filter(Self.writeVerbs.contains)
        words = words.enumerated().filter { !taken.contains($0.offset) }.map(\.element)
        terms = words.filter { !Self.stopWords.contains($0) }.map(Self.stem).filter { !$0.isEmpty }
        self.slots = slots
    }

    // MARK: Words

    /// Lowercased words: letters, digits, `_`, `.`, `-` and `:` inside a word (table names,
    /// dates, run ids); everything else separates. An apostrophe ends the word (`run's` → `run`).
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var skipping = false
        func flush() {
            let word = current.trimmingCharacters(in: CharacterSet(charactersIn: ".-:"))
            if !word.isEmpty { words.append(word) }
            current = ""
        }
        for character in text.lowercased() {
            if character == "'" || character == "’" {
                flush()
                skipping = true
            } else if character.isLetter || character.isNumber || "_.-:".contains(character) {
                if !skipping { current.append(character) }
            } else {
                skipping = false
                flush()
            }
        }
        flush()
        return words
    }

    /// A light stemmer: enough for `failures`/`failed`/`failing` to meet at `fail`. Documents and
    /// questions go through the same function, so only consistency matters.
    static func stem(_ word: String) -> String {
        if let lemma = lemmas[word] { return lemma }
        var stem = word
        for (suffix, replacement) in [("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")] {
            if stem.hasSuffix(suffix), stem.count - suffix.count >= 3, !(suffix == "s" && stem.hasSuffix("ss")) {
                stem = String(stem.dropLast(suffix.count)) + replacement
                break
            }
        }
        return lemmas[stem] ?? stem
    }

    static let lemmas: [String: String] = [
        "failure": "fail", "failures": "fail", "failing": "fail", "failed": "fail", "fails": "fail", "broken": "fail", "errored": "fail",
        "slowest": "slow", "slower": "slow", "longest": "slow", "largest": "large", "biggest": "large", "bigger": "large", "big": "large",
        "ran": "run", "running": "running", "succeeded": "succe", "successful": "succe", "success": "succe", "succeed": "succe",
        "migrations": "migrat", "migration": "migrat", "migrated": "migrat", "migrate": "migrat", "moved": "move", "moves": "move",
        "validations": "valid", "validation": "valid", "validated": "valid", "validate": "valid", "checks": "check", "checked": "check",
        "tables": "table", "columns": "column", "pipelines": "pipeline", "queries": "query", "latest": "recent", "newest": "recent",
        "last": "recent", "recently": "recent", "warnings": "warn", "warning": "warn", "errors": "error", "retries": "retry",
        "retried": "retry", "rejected": "reject", "rejects": "reject", "alerts": "alert", "alerting": "alert", "firing": "fire",
        "analysed": "analyz", "analyzed": "analyz", "analysis": "analyz", "analyze": "analyz", "most": "most", "keys": "key",
        "diffs": "diff", "differences": "diff", "different": "diff", "rows": "row", "loads": "load", "loaded": "load", "loading": "load",
        "stale": "late", "behind": "late", "overdue": "late", "lagging": "late", "lag": "late", "joins": "join", "joined": "join",
        "who": "who", "users": "user", "refused": "refuse", "denied": "refuse", "forbidden": "refuse",
    ]

    static let stopWords: Set<String> = [
        "a", "an", "the", "of", "in", "on", "for", "to", "me", "show", "list", "what", "which", "how", "is", "are", "was", "were",
        "did", "do", "does", "give", "tell", "about", "all", "any", "there", "have", "has", "had", "with", "by", "from", "and", "or",
        "i", "we", "our", "my", "please", "can", "could", "you", "get", "find", "at", "it", "its", "that", "this", "these", "those",
        "be", "been", "per", "each", "so", "far", "ever", "where", "why", "doing", "going", "look", "looking", "whose", "up", "right", "now",
        "currently", "current",
        "anything", "something", "some", "see", "let", "know", "would", "like", "want", "need", "into", "onto", "than", "then", "one",
        "ones", "time", "times", "number", "count", "many", "much", "total", "whole", "them", "they", "their", "us", "want",
    ]

    static let statuses: [String: String] = [
        "failed": "failed", "failing": "failed", "failures": "failed", "failure": "failed", "fail": "failed", "fails": "failed", "broken": "failed",
        "succeeded": "succeeded", "successful": "succeeded", "passed": "succeeded", "passing": "succeeded", "green": "succeeded",
        "running": "running", "cancelled": "cancelled", "canceled": "cancelled", "warned": "warning",
        "late": "late", "stale": "late", "overdue": "late", "behind": "late", "lagging": "late",
    ]

    static let kinds: [String: String] = [
        "migration": "migrate", "migrations": "migrate", "migrate": "migrate", "migrated": "migrate", "validation": "validate",
        "validations": "validate", "diff": "diff", "diffs": "diff", "analysis": "analyze", "analyses": "analyze", "analyze": "analyze",
        "plan": "plan", "plans": "plan",
    ]

    static let levels: [String: String] = ["error": "error", "errors": "error", "warning": "warn", "warnings": "warn", "warn": "warn"]

    static let writeVerbs: Set<String> = [
        "delete", "drop", "truncate", "update", "insert", "alter", "create", "grant", "revoke", "remove", "purge", "rename", "merge",
    ]

    static func isRunID(_ word: String) -> Bool {
        let parts = word.split(separator: "-")
        return parts.count == 3 && parts[0].count == 8 && parts[1].count == 6 && parts[2].count == 4
            && parts[0].allSatisfy(\.isNumber) && parts[1].allSatisfy(\.isNumber) && parts[2].allSatisfy(\.isHexDigit)
    }

    /// The vocabulary's spelling of a table the question names, by whole name or by the name
    /// without its schema.
    static func table(named word: String, in tables: [String]) -> String? {
        tables.first { $0.lowercased() == word } ?? tables.first { $0.split(separator: ".").last.map { $0.lowercased() == word } ?? false }
    }

    // MARK: Limits

    /// `top 5`, `first 10`, `5 slowest`, `last 3 runs` (but not `last 3 days`: that is a period).
    static func limit(in words: [String], taken: inout Set<Int>) -> Int? {
        for (index, word) in words.enumerated() where !taken.contains(index) {
            guard let number = Int(word), (1...1000).contains(number) else { continue }
            let before = index > 0 ? words[index - 1] : ""
            let after = index + 1 < words.count ? words[index + 1] : ""
            if ["top", "first", "last", "latest", "recent", "newest"].contains(before) || limitWords.contains(after) {
                taken.insert(index)
                // "top" and "first" say only how many; "last 5 runs" also says which.
                if ["top", "first"].contains(before) { taken.insert(index - 1) }
                return number
            }
        }
        return nil
    }

    static let limitWords: Set<String> = [
        "slowest", "largest", "biggest", "latest", "recent", "newest", "most", "longest", "runs", "migrations", "validations",
        "checks", "tables", "errors", "alerts", "pipelines", "failures", "failed", "events", "joins", "columns",
    ]

    // MARK: Periods

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = .gmt
        return calendar
    }

    static let months = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
    ]

    static func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    static func date(_ word: String) -> Date? {
        let parts = word.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), parts[0].count == 4 else { return nil }
        return calendar.date(from: DateComponents(year: year, month: month, day: day))
    }

    /// The first period the words name; the words it used are marked taken.
    static func period(in words: [String], now: Date, taken: inout Set<Int>) -> CopilotSlots.Period? {
        let calendar = Self.calendar
        let today = calendar.startOfDay(for: now)
        func word(_ index: Int) -> String { words.indices.contains(index) ? words[index] : "" }
        func start(of unit: Calendar.Component, _ date: Date) -> Date { calendar.dateInterval(of: unit, for: date)?.start ?? date }
        func add(_ unit: Calendar.Component, _ value: Int, _ date: Date) -> Date { calendar.date(byAdding: unit, value: value, to: date) ?? date }
        func found(_ from: Date, _ to: Date, _ indexes: ClosedRange<Int>) -> CopilotSlots.Period {
            taken.formUnion(indexes)
            return .init(from: from, to: to, words: indexes.map { words[$0] }.joined(separator: " "))
        }
        let units: [String: Calendar.Component] = [
            "hour": .hour, "hours": .hour, "day": .day, "days": .day, "week": .weekOfYear, "weeks": .weekOfYear, "month": .month,
            "months": .month, "year": .year, "years": .year,
        ]
        for index in words.indices {
            let current = words[index]
            switch current {
            case "today": return found(today, add(.day, 1, today), index...index)
            case "yesterday": return found(add(.day, -1, today), today, index...index)
            case "this", "last", "previous", "past":
                let next = word(index + 1)
                if let count = Int(next), count > 0, let unit = units[word(index + 2)] {  // last 7 days
                    return found(add(unit, -count, now), now, index...(index + 2))
                }
                if let unit = units[next] {
                    let anchor: Calendar.Component = unit == .hour ? .hour : unit
                    if current == "this" { return found(start(of: anchor, now), add(anchor, 1, start(of: anchor, now)), index...(index + 1)) }
                    if current == "past" { return found(add(unit, -1, now), now, index...(index + 1)) }
                    let thisOne = start(of: anchor, now)
                    return found(add(anchor, -1, thisOne), thisOne, index...(index + 1))
                }
            case "since":
                if let from = date(word(index + 1)) { return found(from, max(now, add(.day, 1, from)), index...(index + 1)) }
                if let month = months.firstIndex(of: word(index + 1)) {
                    let from = monthStart(month + 1, year: Int(word(index + 2)), now: now)
                    return found(from, max(now, from), index...(index + 1))
                }
            case "between", "from":
                if let from = date(word(index + 1)), ["and", "to", "until"].contains(word(index + 2)), let to = date(word(index + 3)) {
                    return found(from, add(.day, 1, to), index...(index + 3))
                }
            default:
                if let day = date(current) {
                    let first = ["on"].contains(word(index - 1)) ? index - 1 : index
                    return found(day, add(.day, 1, day), first...index)
                }
                if let month = months.firstIndex(of: current), current != "may" || word(index - 1) == "in" {
                    let year = Int(word(index + 1)).flatMap { (1900...2999).contains($0) ? $0 : nil }
                    let from = monthStart(month + 1, year: year, now: now)
                    return found(from, add(.month, 1, from), index...(year == nil ? index : index + 1))
                }
            }
        }
        return nil
    }

    /// The first day of `month` in `year`, or of its latest occurrence not after `now`.
    static func monthStart(_ month: Int, year: Int?, now: Date) -> Date {
        let calendar = Self.calendar
        let thisYear = calendar.component(.year, from: now)
        let thisMonth = calendar.component(.month, from: now)
        let chosenYear = year ?? (month <= thisMonth ? thisYear : thisYear - 1)
        return calendar.date(from: DateComponents(year: chosenYear, month: month, day: 1)) ?? now
    }
}
