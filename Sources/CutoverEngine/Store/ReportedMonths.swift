import CutoverCore
import CutoverStore
import Foundation

/// Months as another tool reported them: a `monthly_overview_cache.json` (`{"YYYY-MM": {…}}`, one
/// object with `month`, or a `months` list) or a monthly archive's summary JSON (its month in the
/// object or in the file name). Keys are read in any case: `current_total`/`total`,
/// `previous_total`, `delta`, `current_materials` (a list) or `materials` (a list or a number),
/// `product_hierarchy_breakdown`/`breakdown` (`[{name, count}]` under any two keys, or an object
/// of counts), `logs_stats`/`log_stats`, `data_date`, `cached_at`.
public enum ReportedMonths {
    public static func parse(_ json: Any, fileName: String, origin: String, fileTime: String) throws -> [ReportedMonth] {
        let monthPattern = #"^\d{4}-\d{2}$"#
        func isMonth(_ text: String) -> Bool { text.range(of: monthPattern, options: .regularExpression) != nil }
        var entries: [(month: String?, object: [String: Any])] = []
        switch json {
        case let object as [String: Any] where !object.isEmpty && object.keys.allSatisfy(isMonth):
            for (month, value) in object {
                guard let entry = value as? [String: Any] else { throw CutoverError(.config, "month \(month) is not an object of figures") }
                entries.append((month, entry))
            }
        case let object as [String: Any] where object["months"] is [Any]:
            entries = try (object["months"] as? [Any] ?? []).map { item in
                guard let entry = item as? [String: Any] else { throw CutoverError(.config, "an entry of months that is not an object") }
                return (nil, entry)
            }
        case let object as [String: Any]:
            entries = [(nil, object)]
        case let list as [Any]:
            entries = try list.map { item in
                guard let entry = item as? [String: Any] else { throw CutoverError(.config, "an entry that is not an object") }
                return (nil, entry)
            }
        default:
            throw CutoverError(.config, "a monthly overview is a JSON object (or list) of months")
        }
        let monthInName = fileName.range(of: #"\d{4}-\d{2}"#, options: .regularExpression).map { String(fileName[$0]) }
        return try entries.map { month, raw in
            let object = Dictionary(raw.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
            guard let month = month ?? (object["month"] as? String) ?? monthInName, isMonth(month) else {
                throw CutoverError(.config, "an entry names no month (YYYY-MM) in `month` or in the file name")
            }
            func count(_ keys: String...) throws -> Int64? {
                for key in keys {
                    switch object[key] {
                    case nil, is NSNull: continue
                    case let number as NSNumber: return number.int64Value
                    case let list as [Any]: return Int64(list.count)
                    case let text as String:
                        guard let value = Int64(text) else { throw CutoverError(.config, "month \(month): \(key) is \(text), not a count") }
                        return value
                    default: throw CutoverError(.config, "month \(month): \(key) is not a count")
                    }
                }
                return nil
            }
            let cachedAt = (object["cached_at"] as? String).flatMap(ISOTime.normalize) ?? fileTime
            let logStats = try (object["logs_stats"] ?? object["log_stats"]).map { try RulebookRegistry.canonicalJSON($0) }
            return ReportedMonth(
                month: month, origin: origin, currentTotal: try count("current_total", "total"), previousTotal: try count("previous_total"),
                delta: try count("delta"), materials: try count("current_materials", "materials", "material_count"),
                breakdown: try breakdown(object["product_hierarchy_breakdown"] ?? object["breakdown"], month: month), logStats: logStats,
                dataDate: object["data_date"] as? String, cachedAt: cachedAt, payload: try RulebookRegistry.canonicalJSON(raw))
        }.sorted { $0.month < $1.month }
    }

    /// `[{"Product Hierarchy": "A", "Count": 3}]` (the name is the entry's text value, the count its
    /// number) or `{"A": 3}`.
    static func breakdown(_ value: Any?, month: String) throws -> [NamedCount] {
        switch value {
        case nil, is NSNull: return []
        case let object as [String: Any]:
            return try object.map { name, count in
                guard let number = count as? NSNumber else { throw CutoverError(.config, "month \(month): breakdown \(name) is not a count") }
                return NamedCount(name: name, count: number.int64Value)
            }.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        case let list as [Any]:
            return try list.map { item in
                guard let entry = item as? [String: Any], let name = entry.values.first(where: { $0 is String }) as? String,
                    let number = entry.values.first(where: { $0 is NSNumber && !($0 is String) }) as? NSNumber
                else {
                    throw CutoverError(.config, "month \(month): a breakdown entry without a name and a count")
                }
                return NamedCount(name: name, count: number.int64Value)
            }
        default:
            throw CutoverError(.config, "month \(month): the breakdown is neither a list nor an object")
        }
    }
}
