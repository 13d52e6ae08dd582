import Foundation

/// Number and size formatting for terminal output.
public enum Format {
    public static func count(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    public static func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }

    public static func duration(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }

    /// A long span for people: `45s`, `20m`, `5h 10m`, `3d 4h`.
    public static func span(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "∞" }
        let whole = Int64(max(0, seconds).rounded())
        let units: [(String, Int64)] = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        guard let first = units.firstIndex(where: { whole >= $0.1 }) else { return "0s" }
        let (name, size) = units[first]
        var text = "\(whole / size)\(name)"
        if first < 2 {  // days and hours say the next unit too; minutes and seconds alone are enough
            let (nextName, nextSize) = units[first + 1]
            let rest = (whole % size) / nextSize
            if rest > 0 { text += " \(rest)\(nextName)" }
        }
        return text
    }
}
