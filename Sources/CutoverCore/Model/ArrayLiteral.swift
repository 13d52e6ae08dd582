/// PostgreSQL's array text (`{1,2,3}`, `{{1,2},{3,4}}`, `{"a b",NULL,"say \"hi\""}`,
/// `[0:1]={7,8}`) as a JSON array — the form Snowflake's ARRAY holds and the one both sides are
/// compared in. Elements of number columns become JSON numbers, booleans `true`/`false`, NULL
/// `null`, everything else strings (NaN and ±Infinity too: JSON has no such numbers).
public enum ArrayLiteral {
    /// nil when `text` is not an array literal.
    public static func json(_ text: String, element: CanonicalType) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            var index = 0
            // Explicit bounds (`[0:1]={…}`) say where indexing starts; JSON arrays start at 0.
            if bytes.first == UInt8(ascii: "[") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "=") { index += 1 }
                index += 1
            }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 8)
            guard parse(bytes, &index, element: element, into: &out, depth: 0) else { return nil }
            while index < bytes.count, bytes[index] == 0x20 { index += 1 }
            return index == bytes.count ? String(decoding: out, as: UTF8.self) : nil
        }
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, element: CanonicalType, into out: inout [UInt8], depth: Int
    ) -> Bool {
        guard depth < 64, index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
        index += 1
        out.append(UInt8(ascii: "["))
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            out.append(UInt8(ascii: "]"))
            return true
        }
        var first = true
        while index < bytes.count {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            while index < bytes.count, bytes[index] == 0x20 { index += 1 }
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: "{") {
                guard parse(bytes, &index, element: element, into: &out, depth: depth + 1) else { return false }
            } else if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var raw: [UInt8] = []
                var closed = false
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte == UInt8(ascii: "\\") {
                        guard index < bytes.count else { return false }
                        raw.append(bytes[index])
                        index += 1
                    } else if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    } else {
                        raw.append(byte)
                    }
                }
                guard closed else { return false }
                appendElement(raw, quoted: true, element: element, to: &out)
            } else {
                var raw: [UInt8] = []
                var escaped = false  // `\,` is a comma inside the element, and an escaped element is never NULL
                while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != UInt8(ascii: "}") {
                    if bytes[index] == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.count else { return false }
                        escaped = true
                    }
                    raw.append(bytes[index])
                    index += 1
                }
                while raw.last == 0x20 { raw.removeLast() }
                appendElement(raw, quoted: escaped, element: element, to: &out)
            }
            while index < bytes.count, bytes[index] == 0x20 { index += 1 }
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { return false }
            index += 1
            out.append(UInt8(ascii: "]"))
            return true
        }
        return false
    }

    private static func appendElement(_ raw: [UInt8], quoted: Bool, element: CanonicalType, to out: inout [UInt8]) {
        let text = String(decoding: raw, as: UTF8.self)
        if !quoted, text.lowercased() == "null" { return out.append(contentsOf: Array("null".utf8)) }
        switch element {
        case .integer, .decimal, .float:
            let number = CanonicalForm.normalizeDecimal(text)
            if number.first.map({ $0 == "-" || $0.isNumber }) == true, JSONCanonical.text(number) != nil {
                return out.append(contentsOf: Array(number.utf8))
            }
        case .boolean:
            if let value = SQLBool.parse(text) { return out.append(contentsOf: Array((value ? "true" : "false").utf8)) }
        case .json:
            if let document = JSONCanonical.text(text) { return out.append(contentsOf: Array(document.utf8)) }
        default: break
        }
        JSONCanonical.appendQuoted(raw, to: &out)
    }
}
