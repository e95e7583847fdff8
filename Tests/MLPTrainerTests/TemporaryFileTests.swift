import Foundation
@testable import MLPTrainer
import Testing

/// No `*.tmp-PID` file outlives its process: removed when the process dies of a signal, and left
/// by a killed one (SIGKILL) removed by the next write to the same path (README, "What the trainer
/// guarantees").
@Suite struct TemporaryFileTests {
    static var datagen: URL { TrainCommandTests.binary.deletingLastPathComponent().appendingPathComponent("datagen") }

    static func temporaries(of path: String) throws -> [String] {
        let url = URL(fileURLWithPath: path)
        return try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(url.lastPathComponent + ".tmp-") }
    }

    @Test(arguments: [SIGTERM, SIGINT]) func datagenRemovesItsTemporaryFileWhenSignalled(_ signal: Int32) throws {
        let out = TrainCommandTests.temporaryPath("gen") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = Self.datagen
        // About 600 MB: seconds of writing, yet finite should the signal be missed.
        process.arguments = ["--rows", "5000000", "--features", "8", "--threads", "1", "--out", out]
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while try Self.temporaries(of: out).isEmpty && Date() < deadline { usleep(10_000) }
        #expect(try !Self.temporaries(of: out).isEmpty)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        #expect(try Self.temporaries(of: out).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aTemporaryLeftByADeadProcessIsRemovedByTheNextWrite() throws {
        let path = TrainCommandTests.temporaryPath("stale") + ".txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A pid that no process has (beyond the kernel's pid_max), and one that exists (ours).
        let stale = path + ".tmp-4194305", live = path + ".tmp-\(getppid())"
        defer { try? FileManager.default.removeItem(atPath: live) }
        for p in [stale, live] { try Data("partial".utf8).write(to: URL(fileURLWithPath: p)) }
        try AtomicFile.write("done", to: path)
        #expect(try Self.temporaries(of: path) == [URL(fileURLWithPath: live).lastPathComponent])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "done")
    }

    @Test func threadsAreCappedAtEightPerCore() throws {
        let limit = 8 * ProcessInfo.processInfo.activeProcessorCount
        let r = try TrainCommandTests.run(["--threads", String(limit + 1), "--epochs", "1", "--out", TrainCommandTests.temporaryPath("t")])
        #expect(r.status != 0 && r.stderr.contains("--threads must be in 1...\(limit) (8 per core)"), "\(r.stderr)")
    }
}
