import CKernels
import Foundation

/// What a figure was measured on: the machine line of every subcommand and the "machine" field of
/// every JSON result.
struct Machine: Codable {
    var cpu: String
    var logicalCpus: Int
    var isa: String
    var openmp: String
    var commit: String

    static let current = Machine(
        cpu: cpuModel(), logicalCpus: ProcessInfo.processInfo.activeProcessorCount,
        isa: String(cString: ck_isa_name(ck_isa_active())), openmp: String(cString: ck_openmp_runtime()),
        commit: sourceCommit())

    var line: String {
        "machine: \(cpu), \(logicalCpus) logical CPUs, kernels \(isa), \(openmp), commit \(commit)"
    }

    /// /proc/cpuinfo's first "model name".
    private static func cpuModel() -> String {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
            ?? "unknown CPU"
    }

    /// The commit of the checkout this binary was built from (found where the compiler saw its
    /// sources), "+dirty" with uncommitted changes to tracked files; "unknown" without git. Read at
    /// run time (SwiftPM has no build-time defines without a plugin): rebuild after checking out.
    private static func sourceCommit() -> String {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        guard let commit = git(["-C", directory, "rev-parse", "--short=12", "HEAD"]) else { return "unknown" }
        let changes = git(["-C", directory, "status", "--porcelain", "--untracked-files=no"]) ?? ""
        return changes.isEmpty ? commit : commit + "+dirty"
    }

    private static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
