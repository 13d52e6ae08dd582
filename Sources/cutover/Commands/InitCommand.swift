import ArgumentParser
import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented cutover.yml to start from.",
        discussion: "Example: cutover init && $EDITOR cutover.yml")

    @Option(name: .shortAndLong, help: "Where to write the file.") var output = "cutover.yml"
    @Flag(name: .long, help: "Overwrite an existing file.") var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: output), !force {
            throw CutoverError(.usage, "\(output) already exists; nothing was written", hint: "pass --force to overwrite it, or -o other.yml")
        }
        do {
            try ConfigTemplate.text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw CutoverError(.io, "cannot write \(output): \(error.localizedDescription)")
        }
        Terminal.say("wrote \(output): set your connections, then run `cutover analyze --source source`")
    }
}
