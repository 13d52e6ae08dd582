import CutoverCore
import Testing

@Suite struct HexTests {
    @Test func twoLowerCaseDigitsPerByte() {
        #expect(Hex.encode([0, 9, 15, 16, 171, 255]) == "00090f10abff")
        #expect(Hex.encode([UInt8]()) == "")
    }
}
