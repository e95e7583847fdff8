import ArgumentParser
import Foundation
import CKernels
import MLPTrainer

/// The one entry point of the command-line tools: every failure, from flag parsing on, is one line
/// `<tool>: error: <message>` on stderr and a non-zero exit; help and version exit 0.
public protocol ToolCommand: ParsableCommand {}

extension ToolCommand {
    public static func main() {
        AtomicFile.removeTemporariesOnSignals()
        ck_stdout_line_buffered()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success || error is ExitCode { exit(withError: error) }
            let text = message(for: error)
            let name = configuration.commandName ?? String(describing: Self.self).lowercased()
            FileHandle.standardError.write(Data("\(name): error: \(text.split(separator: "\n").first ?? "")\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }
}
