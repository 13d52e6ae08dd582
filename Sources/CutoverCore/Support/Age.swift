import Foundation

/// Durations as people write them in options and config: a number and a unit (s, m, h, d, w).
public enum Age {
    public static func seconds(_ text: String, option: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let unit = text.last.flatMap({ units[$0] }), let number = Double(text.dropLast()), number >= 0, number.isFinite else {
            throw CutoverError(.usage, "\(option) \(text) is not a duration", hint: "write a number and a unit: 90d, 12w, 36h, 30m or 45s")
        }
        return number * unit
    }
}
