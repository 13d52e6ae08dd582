import CutoverCore
import Foundation

/// Chooses the intent a question asks for: BM25 over each intent's name, description and
/// phrasings, nudged by the values the question fills in. Pure: no store, no clock of its own, so
/// the evaluation set runs it directly.
public struct CopilotMatcher: Sendable {
    /// One intent's score for a question, with the words and slots that made it.
    public struct Scored: Sendable {
        public var intent: CopilotIntent
        public var score: Double
        /// Each matched word with what it added.
        public var matched: [(term: String, weight: Double)]
        public var slotNotes: [String]
    }

    /// Every intent ranked for one question, and how much of the question the best one explains.
    public struct Match: Sendable {
        /// Best first; every intent with a positive score.
        public var ranked: [Scored]
        public var question: CopilotQuestion
        /// Share of the question's word weight the best intent explains, 0…1.
        public var coverage: Double
        public var confidence: Double
        /// The intent to answer with; nil when the copilot is not sure enough.
        public var chosen: Scored? {
            confidence >= CopilotMatcher.minimumConfidence && coverage >= CopilotMatcher.minimumCoverage ? ranked.first : nil
        }
    }

    /// Below this, the answer is "I don't know" with the closest candidates (set on the evaluation
    /// questions: the lowest that keeps off-topic questions unanswered).
    public static let minimumConfidence = 0.3
    /// At least this share of the question's word weight must be words the chosen intent has.
    public static let minimumCoverage = 0.4

    public let intents: [CopilotIntent]
    private let termCounts: [[String: Int]]
    private let lengths: [Double]
    private let averageLength: Double
    private let documentFrequency: [String: Int]

    static let k1 = 1.2
    static let b = 0.75

    public init(intents: [CopilotIntent]) {
        self.intents = intents
        termCounts = intents.map { intent in
            CopilotQuestion.words(intent.document).filter { !CopilotQuestion.stopWords.contains($0) }.map(CopilotQuestion.stem)
                .reduce(into: [:]) { $0[$1, default: 0] += 1 }
        }
        lengths = termCounts.map { Double($0.values.reduce(0, +)) }
        averageLength = max(1, lengths.reduce(0, +) / Double(max(1, lengths.count)))
        documentFrequency = termCounts.reduce(into: [:]) { frequency, counts in
            for term in counts.keys { frequency[term, default: 0] += 1 }
        }
    }

    func idf(_ term: String) -> Double {
        let n = Double(documentFrequency[term] ?? 0), total = Double(intents.count)
        return log(1 + (total - n + 0.5) / (n + 0.5))
    }

    public func match(_ question: CopilotQuestion) -> Match {
        let terms = Array(Set(question.terms))
        var ranked: [Scored] = []
        for (index, intent) in intents.enumerated() {
            var matched: [(term: String, weight: Double)] = []
            for term in terms {
                guard let count = termCounts[index][term] else { continue }
                let tf = Double(count)
                let weight = idf(term) * tf * (Self.k1 + 1) / (tf + Self.k1 * (1 - Self.b + Self.b * lengths[index] / averageLength))
                matched.append((term, weight))
            }
            guard !matched.isEmpty else { continue }
            var score = matched.reduce(0) { $0 + $1.weight }
            var notes: [String] = []
            for slot in Self.filled(question.slots) {
                if intent.accepts.contains(slot) {
                    score += [.table, .run, .check].contains(slot) ? 0.6 : 0.2
                } else if [.table, .run, .check].contains(slot) {
                    score -= 0.3
                    notes.append("\(slot.rawValue) is named but \(intent.id) does not filter by it")
                }
            }
            let missing = intent.requires.subtracting(Self.filled(question.slots))
            if !missing.isEmpty {
                score *= 0.4
                notes.append("needs a \(missing.map(\.rawValue).sorted().joined(separator: ", ")) the question does not name")
            }
            ranked.append(Scored(intent: intent, score: score, matched: matched.sorted { $0.weight > $1.weight }, slotNotes: notes))
        }
        ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.intent.id < $1.intent.id }
        // How much of what the question says the best intent accounts for: words no intent knows
        // count at the highest weight, so an off-topic question scores low however one word matched.
        let unknownWeight = log(1 + (Double(intents.count) + 0.5) / 0.5)
        let total = terms.reduce(0) { $0 + (documentFrequency[$1] == nil ? unknownWeight : idf($1)) }
        let explained = ranked.first.map { best in best.matched.reduce(0) { $0 + idf($1.term) } } ?? 0
        let coverage = total > 0 ? min(1, explained / total) : 0
        let margin: Double
        if let first = ranked.first, first.score > 0 {
            margin = max(0, (first.score - (ranked.dropFirst().first?.score ?? 0)) / first.score)
        } else {
            margin = 0
        }
        let confidence =
            ranked.first.map { $0.score > 0 && $0.intent.requires.isSubset(of: Self.filled(question.slots)) } == true
            ? coverage * (0.75 + 0.25 * margin) : 0
        return Match(ranked: ranked, question: question, coverage: coverage, confidence: confidence)
    }

    static func filled(_ slots: CopilotSlots) -> Set<CopilotIntent.Slot> {
        var filled = Set<CopilotIntent.Slot>()
        if slots.period != nil { filled.insert(.period) }
        if slots.table != nil { filled.insert(.table) }
        if slots.status != nil { filled.insert(.status) }
        if slots.kind != nil { filled.insert(.kind) }
        if slots.run != nil { filled.insert(.run) }
        if slots.check != nil { filled.insert(.check) }
        if slots.limit != nil { filled.insert(.limit) }
        if slots.level != nil { filled.insert(.level) }
        if slots.environment != nil { filled.insert(.environment) }
        return filled
    }
}
