/// One spelling per JSON document, so the same document read from two engines compares equal and
/// a changed one never does: no insignificant space; object members sorted by key — stably, so
/// duplicate keys are kept, in order (`{"a":1,"a":2}` never equals the `{"a":2}` an engine that
/// collapses duplicates stores); numbers in exact plain decimal form (`1.50` = `1.5`, `1e3` =
/// `1000`, never rounded through a double, so a number an engine rounded is a difference);
/// strings escaped one way. Not JSON (or nested deeper than ``maxDepth``): nil.
public enum JSONCanonical {
    public static let maxDepth = 512

    public static func text(_ json: String) -> String? { render(json, as: .canonical) }

    /// The document as PostgreSQL prints it after reading it as `jsonb`: object members ordered by
    /// key length then key bytes, `": "` and `", "` between them, numbers keeping their written
    /// scale (`1.50`, `1e2` → `100`, `1.5e-1` → `0.15`). nil when `jsonb` would not keep the document
    /// as written (a key repeated in one object) or it is not JSON.
    public static func postgresJSONB(_ json: String) -> String? { render(json, as: .postgresJSONB) }

    enum Style { case canonical, postgresJSONB }

    static func render(_ json: String, as style: Style) -> String? {
        var json = json
        return json.withUTF8 { bytes in
            var parser = Parser(bytes: bytes, style: style)
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            guard parser.value(into: &out, depth: 0) else { return nil }
            parser.skipSpace()
            guard parser.index == bytes.count else { return nil }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `text` as a JSON string literal, escaped the canonical way.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text.utf8, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A string map as a canonical JSON object (keys sorted by their UTF-8 bytes).
    public static func object(_ members: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(64)
        for (index, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(member.key.utf8, to: &out)
            out.append(UInt8(ascii: ":"))
            appendQuoted(member.value.utf8, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    static func appendQuoted(_ raw: some Collection<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied whole.
        if !raw.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: raw)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in raw {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case ..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(Hex.digits[Int(byte >> 4)])
                out.append(Hex.digits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let style: Style
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, style: Style) {
            self.bytes = bytes
            self.style = style
        }

        var separator: [UInt8] { style == .postgresJSONB ? [UInt8(ascii: ","), UInt8(ascii: " ")] : [UInt8(ascii: ",")] }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(into out: inout [UInt8], depth: Int) -> Bool {
            guard depth < JSONCanonical.maxDepth else { return false }
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object(into: &out, depth: depth)
            case UInt8(ascii: "["): return array(into: &out, depth: depth)
            case UInt8(ascii: "\""):
                guard let raw = string() else { return false }
                JSONCanonical.appendQuoted(raw, to: &out)
                return true
            case UInt8(ascii: "t"): return literal("true", into: &out)
            case UInt8(ascii: "f"): return literal("false", into: &out)
            case UInt8(ascii: "n"): return literal("null", into: &out)
            default: return number(into: &out)
            }
        }

        mutating func literal(_ word: StaticString, into out: inout [UInt8]) -> Bool {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count, zip(bytes[index..<(index + expected.count)], expected).allSatisfy({ $0 == $1 }) else {
                return false
            }
            out.append(contentsOf: expected)
            index += expected.count
            return true
        }

        mutating func object(into out: inout [UInt8], depth: Int) -> Bool {
            index += 1
            var members: [(key: [UInt8], rendered: [UInt8])] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                out.append(contentsOf: Array("{}".utf8))
                return true
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return false }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
                var rendered: [UInt8] = []
                guard value(into: &rendered, depth: depth + 1) else { return false }
                members.append((key, rendered))
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { return false }
                index += 1
                break
            }
            // Stable: equal keys keep their order (Swift's sort is not guaranteed stable).
            // jsonb orders keys by length first and keeps one member per key.
            let jsonb = style == .postgresJSONB
            let sorted = members.enumerated().sorted { a, b in
                if jsonb, a.element.key.count != b.element.key.count { return a.element.key.count < b.element.key.count }
                return a.element.key.lexicographicallyPrecedes(b.element.key) || (a.element.key == b.element.key && a.offset < b.offset)
            }
            if jsonb, zip(sorted, sorted.dropFirst()).contains(where: { $0.element.key == $1.element.key }) { return false }
            out.append(UInt8(ascii: "{"))
            for (position, member) in sorted.enumerated() {
                if position > 0 { out.append(contentsOf: separator) }
                JSONCanonical.appendQuoted(member.element.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if jsonb { out.append(UInt8(ascii: " ")) }
                out.append(contentsOf: member.element.rendered)
            }
            out.append(UInt8(ascii: "}"))
            return true
        }

        mutating func array(into out: inout [UInt8], depth: Int) -> Bool {
            index += 1
            out.append(UInt8(ascii: "["))
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                out.append(UInt8(ascii: "]"))
                return true
            }
            var first = true
            while true {
                if !first { out.append(contentsOf: separator) }
                first = false
                guard value(into: &out, depth: depth + 1) else { return false }
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "]") else { return false }
                index += 1
                out.append(UInt8(ascii: "]"))
                return true
            }
        }

        /// The decoded UTF-8 of a string literal at `index`; nil when malformed.
        mutating func string() -> [UInt8]? {
            index += 1
            var raw: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return raw
                case ..<0x20: return nil
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(escape)
                    case UInt8(ascii: "n"): raw.append(0x0A)
                    case UInt8(ascii: "r"): raw.append(0x0D)
                    case UInt8(ascii: "t"): raw.append(0x09)
                    case UInt8(ascii: "b"): raw.append(0x08)
                    case UInt8(ascii: "f"): raw.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate must be followed by an escaped low one.
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                return nil
                            }
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        raw.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: return nil
                    }
                default: raw.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// A JSON number (the grammar checked), written in exact plain decimal form.
        mutating func number(into out: inout [UInt8]) -> Bool {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return false }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return false }
            }
            let spelled = UnsafeBufferPointer(rebasing: bytes[start..<index])
            if style == .postgresJSONB {
                guard let numeric = Self.postgresNumeric(spelled) else { return false }
                out.append(contentsOf: numeric)
            } else {
                out.append(contentsOf: Array(CanonicalForm.normalizeDecimal(String(decoding: spelled, as: UTF8.self)).utf8))
            }
            return true
        }

        /// A JSON number as PostgreSQL's `numeric` prints it: plain notation, as many decimals as
        /// written less the exponent (never fewer than none), no sign on zero. nil for exponents
        /// beyond ±1000, which are left unchecked rather than spelled at length.
        static func postgresNumeric(_ spelled: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
            // An integer is printed as written (the grammar allows no leading zeros), but for -0.
            let magnitude = spelled.first == UInt8(ascii: "-") ? UnsafeBufferPointer(rebasing: spelled.dropFirst()) : spelled
            if magnitude.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                !(magnitude.count == 1 && magnitude[0] == UInt8(ascii: "0"))
            {
                return Array(spelled)
            }
            var negative = false, digits: [UInt8] = [], fractionDigits = 0, exponent = 0
            var position = 0
            if spelled.first == UInt8(ascii: "-") { negative = true; position = 1 }
            var inFraction = false
            while position < spelled.count {
                let byte = spelled[position]
                if byte == UInt8(ascii: ".") {
                    inFraction = true
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    guard let value = Int(String(decoding: UnsafeBufferPointer(rebasing: spelled[(position + 1)...]), as: UTF8.self)),
                        abs(value) <= 1000
                    else { return nil }
                    exponent = value
                    break
                } else {
                    digits.append(byte)
                    if inFraction { fractionDigits += 1 }
                }
                position += 1
            }
            let scale = max(0, fractionDigits - exponent)
            let point = digits.count - fractionDigits + exponent  // digits before the decimal point
            var integer: [UInt8], fraction: [UInt8]
            if point <= 0 {
                integer = [UInt8(ascii: "0")]
                fraction = Array(repeating: UInt8(ascii: "0"), count: -point) + digits
            } else if point >= digits.count {
                integer = digits + Array(repeating: UInt8(ascii: "0"), count: point - digits.count)
                fraction = []
            } else {
                integer = Array(digits[..<point])
                fraction = Array(digits[point...])
            }
            fraction = Array(fraction.prefix(scale))
            let leadingZeros = integer.prefix(integer.count - 1).prefix { $0 == UInt8(ascii: "0") }.count
            integer.removeFirst(leadingZeros)
            let isZero = (integer + fraction).allSatisfy { $0 == UInt8(ascii: "0") }
            var out: [UInt8] = negative && !isZero ? [UInt8(ascii: "-")] : []
            out += integer
            if scale > 0 { out += [UInt8(ascii: ".")] + fraction }
            return out
        }
    }
}
