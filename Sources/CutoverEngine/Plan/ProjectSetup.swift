import CutoverCore
import CutoverStore
import Foundation

/// A project's auto-setup: given the catalogs of both sides, which target table and column each
/// source table and column most likely is, with a confidence and the reason — for a person to
/// confirm, not to act on blindly.
public enum ProjectSetup {
    /// The target column a source column most likely is, with why and whether its type holds the values.
    public struct ColumnMatch: Sendable, Codable, Hashable {
        public var source: String
        public var target: String?
        public var confidence: Double
        public var reason: String
        public var sourceType: String
        public var targetType: String?
        /// Whether the target type can hold every source value (nil without a match).
        public var typeFits: Bool?
    }

    /// The target table a source table most likely is, with its columns.
    public struct TableMatch: Sendable, Codable, Hashable {
        public var source: String
        public var target: String?
        public var confidence: Double
        public var reason: String
        public var columns: [ColumnMatch]
    }

    /// Auto-setup's proposal for a whole project.
    public struct Proposal: Sendable, Codable {
        public var tables: [TableMatch]
        /// Target tables no source table was matched to.
        public var unmatchedTargets: [String]
        /// Matches below this confidence need a person.
        public var reviewBelow: Double
    }

    public static let reviewBelow = 0.9

    public static func propose(source: Catalog, target: Catalog) -> Proposal {
        var free = target.tables.filter { $0.kind != .view }
        var matches: [TableMatch] = []
        // Best pairs first, so a close name is not taken by a looser one.
        var candidates: [(Table, Table, Double, String)] = []
        for s in source.tables where s.kind != .view {
            for t in free {
                if let (score, reason) = score(s.ref.name, t.ref.name) { candidates.append((s, t, tableScore(s, t, score), reason)) }
            }
        }
        var taken = Set<String>()
        var matched: [String: (Table, Double, String)] = [:]
        for (s, t, score, reason) in candidates.sorted(by: { $0.2 > $1.2 })
        where matched[s.ref.description] == nil && !taken.contains(t.ref.description) {
            matched[s.ref.description] = (t, score, reason)
            taken.insert(t.ref.description)
        }
        for s in source.tables where s.kind != .view {
            if let (t, score, reason) = matched[s.ref.description] {
                matches.append(
                    TableMatch(
                        source: s.ref.description, target: t.ref.description, confidence: rounded(score), reason: reason,
                        columns: columns(s, t)))
            } else {
                matches.append(
                    TableMatch(
                        source: s.ref.description, target: nil, confidence: 0, reason: "no target table with a similar name",
                        columns: s.columns.map {
                            ColumnMatch(
                                source: $0.name, target: nil, confidence: 0, reason: "table not matched",
                                sourceType: $0.nativeType, targetType: nil, typeFits: nil)
                        }))
            }
        }
        free.removeAll { taken.contains($0.ref.description) }
        return Proposal(tables: matches, unmatchedTargets: free.map(\.ref.description).sorted(), reviewBelow: reviewBelow)
    }

    /// A name match lifted or lowered by how many columns also match.
    static func tableScore(_ s: Table, _ t: Table, _ nameScore: Double) -> Double {
        let found = s.columns.filter { c in t.columns.contains { score(c.name, $0.name) != nil } }.count
        let share = s.columns.isEmpty ? 0 : Double(found) / Double(s.columns.count)
        return nameScore * (0.6 + 0.4 * share)
    }

    static func columns(_ s: Table, _ t: Table) -> [ColumnMatch] {
        var free = t.columns
        return s.columns.map { column in
            let best = free.compactMap { candidate in score(column.name, candidate.name).map { (candidate, $0.0, $0.1) } }.max { $0.1 < $1.1 }
            guard let (target, score, reason) = best else {
                return ColumnMatch(
                    source: column.name, target: nil, confidence: 0, reason: "no target column with a similar name",
                    sourceType: column.nativeType, targetType: nil, typeFits: nil)
            }
            free.removeAll { $0.name == target.name }
            let (fits, why) = target.canonical.holds(column.canonical)
            return ColumnMatch(
                source: column.name, target: target.name, confidence: rounded(fits ? score : score * 0.7),
                reason: fits ? reason : reason + "; " + (why ?? "the type may not hold every value"),
                sourceType: column.nativeType, targetType: target.nativeType, typeFits: fits)
        }
    }

    /// How alike two names are: exact 1, case only 0.95, same letters and digits 0.9, otherwise
    /// the edit-distance similarity of the normalized names (nil below 0.7).
    static func score(_ a: String, _ b: String) -> (Double, String)? {
        if a == b { return (1, "same name") }
        if a.lowercased() == b.lowercased() { return (0.95, "same name but for case") }
        let (x, y) = (normalized(a), normalized(b))
        if x == y { return (0.9, "same name but for case and separators") }
        let similarity = 1 - Double(distance(x, y)) / Double(max(x.count, y.count, 1))
        return similarity >= 0.7 ? (0.8 * similarity, "similar names (\(Int(similarity * 100))% alike)") : nil
    }

    static func normalized(_ name: String) -> String { String(name.lowercased().filter { $0.isLetter || $0.isNumber }) }

    static func distance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a), Array(b))
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

extension ProjectSetup {
    /// The tolerances a person set on accepted columns in a project's mapping decisions, as
    /// `table.column` rules the row compare of the project's runs applies.
    public static func tolerances(_ project: ProjectRecord) throws -> Tolerances {
        var tolerances = Tolerances()
        for table in project.mappingTables ?? [] where table["decision"] as? String == "accepted" {
            guard let name = table["source"] as? String else { continue }
            for column in table["columns"] as? [[String: Any]] ?? [] {
                guard let source = column["source"] as? String, let rule = column["tolerance"] as? String, !rule.isEmpty else { continue }
                tolerances.columns["\(TableRef(parsing: name).name).\(source)"] = try ColumnTolerance(parsing: rule)
            }
        }
        return tolerances
    }
}
