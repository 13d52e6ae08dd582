import Foundation
import Testing
@testable import CutoverServer

/// The OpenAPI document is reflected from the route types; these check the reflection itself.
@Suite struct OpenAPITests {
    struct Keys: Encodable {
        var runID = 1, durationMS = 1, matchPercent = 1, createdAt = 1, a = 1, HTTPStatus = 1, sourceRows = 1, x2Y = 1, iD = 1, URLs = 1, aBCd = 1
    }

    @Test func keysAreSpelledAsTheEncoderSpellsThem() throws {
        let data = try JSON.encoder.encode(Keys())
        let encoded = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int]).keys.sorted()
        let spelled = ["runID", "durationMS", "matchPercent", "createdAt", "a", "HTTPStatus", "sourceRows", "x2Y", "iD", "URLs", "aBCd"].map(
            JSON.spell
        ).sorted()
        #expect(spelled == encoded)
    }

    struct Sample: Codable {
        enum Kind: String, Codable, CaseIterable, SchemaEnumerable { case one, two }
        struct Inner: Codable { var value: Double }
        var name: String
        var note: String?
        var count: Int64?
        var kind: Kind
        var inner: Inner
        var rows: [[String?]]
        var fields: [String: String]
    }

    @Test func optionalsAreNotRequiredAndNullsAreAllowedWhereTheTypeSaysSo() throws {
        let schema = try SchemaReflector.schema(of: Sample.self, keySpelling: JSON.spell)
        #expect(Set(schema["required"] as? [String] ?? []) == ["name", "kind", "inner", "rows", "fields"])
        let properties = try #require(schema["properties"] as? [String: [String: Any]])
        #expect(properties["kind"]?["enum"] as? [String] == ["one", "two"])
        #expect(((properties["rows"]?["items"] as? [String: Any])?["items"] as? [String: Any])?["type"] as? [String] == ["string", "null"])
        #expect((properties["fields"]?["additionalProperties"] as? [String: Any])?["type"] as? String == "string")
        #expect(((properties["inner"]?["properties"] as? [String: Any])?["value"] as? [String: Any])?["type"] as? String == "number")
    }
}
