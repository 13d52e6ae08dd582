/// Lower-case hexadecimal, two digits per byte (digests, random secrets, bytea text).
public enum Hex {
    @usableFromInline static let digits = Array("0123456789abcdef".utf8)

    /// Inlinable so callers get a version specialized for their bytes (an imported log line's key
    /// encodes a digest per line).
    @inlinable
    public static func encode(_ bytes: some Swift.Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the digits of `bytes` to `out`.
    @inlinable
    public static func append(_ bytes: some Swift.Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }
}
