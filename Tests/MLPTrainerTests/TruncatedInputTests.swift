import Foundation
import Testing

/// A data file that another process truncates while `train` reads it through its mapping (README,
/// "What the trainer guarantees"): the SIGBUS ends the run with a line naming the file and status 1,
/// not a crash. The test truncates the file as soon as it shows in the process's mappings
/// (/proc/PID/maps), so the reader is at work on it; a run whose load was over by then does not count,
/// and is tried again on a larger file.
@Suite struct TruncatedInputTests {
    @Test func aFileTruncatedWhileMappedEndsWithAMessageNamingIt() throws {
        var outcomes: [String] = []
        for rows in [300_000, 600_000, 1_200_000] {
            let data = TrainCommandTests.temporaryPath("shrinking") + ".csv"
            let out = TrainCommandTests.temporaryPath("shrinking-run")
            defer { for p in [data, out] { try? FileManager.default.removeItem(atPath: p) } }
            #expect(try Executable.run("datagen", ["--rows", "\(rows)", "--out", data]).status == 0)
            let r = try runTruncatingOnceMapped(data, ["--data", data, "--epochs", "1", "--threads", "1", "--out", out])
            if r.status == 1 && r.stderr.contains("train: error: \(data): the file was truncated while being read") {
                #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors"))
                return
            }
            outcomes.append("\(rows) rows: status \(r.status), \(r.stderr.suffix(300))")
        }
        Issue.record("no run met the truncation while reading: \(outcomes)")
    }

    /// Runs `train` and truncates `path` to 0 bytes the first time it appears in the process's mappings.
    func runTruncatingOnceMapped(_ path: String, _ arguments: [String]) throws -> TrainCommandTests.Outcome {
        let process = Process()
        process.executableURL = TrainCommandTests.binary
        process.arguments = arguments
        return try Self.runTruncatingOnceMapped(path, process) { [$0] }
    }

    /// Runs `process` and truncates `path` to 0 bytes the first time it appears in the mappings of
    /// one of `readers(pid)` (the process itself, or mpirun's children).
    static func runTruncatingOnceMapped(_ path: String, _ process: Process, readers: @escaping (pid_t) -> [pid_t]) throws -> TrainCommandTests.Outcome {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        watching: while process.isRunning {
            for reader in readers(process.processIdentifier) {
                if let text = try? String(contentsOfFile: "/proc/\(reader)/maps", encoding: .utf8), text.contains(path) {
                    #expect(truncate(path, 0) == 0)
                    break watching
                }
            }
            usleep(200)
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderr, as: UTF8.self))
    }
}
