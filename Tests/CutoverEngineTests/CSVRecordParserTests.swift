import Testing

@testable import CutoverEngine

/// The CSV reader of log exports and workload files: RFC 4180 records fed a line at a time.
@Suite struct CSVRecordParserTests {
    func records(_ lines: [String]) -> [[String]] {
        var parser = CSVRecordParser()
        return lines.compactMap { parser.feed($0) }
    }

    @Test func plainQuotedAndEmptyFields() {
        #expect(records(["a,b,c"]) == [["a", "b", "c"]])
        #expect(records(["a,,"]) == [["a", "", ""]])
        #expect(records([""]) == [[""]])
        #expect(records([",x"]) == [["", "x"]])
        #expect(records(["\"x,1\",y"]) == [["x,1", "y"]])
        #expect(records(["\"\",z"]) == [["", "z"]])
        #expect(records(["\"say \"\"hi\"\"\",2"]) == [["say \"hi\"", "2"]])
        #expect(records(["é,\"ü,ß\",日本"]) == [["é", "ü,ß", "日本"]])
    }

    @Test func aQuoteInsideAnUnquotedFieldAndTextAfterAClosingQuoteAreKept() {
        #expect(records(["ab\"c,d"]) == [["ab\"c", "d"]])
        #expect(records(["\"ab\"cd,e"]) == [["abcd", "e"]])
    }

    @Test func aQuotedFieldGoesOnOverLines() {
        #expect(records(["1,\"first", "second,\"\"x\"\"", "third\",4", "5,6"]) == [["1", "first\nsecond,\"x\"\nthird", "4"], ["5", "6"]])
        #expect(records(["\"", "\""]) == [["\n"]])
    }
}
