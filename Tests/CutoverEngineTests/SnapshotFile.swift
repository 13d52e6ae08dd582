import Foundation
import Testing

/// Texts compared with the files kept in `Snapshots/`. A wording or markup change is a change of
/// these files, reviewed like code: `CUTOVER_RECORD_SNAPSHOTS=1 swift test --filter …` rewrites them
/// (and the test fails, so a recording never passes unnoticed).
enum SnapshotFile {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static func expect(_ text: String, matches name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["CUTOVER_RECORD_SNAPSHOTS"] == "1" {
            try text.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded \(file.path); rerun without CUTOVER_RECORD_SNAPSHOTS", sourceLocation: sourceLocation)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(text == expected, "\(name): the output differs from \(file.path)", sourceLocation: sourceLocation)
    }
}
