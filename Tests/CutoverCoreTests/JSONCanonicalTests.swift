import CutoverCore
import Foundation
import Testing

struct JSONCanonicalTests {
    @Test(arguments: [
        (#"{"b": 1, "a": [1, 2.50, -0.0, 1e3]}"#, #"{"a":[1,2.5,0,1000],"b":1}"#),
        (#"  "x\/y\u00e9\ud83d\ude80\n"  "#, "\"x/yé🚀\\n\""),
        (#"{"dup": 1, "dup": 2, "a": null}"#, #"{"a":null,"dup":1,"dup":2}"#),
        ("[]", "[]"), ("{}", "{}"), ("true", "true"), ("12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("\"\\u0001\"", "\"\\u0001\""),
    ])
    func oneSpellingPerDocument(input: String, expected: String) {
        #expect(JSONCanonical.text(input) == expected)
    }

    /// The cases where an engine changed the document: they must stay different.
    @Test func changedDocumentsStayDifferent() {
        #expect(JSONCanonical.text(#"{"dup":1,"dup":2}"#) != JSONCanonical.text(#"{"dup":2}"#))
        #expect(JSONCanonical.text("12345678901234567890123") != JSONCanonical.text("1.2345678901234568e22"))
        #expect(JSONCanonical.text(#"{"a":"1"}"#) != JSONCanonical.text(#"{"a":1}"#))
    }

    @Test(arguments: [
        "", "{", "[1,]", "\"\u{01}\"", "{\"a\"}", "01x", "\"\\ud800\"", "nul", "1.", "-", "[1] 2",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ])
    func notJSONIsNil(input: String) {
        #expect(JSONCanonical.text(input) == nil)
    }

    /// The canonical form of a document Foundation can read is a document Foundation reads as the same value.
    @Test func agreesWithFoundationOnRandomDocuments() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let document = Self.randomValue(depth: 0, &generator)
            let data = try JSONSerialization.data(withJSONObject: document, options: [.fragmentsAllowed])
            let text = String(decoding: data, as: UTF8.self)
            let canonical = try #require(JSONCanonical.text(text), "\(text)")
            // Foundation's own sorted rendering of both must agree (no duplicate keys here, no long numbers).
            func foundation(_ text: String) throws -> String {
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
            }
            #expect(try foundation(canonical) == foundation(text), "\(text) → \(canonical)")
            #expect(JSONCanonical.text(canonical) == canonical, "idempotent: \(canonical)")
        }
    }

    static func randomValue(depth: Int, _ generator: inout SystemRandomNumberGenerator) -> Any {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
        case 0: return Int.random(in: -1_000_000...1_000_000, using: &generator)
        case 1: return ["", "a b", "é\n\t\"\\/", "🚀", "\u{7f}"].randomElement(using: &generator)!
        case 2: return Bool.random(using: &generator)
        case 3: return NSNull()
        case 4: return (0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, &generator) }
        default:
            var object: [String: Any] = [:]
            for key in ["b", "a", "é", "A", "aa"].shuffled(using: &generator).prefix(Int.random(in: 0...4, using: &generator)) {
                object[key] = randomValue(depth: depth + 1, &generator)
            }
            return object
        }
    }
}

struct ArrayLiteralTests {
    @Test(arguments: [
        ("{1,2,3}", CanonicalType.integer(bits: 32), "[1,2,3]"),
        ("{{1,2},{3,NULL}}", .integer(bits: 32), "[[1,2],[3,null]]"),
        (#"{a1,NULL,"x y","say \"hi\"","NULL",\\}"#, .text(maxLength: nil), #"["a1",null,"x y","say \"hi\"","NULL","\\"]"#),
        ("{t,f}", .boolean, "[true,false]"),
        ("{1.50,NaN,-0}", .decimal(precision: nil, scale: nil), #"[1.5,"NaN",0]"#),
        ("[0:1]={7,8}", .integer(bits: 32), "[7,8]"),
        ("{}", .text(maxLength: nil), "[]"),
        (#"{"{\"a\": 1}"}"#, .json(binary: true), #"[{"a":1}]"#),
    ])
    func postgresArraysBecomeJSONArrays(literal: String, element: CanonicalType, expected: String) {
        #expect(ArrayLiteral.json(literal, element: element) == expected)
    }

    @Test(arguments: ["", "1,2", "{1,2", "{\"a}", "{1}x"])
    func notAnArrayIsNil(input: String) {
        #expect(ArrayLiteral.json(input, element: .text(maxLength: nil)) == nil)
    }
}
