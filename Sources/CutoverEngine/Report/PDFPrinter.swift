import CutoverCore
import Foundation

/// PDF pages of an HTML page, printed by headless Chromium: a real layout engine, where no
/// maintained Swift PDF writer exists. The browser is `CUTOVER_CHROMIUM`, else the first of
/// `chromium`, `chromium-browser`, `google-chrome` on the PATH.
public enum PDFPrinter {
    static let timeoutSeconds = 120.0

    public static var browser: String? {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["CUTOVER_CHROMIUM"], !chosen.isEmpty {
            return FileManager.default.isExecutableFile(atPath: chosen) ? chosen : nil
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) { return directory + "/" + name }
        }
        return nil
    }

    /// The PDF of `html` (A4, backgrounds printed, no browser header or footer).
    public static func pdf(html: String) async throws -> Data {
        guard let browser else {
            throw CutoverError(
                .io, "PDF export needs Chromium, which this machine does not have",
                hint: "install it (apt-get install chromium) or set CUTOVER_CHROMIUM to its path; report.html has the same content")
        }
        let work = NSTemporaryDirectory() + "cutover-pdf-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }  // a scratch folder: nothing in it is kept
        let page = work + "/report.html", output = work + "/report.pdf"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + work + "/profile", "--no-pdf-header-footer", "--print-to-pdf=" + output,
            URL(fileURLWithPath: page).absoluteString,
        ]
        let (status, errors) = try await BlockingIO.run { () throws -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: browser)
            process.arguments = arguments
            // Its chatter goes to a file: a pipe nobody reads while it runs could fill and stall it.
            let log = work + "/chromium.log"
            guard FileManager.default.createFile(atPath: log, contents: nil), let stderr = FileHandle(forWritingAtPath: log) else {
                throw CutoverError(.io, "cannot write to the temporary folder \(work)")
            }
            defer { try? stderr.close() }  // a log of a scratch run
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderr
            try process.run()
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")  // no log: the exit status is reported alone
        }
        guard let data = FileManager.default.contents(atPath: output), data.starts(with: Array("%PDF".utf8)) else {
            let reason = errors.split(separator: "\n").last.map(String.init) ?? "no output"
            throw CutoverError(
                .io, "Chromium (\(browser)) did not print the PDF (exit \(status)): \(reason)",
                hint: "run it by hand with --headless=new --print-to-pdf to see why; report.html has the same content")
        }
        return data
    }
}
