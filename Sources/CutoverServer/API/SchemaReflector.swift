import Foundation

/// The JSON Schema of a `Decodable` type, found by decoding it with a decoder that records what the
/// type asks for: `decode` is a required property, `decodeIfPresent` an optional one, `decodeNil` a
/// nullable value. The OpenAPI document is built from the very types the routes decode and encode,
/// so it cannot drift from them. Keys are spelled as the API's coder spells them (snake_case).
enum SchemaReflector {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// `{"type": …}` for `type`; throws for a type the reflector cannot describe (an enum that is not
    /// ``SchemaEnumerable``, a custom decoder asking for something other than plain JSON).
    static func schema(of type: any Decodable.Type, keySpelling: @escaping (String) -> String) throws -> [String: Any] {
        let node = Node()
        let decoder = Recorder(node: node, spell: keySpelling)
        do {
            try decoder.explore(type, into: node)
        } catch is Unsupported {
            throw Unsupported(description: "\(type): the OpenAPI schema cannot be reflected")
        } catch {
            // The type checked the probe values (empty strings, zeros) after decoding every field and
            // refused them: what it asked for is recorded, which is all the schema needs.
        }
        return node.json
    }

    /// What a value is, as far as decoding it revealed.
    final class Node {
        enum Kind {
            case unknown
            case primitive(String)
            case object([(key: String, node: Node, required: Bool)])
            case map(Node)
            case array(Node)
            case enumeration([String])
        }
        var kind: Kind = .unknown
        var nullable = false

        var json: [String: Any] {
            var schema: [String: Any]
            switch kind {
            case .unknown: schema = [:]
            case .primitive(let type): schema = ["type": type]
            case .enumeration(let values): schema = ["type": "string", "enum": values]
            case .array(let element): schema = ["type": "array", "items": element.json]
            case .map(let value): schema = ["type": "object", "additionalProperties": value.json]
            case .object(let properties):
                var seen: [String: [String: Any]] = [:]
                var required: [String] = []
                for property in properties where seen[property.key] == nil {
                    seen[property.key] = property.node.json
                    if property.required { required.append(property.key) }
                }
                schema = ["type": "object", "properties": seen]
                if !required.isEmpty { schema["required"] = required }
            }
            if nullable {
                if let type = schema["type"] as? String {
                    schema["type"] = [type, "null"]
                } else if !schema.isEmpty {
                    schema = ["anyOf": [schema, ["type": "null"]]]
                }
            }
            return schema
        }

        func addProperty(_ key: String, required: Bool) -> Node {
            let child = Node()
            if case .object(var properties) = kind {
                properties.append((key, child, required))
                kind = .object(properties)
            } else {
                kind = .object([(key, child, required)])
            }
            return child
        }
    }

    final class Recorder: Decoder {
        let node: Node
        let spell: (String) -> String
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        init(node: Node, spell: @escaping (String) -> String) {
            self.node = node
            self.spell = spell
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            if case .unknown = node.kind { node.kind = .object([]) }
            return KeyedDecodingContainer(KeyedRecorder<Key>(recorder: self))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let element = Node()
            node.kind = .array(element)
            return UnkeyedRecorder(recorder: Recorder(node: element, spell: spell))
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleRecorder(recorder: self) }

        /// Records `type` into `node` and returns a value of it for the caller to go on with.
        @discardableResult
        func explore<T: Decodable>(_ type: T.Type, into node: Node) throws -> T {
            let recorder = node === self.node ? self : Recorder(node: node, spell: spell)
            if let primitive = Self.primitive(type) {
                node.kind = .primitive(primitive.schema)
                return primitive.value as! T  // swiftlint:disable:this force_cast — the table pairs each type with a value of it
            }
            if let enumerable = type as? any SchemaEnumerable.Type {
                node.kind = .enumeration(enumerable.schemaValues)
                return try T(from: Fixed(value: enumerable.schemaValues.first ?? ""))
            }
            if let map = type as? any SchemaMap.Type {
                let value = Node()
                try recorder.explore(map.valueType, into: value)
                node.kind = .map(value)
                return try T(from: Fixed(value: [String: String]()))
            }
            return try T(from: recorder)
        }

        static func primitive(_ type: Any.Type) -> (schema: String, value: Any)? {
            switch type {
            case is String.Type: ("string", "")
            case is Bool.Type: ("boolean", false)
            case is Int.Type: ("integer", 0)
            case is Int64.Type: ("integer", Int64(0))
            case is Int32.Type: ("integer", Int32(0))
            case is UInt64.Type: ("integer", UInt64(0))
            case is Double.Type: ("number", 0.0)
            case is Float.Type: ("number", Float(0))
            default: nil
            }
        }
    }

    struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [any CodingKey] { recorder.codingPath }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { true }

        func decodeNil(forKey key: Key) throws -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try recorder.explore(type, into: recorder.node.addProperty(recorder.spell(key.stringValue), required: true))
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }

        // The protocol's own versions for these types would ask `decode` (required) instead.
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }

        private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
            try recorder.explore(type, into: recorder.node.addProperty(recorder.spell(key.stringValue), required: false))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            let child = recorder.node.addProperty(recorder.spell(key.stringValue), required: true)
            return try Recorder(node: child, spell: recorder.spell).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            let child = recorder.node.addProperty(recorder.spell(key.stringValue), required: true)
            return try Recorder(node: child, spell: recorder.spell).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { throw Unsupported(description: "superDecoder") }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported(description: "superDecoder(forKey:)") }
    }

    /// Yields one element (so the element type is recorded), then ends.
    struct UnkeyedRecorder: UnkeyedDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] { recorder.codingPath }
        var count: Int? { nil }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex > 0 }

        mutating func decodeNil() throws -> Bool {
            recorder.node.nullable = true
            return false
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            return try recorder.explore(type, into: recorder.node)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            currentIndex += 1
            return try recorder.container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            currentIndex += 1
            return try recorder.unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { throw Unsupported(description: "superDecoder") }
    }

    struct SingleRecorder: SingleValueDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] { recorder.codingPath }

        func decodeNil() -> Bool {
            recorder.node.nullable = true
            return false
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try recorder.explore(type, into: recorder.node) }
    }

    /// Decodes a fixed value (a first enum case, an empty map) through the type's own `init(from:)`.
    struct Fixed: Decoder {
        let value: Any
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(EmptyKeyed<Key>())
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported(description: "an array where a fixed value was expected") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { FixedSingle(value: value) }
    }

    struct FixedSingle: SingleValueDecodingContainer {
        let value: Any
        var codingPath: [any CodingKey] { [] }
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ wanted: T.Type) throws -> T {
            guard let typed = value as? T else { throw Unsupported(description: "\(T.self) from \(Swift.type(of: value))") }
            return typed
        }
    }

    struct EmptyKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            throw Unsupported(description: "key \(key.stringValue) of an empty map")
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw Unsupported(description: "nested container of an empty map")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw Unsupported(description: "nested array of an empty map")
        }
        func superDecoder() throws -> any Decoder { throw Unsupported(description: "superDecoder") }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported(description: "superDecoder") }
    }
}

/// An enum the API shows as a string with a fixed set of values.
protocol SchemaEnumerable {
    static var schemaValues: [String] { get }
}

extension SchemaEnumerable where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var schemaValues: [String] { allCases.map(\.rawValue) }
}

/// A JSON object with free keys (`[String: V]`).
protocol SchemaMap {
    static var valueType: any Decodable.Type { get }
}

extension Dictionary: SchemaMap where Key == String, Value: Decodable {
    static var valueType: any Decodable.Type { Value.self }
}
