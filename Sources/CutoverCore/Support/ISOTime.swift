import Foundation

/// Timestamps as stored and shown: ISO 8601 in UTC with milliseconds.
public enum ISOTime {
    public static func now() -> String { string(Date()) }

    public static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
