import CutoverCore
import CutoverTesting
import Foundation
import Testing

@Suite struct ReportTests {
    static var canPrint: Bool {
        ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"
            || ["/usr/bin/chromium", "/usr/bin/pdftotext"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `--pdf` prints the HTML report with Chromium: a real PDF whose pages carry the run and its
    /// results (read back with poppler's pdftotext and rendered with pdftoppm).
    @Test(.enabled(if: canPrint))
    func reportPrintsAPDFWhosePagesHoldTheResults() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let demo = try await CLI.run(["demo"], in: dir)
            #expect(demo.status == 0)
            let printed = try await CLI.run(["report", "--pdf", "--out", "rep"], in: dir)
            #expect(printed.status == 0 && printed.stdout.contains("wrote rep/report.pdf"), "\(printed.output)")
            let pdf = try Data(contentsOf: URL(fileURLWithPath: dir + "/rep/report.pdf"))
            #expect(pdf.starts(with: Array("%PDF".utf8)))
            let text = try await CLI.shell(
                "pdftotext rep/report.pdf - && pdftoppm -png -r 40 rep/report.pdf rep/page && echo && ls rep/page-*.png | wc -l", in: dir)
            #expect(text.status == 0, "\(text.output)")
            for expected in ["Cutover report", "Results", "call_center", "daily_metrics", "passed"] {
                #expect(text.stdout.contains(expected), "\(expected) not in the PDF's text: \(text.stdout.prefix(500))")
            }
            #expect(Int(text.stdout.split(separator: "\n").last ?? "") ?? 0 >= 1, "\(text.stdout.suffix(100))")
            // Without Chromium: a clear error, exit 3, and the other formats are still written.
            let missing = try await CLI.run(
                ["report", "--pdf", "--out", "rep2"], in: dir, environment: ["CUTOVER_CHROMIUM": "/nonexistent/chromium"])
            #expect(missing.status == 3 && missing.stderr.contains("PDF export needs Chromium"), "\(missing.output)")
            #expect(FileManager.default.fileExists(atPath: dir + "/rep2/report.html"))
        }
    }

    @Test func reportWritesAllFormatsWithHistoryAndFailsOnFailures() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            #expect(try await CLI.run(["demo"], in: dir).status == 0)
            let ok = try await CLI.run(["report", "--out", "rep"], in: dir)
            #expect(ok.status == 0, "\(ok.output)")
            for file in ["report.json", "report.md", "report.junit.xml", "report.html", "report.xlsx"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/rep/\(file)"))
            }
            // The workbook opens as a zip with the results sheet, rows as numbers.
            let sheet = try await CLI.shell(
                "python3 -c \"import zipfile; print(zipfile.ZipFile('rep/report.xlsx').read('xl/worksheets/sheet1.xml').decode())\"", in: dir)
            #expect(sheet.stdout.contains("sample_data") && sheet.stdout.contains("<v>500"), "\(sheet.output)")
            let markdown = try String(contentsOfFile: dir + "/rep/report.md", encoding: .utf8)
            #expect(markdown.contains("| ✓ | sample_data | passed | 500 | 500 | 500 rows identical | ✓ |"))
            let html = try String(contentsOfFile: dir + "/rep/report.html", encoding: .utf8)
            #expect(html.contains("<svg") && !html.contains("<script") && !html.contains("src=\"http"))

            let passing = try await CLI.run(
                ["validate", "--source", "sqlite:.cutover/demo/source.db", "--target", "sqlite:.cutover/demo/target.db", "--tables", "sample_data"],
                in: dir)
            #expect(passing.status == 0, "\(passing.output)")
            let baselineID = try #require(
                try await CLI.run(["runs", "list"], in: dir).stdout.split(separator: "\n")
                    .first { $0.contains("validate") && $0.contains("succeeded") }?.split(separator: " ").first.map(String.init))

            // A failing validation: JUnit carries the failure, the command exits 1.
            try CLI.sqliteFile(dir + "/other.db", "CREATE TABLE sample_data (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);")
            let validate = try await CLI.run(
                ["validate", "--source", "sqlite:.cutover/demo/source.db", "--target", "sqlite:other.db", "--tables", "sample_data"], in: dir)
            #expect(validate.status == 1)
            let failing = try await CLI.run(["report", "--out", "rep2"], in: dir)
            #expect(failing.status == 1)
            let junit = try String(contentsOfFile: dir + "/rep2/report.junit.xml", encoding: .utf8)
            #expect(junit.contains("failures=\"1\""))
            #expect(
                junit.contains(
                    "<testcase classname=\"cutover.validate\" name=\"sample_data\"><failure message=\"target table sample_data has no column category"
                ))
            // Against the passing run, the failure is a regression.
            let compared = try await CLI.run(["report", "--out", "rep3", "--baseline", baselineID], in: dir)
            #expect(compared.status == 1)
            #expect(compared.stdout.contains("against baseline \(baselineID): 1 regression(s), 0 fixed, 0 new"), "\(compared.output)")
            #expect(compared.stdout.contains("regression: sample_data"), "\(compared.output)")
            let comparedMarkdown = try String(contentsOfFile: dir + "/rep3/report.md", encoding: .utf8)
            #expect(comparedMarkdown.contains("| regression (was passed) |"), "\(comparedMarkdown)")
            let badBaseline = try await CLI.run(["report", "--baseline", "nope"], in: dir)
            #expect(badBaseline.status == 2)
            let badID = try await CLI.run(["report", "nope"], in: dir)
            #expect(badID.status == 2)
        }
    }
}
