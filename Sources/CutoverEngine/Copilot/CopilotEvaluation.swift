import CutoverCore
import Foundation
import Yams

/// A checked-in set of questions with the intent and values each should get, and how many the
/// copilot gets right: top-1 (chosen intent and every expected value) and top-3 (the expected
/// intent among the first three). `none` expects "I don't know".
public struct CopilotEvaluation: Sendable {
    /// A question of the set and the intent and values it should get (`none`: it must not be answered).
    public struct Question: Codable, Sendable {
        public var question: String
        public var intent: String
        public var parameters: [String: String]?
    }

    struct File: Codable {
        var now: String
        var vocabulary: CopilotVocabulary?
        var queries: [String: LibraryQuery]?
        var questions: [Question]
    }

    /// What the copilot did with one question of the set.
    public struct Outcome: Codable, Sendable {
        public var question: String
        public var expected: String
        public var chosen: String
        public var topThree: [String]
        public var parameters: [String: String]
        /// Expected values that were missing or different.
        public var wrongParameters: [String]
        public var top1: Bool
        public var top3: Bool
    }

    /// The whole set's score.
    public struct Report: Codable, Sendable {
        public var questions: Int
        public var top1: Int
        public var top3: Int
        public var top1Accuracy: Double
        public var top3Accuracy: Double
        public var misses: [Outcome]
    }

    public var now: Date
    public var vocabulary: CopilotVocabulary
    public var intents: [CopilotIntent]
    public var questions: [Question]

    public init(yaml: String) throws {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch {
            throw CutoverError(.usage, "the copilot evaluation file does not read: \(error)", hint: "see bench/copilot-questions.yml for its shape")
        }
        guard let now = ISOTime.parse(file.now) else {
            throw CutoverError(.usage, "now: \(file.now) is not a time", hint: "e.g. now: 2026-11-15T12:00:00Z")
        }
        self.now = now
        var vocabulary = file.vocabulary ?? CopilotVocabulary()
        if vocabulary.checks.isEmpty { vocabulary.checks = CheckRegistry.all.map { $0.name }.sorted() }
        self.vocabulary = vocabulary
        intents = CopilotIntent.builtIn + CopilotIntent.library(file.queries ?? [:])
        questions = file.questions
        let known = Set(intents.map(\.id) + ["none"])
        if let unknown = questions.first(where: { !known.contains($0.intent) }) {
            throw CutoverError(
                .usage, "the evaluation expects an intent that does not exist: \(unknown.intent)", context: ["question": unknown.question])
        }
    }

    public func run() -> Report {
        let matcher = CopilotMatcher(intents: intents)
        let outcomes = questions.map { expected -> Outcome in
            let question = CopilotQuestion(expected.question, vocabulary: vocabulary, now: now)
            let match = matcher.match(question)
            let chosen = question.asksToWrite.isEmpty ? match.chosen?.intent : nil
            let parameters = chosen.map { Copilot.parameters(question.slots, of: $0) } ?? [:]
            let wrong = (expected.parameters ?? [:]).sorted { $0.key < $1.key }.filter { parameters[$0.key] != $0.value }.map {
                "\($0.key): expected \($0.value), got \(parameters[$0.key] ?? "nothing")"
            }
            let topThree = match.ranked.prefix(3).map(\.intent.id)
            let top1 = (chosen?.id ?? "none") == expected.intent && wrong.isEmpty
            let top3 = expected.intent == "none" ? chosen == nil : topThree.contains(expected.intent)
            return Outcome(
                question: expected.question, expected: expected.intent, chosen: chosen?.id ?? "none", topThree: topThree, parameters: parameters,
                wrongParameters: wrong, top1: top1, top3: top3)
        }
        let top1 = outcomes.filter(\.top1).count, top3 = outcomes.filter(\.top3).count
        let count = max(outcomes.count, 1)
        return Report(
            questions: outcomes.count, top1: top1, top3: top3, top1Accuracy: Double(top1) / Double(count), top3Accuracy: Double(top3) / Double(count),
            misses: outcomes.filter { !$0.top1 })
    }
}
