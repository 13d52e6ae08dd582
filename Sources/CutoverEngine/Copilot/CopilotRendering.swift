import CutoverCore
import Foundation

/// How answers and explanations read in a terminal. Pure, so the text is tested as it is printed.
public enum CopilotRendering {
    public static func text(_ answer: CopilotAnswer, maxRows: Int = 20) -> String {
        var lines: [String] = []
        guard answer.answered, let title = answer.title else {
            lines.append(answer.message ?? "I don't know.")
            if !answer.candidates.isEmpty {
                lines.append("Closest:")
                lines += answer.candidates.map {
                    "  \($0.intent)  \($0.title)  (score \(number($0.score)); words: \($0.matched.joined(separator: ", ")))"
                }
            }
            return lines.joined(separator: "\n")
        }
        lines.append("\(title) — \(answer.intent ?? "")  (confidence \(number(answer.confidence)))")
        lines += answer.why.map { "  why: \($0)" }
        if !answer.parameters.isEmpty {
            lines.append("  parameters: " + answer.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        if let source = answer.source { lines.append("  from: \(source)") }
        if let sql = answer.sql {
            lines.append("  sql:")
            lines += sql.split(separator: "\n").map { "    \($0)" }
            if let parameters = answer.sqlParameters, !parameters.isEmpty {
                lines.append("  bound: " + parameters.map { $0.map { "'\($0)'" } ?? "NULL" }.joined(separator: ", "))
            }
        }
        if let notRun = answer.notRun {
            lines.append("Not run: \(notRun)")
            return lines.joined(separator: "\n")
        }
        lines.append("")
        lines += table(answer.columns, answer.rows, maxRows: maxRows)
        let more = answer.rows.count > maxRows ? " (first \(maxRows) shown; --format json for all)" : ""
        lines.append("\(answer.rows.count) row(s)\(answer.truncated ? " — more exist" : "")\(more)")
        return lines.joined(separator: "\n")
    }

    public static func text(_ explanation: Explanation) -> String {
        var lines = ["\(explanation.subject): \(explanation.status)" + (explanation.message.map { " — \($0)" } ?? "")]
        if !explanation.drivers.isEmpty {
            lines.append("  driven by:")
            lines += explanation.drivers.map { "    \($0.name)" + ($0.count.map { "  \($0)" } ?? "") + ($0.note.map { "  (\($0))" } ?? "") }
        }
        if !explanation.rows.isEmpty {
            lines.append("  rows:")
            lines += explanation.rows.prefix(20).map { "    \($0)" }
        }
        if !explanation.queries.isEmpty {
            lines.append("  to see them:")
            lines += explanation.queries.map { "    [\($0.on)] \($0.sql.replacingOccurrences(of: "\n", with: " "))" }
        }
        lines += explanation.notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest value (at most 40 characters each).
    static func table(_ columns: [String], _ rows: [[String?]], maxRows: Int) -> [String] {
        guard !columns.isEmpty else { return [] }
        let shown = rows.prefix(maxRows).map { $0.map { clip($0 ?? "NULL") } }
        let widths = columns.indices.map { index in ([columns[index]] + shown.map { index < $0.count ? $0[index] : "" }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return [line(columns), line(widths.map { String(repeating: "-", count: $0) })] + shown.map(line)
    }

    static func clip(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 40 ? String(flat.prefix(39)) + "…" : flat
    }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }
}
