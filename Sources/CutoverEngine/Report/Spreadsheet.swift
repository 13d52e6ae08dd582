import CutoverCore
import Foundation
import ZIPFoundation

/// An Excel workbook (.xlsx: Office Open XML in a zip) of plain sheets: a header row in bold,
/// then text and number cells. Enough for reports; no formulas or charts.
public struct Spreadsheet: Sendable {
    /// One cell: text or a number.
    public enum Cell: Sendable {
        case text(String)
        case number(Double)
        case empty
    }

    /// One worksheet: a name and rows of cells.
    public struct Sheet: Sendable {
        public var name: String
        public var header: [String]
        public var rows: [[Cell]]
        public init(name: String, header: [String], rows: [[Cell]]) {
            self.name = name
            self.header = header
            self.rows = rows
        }
    }

    public var sheets: [Sheet]
    public init(sheets: [Sheet]) { self.sheets = sheets }

    /// The workbook's bytes.
    public func data() throws -> Data {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: path) }  // a temporary file
        let archive = try Archive(url: path, accessMode: .create)
        for (name, text) in parts() {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return try Data(contentsOf: path)
    }

    func parts() -> [(String, String)] {
        let xml = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        var parts: [(String, String)] = []
        let overrides = sheets.indices.map {
            #"<Override PartName="/xl/worksheets/sheet\#($0 + 1).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }.joined()
        parts.append(
            (
                "[Content_Types].xml",
                xml + #"""
                    <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\#(overrides)</Types>
                    """#
            ))
        parts.append(
            (
                "_rels/.rels",
                xml
                    + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ))
        let sheetList = sheets.enumerated().map {
            #"<sheet name="\#(Self.escape(String($1.name.prefix(31))))" sheetId="\#($0 + 1)" r:id="rId\#($0 + 1)"/>"#
        }.joined()
        parts.append(("xl/workbook.xml", xml + #"<workbook xmlns="\#(main)" xmlns:r="\#(rel)"><sheets>\#(sheetList)</sheets></workbook>"#))
        let sheetRels = sheets.indices.map {
            #"<Relationship Id="rId\#($0 + 1)" Type="\#(rel)/worksheet" Target="worksheets/sheet\#($0 + 1).xml"/>"#
        }.joined()
        let stylesID = sheets.count + 1
        parts.append(
            (
                "xl/_rels/workbook.xml.rels",
                xml
                    + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\#(sheetRels)<Relationship Id="rId\#(stylesID)" Type="\#(rel)/styles" Target="styles.xml"/></Relationships>"#
            ))
        // Style 1: bold, for the header row.
        parts.append(
            (
                "xl/styles.xml",
                xml
                    + #"<styleSheet xmlns="\#(main)"><fonts count="2"><font/><font><b/></font></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/><xf fontId="1" applyFont="1"/></cellXfs></styleSheet>"#
            ))
        for (index, sheet) in sheets.enumerated() {
            var rows = [Self.row(1, sheet.header.map(Cell.text), style: 1)]
            for (n, cells) in sheet.rows.enumerated() { rows.append(Self.row(n + 2, cells, style: nil)) }
            parts.append(
                ("xl/worksheets/sheet\(index + 1).xml", xml + #"<worksheet xmlns="\#(main)"><sheetData>\#(rows.joined())</sheetData></worksheet>"#))
        }
        return parts
    }

    static func row(_ number: Int, _ cells: [Cell], style: Int?) -> String {
        let s = style.map { #" s="\#($0)""# } ?? ""
        let body = cells.enumerated().map { column, cell -> String in
            let ref = columnName(column) + String(number)
            switch cell {
            case .text(let text): return #"<c r="\#(ref)" t="inlineStr"\#(s)><is><t xml:space="preserve">\#(escape(text))</t></is></c>"#
            case .number(let value) where value.isFinite: return #"<c r="\#(ref)"\#(s)><v>\#(value)</v></c>"#
            case .number(let value): return #"<c r="\#(ref)" t="inlineStr"\#(s)><is><t>\#(value)</t></is></c>"#
            case .empty: return ""
            }
        }.joined()
        return #"<row r="\#(number)">\#(body)</row>"#
    }

    /// 0 → A, 25 → Z, 26 → AA.
    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var name = ""
        while n > 0 {
            let r = (n - 1) % 26
            name = String(UnicodeScalar(65 + r)!) + name
            n = (n - 1) / 26
        }
        return name
    }

    /// XML-escaped, without the control characters XML 1.0 cannot carry.
    static func escape(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r" }))
            .replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension RunReport {
    /// The report as a workbook: the run on one sheet, each table or check with its history on another.
    public var workbook: Spreadsheet {
        let number = { (value: Int64?) in value.map { Spreadsheet.Cell.number(Double($0)) } ?? .empty }
        let runRows: [[Spreadsheet.Cell]] = [
            ("run", run.id), ("kind", run.kind), ("status", run.status.rawValue), ("source", run.source ?? ""),
            ("target", run.target ?? ""), ("started", run.startedAt), ("finished", run.finishedAt ?? ""),
            ("summary", run.summary ?? run.error ?? ""), ("baseline", baseline ?? ""), ("generated", generatedAt),
        ]
        .map { [.text($0.0), .text($0.1)] }
        let results = entries.map { e -> [Spreadsheet.Cell] in
            [
                .text(e.name), .text(e.status), number(e.sourceRows), number(e.targetRows), .text(e.message), .text(e.history.joined(separator: " ")),
                .text(e.baselineStatus ?? ""), .text(e.change ?? ""),
            ]
        }
        return Spreadsheet(sheets: [
            Spreadsheet.Sheet(
                name: "Results",
                header: [
                    "table or check", "status", "source rows", "target rows", "message", "history (newest first)",
                    "baseline", "change",
                ], rows: results),
            Spreadsheet.Sheet(name: "Run", header: ["field", "value"], rows: runRows),
        ])
    }
}
