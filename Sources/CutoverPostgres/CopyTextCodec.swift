import CutoverCore

/// PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash escapes.
///
/// Works on bytes: a field without a backslash becomes a value with one UTF-8 decode and no
/// intermediate copies.
enum CopyTextCodec {
    static let tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), backslash = UInt8(ascii: "\\")

    /// Appends the values of one COPY row to `batch`.
    static func decodeRow(_ line: UnsafeBufferPointer<UInt8>, storage: [ValueStorage], into batch: inout RowBatch) throws {
        var start = 0
        var column = 0
        let count = line.count
        var index = 0
        while true {
            if index == count || line[index] == tab {
                guard column < storage.count else {
                    throw CutoverError(.query, "COPY row has more fields than the \(storage.count) columns asked for")
                }
                batch.append(decodeField(UnsafeBufferPointer(rebasing: line[start..<index]), storage[column]))
                column += 1
                if index == count { break }
                start = index + 1
            }
            index += 1
        }
        guard column == storage.count else { throw CutoverError(.query, "COPY row has \(column) fields, expected \(storage.count)") }
    }

    static func decodeField(_ field: UnsafeBufferPointer<UInt8>, _ storage: ValueStorage) -> Value {
        if field.count == 2, field[0] == backslash, field[1] == UInt8(ascii: "N") { return .null }
        let text: String = field.contains(backslash) ? unescape(field) : String(decoding: field, as: UTF8.self)
        switch storage {
        case .text: return .text(text)
        case .int: return Int64(text).map(Value.int) ?? .text(text)
        case .double: return Double(parsingSQL: text).map(Value.double) ?? .text(text)
        case .bool: return .bool(text == "t")
        case .bytes: return .bytes(hexBytes(text) ?? Array(text.utf8))
        }
    }

    static func unescape(_ field: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var i = 0
        while i < field.count {
            let byte = field[i]
            if byte == backslash, i + 1 < field.count {
                let next = field[i + 1]
                i += 2
                switch next {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "v"): out.append(0x0b)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(next - UInt8(ascii: "0"))
                    var digits = 1
                    while digits < 3, i < field.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(field[i]) {
                        value = value * 8 + Int(field[i] - UInt8(ascii: "0")); i += 1; digits += 1
                    }
                    out.append(UInt8(truncatingIfNeeded: value))
                case UInt8(ascii: "x"):
                    var value = 0
                    var digits = 0
                    while digits < 2, i < field.count, let h = hexValue(field[i]) { value = value * 16 + h; i += 1; digits += 1 }
                    if digits == 0 { out.append(UInt8(ascii: "x")) } else { out.append(UInt8(value)) }
                default: out.append(next)
                }
            } else {
                out.append(byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// `\x0102ff` → bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == backslash, utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = hexValue(utf8[i]), let lo = hexValue(utf8[i + 1]) else { return nil }
            bytes.append(UInt8(hi * 16 + lo))
            i += 2
        }
        return bytes
    }

    /// How a column's values are written, decided once per column instead of once per value.
    enum Encoding {
        case text, boolean, integer, decimal, binary

        init(_ type: CanonicalType) {
            switch type {
            case .boolean: self = .boolean
            case .integer: self = .integer
            case .decimal: self = .decimal
            case .binary: self = .binary
            default: self = .text
            }
        }
    }

    /// Appends one value in COPY text form (no separator). False, with nothing appended, when the
    /// value is bytes for a column that is not binary or not bytes for a binary one: it cannot be
    /// written without changing it (see `Value.storageMismatch(for:)`).
    @inline(__always)
    static func encode(_ value: Value, as encoding: Encoding, into out: inout [UInt8]) -> Bool {
        if encoding == .binary {
            switch value {
            case .null, .bytes: break
            default: return false
            }
        }
        switch value {
        case .null: out.append(backslash); out.append(UInt8(ascii: "N"))
        case .bool(let b):
            if encoding == .integer {
                out.append(b ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            } else {
                out.append(b ? UInt8(ascii: "t") : UInt8(ascii: "f"))
            }
        case .int(let i):
            if encoding == .boolean { out.append(i != 0 ? UInt8(ascii: "t") : UInt8(ascii: "f")) } else { appendInteger(i, into: &out) }
        case .double(let d):
            if encoding == .decimal || encoding == .integer {
                // numeric input reads exponents; only the spelling of non-finite values differs.
                out.append(contentsOf: (d.isFinite ? d.description : DecimalText.plain(d)).utf8)
            } else {
                out.append(contentsOf: CanonicalForm.floatText(d, bits: 64).utf8)
            }
        case .bytes(let bytes):
            guard encoding == .binary else { return false }
            out.append(backslash); out.append(backslash); out.append(UInt8(ascii: "x"))
            Hex.append(bytes, to: &out)
            return true
        case .text(let s):
            appendEscaped(s, into: &out)
        }
        return true
    }

    @inline(__always)
    static func appendEscaped(_ s: String, into out: inout [UInt8]) {
        let utf8 = s.utf8
        if !utf8.contains(where: { $0 == backslash || $0 == newline || $0 == 0x0d || $0 == tab }) {
            out.append(contentsOf: utf8)
            return
        }
        for byte in utf8 {
            switch byte {
            case backslash: out.append(backslash); out.append(backslash)
            case newline: out.append(backslash); out.append(UInt8(ascii: "n"))
            case 0x0d: out.append(backslash); out.append(UInt8(ascii: "r"))
            case tab: out.append(backslash); out.append(UInt8(ascii: "t"))
            default: out.append(byte)
            }
        }
    }

    @inline(__always)
    static func appendInteger(_ value: Int64, into out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }
}
