import Foundation
import Testing
@testable import MLPTrainer

/// README, "What the trainer guarantees": one process at a time in a run directory.
@Suite struct RunDirectoryLockTests {
    /// flock locks belong to an open file, so a second lock conflicts even in the same process.
    @Test func aSecondLockNamesTheHolder() throws {
        let directory = TrainCommandTests.temporaryPath("locked")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let first = try RunWriter.create(directory)
            let busy = #expect(throws: ArtifactError.self) { _ = try RunDirectoryLock(directory) }
            #expect(busy?.description == "\(directory): in use by another train process (PID \(getpid())); wait for it to end or choose another directory")
            let existing = #expect(throws: ArtifactError.self) { _ = try RunWriter.create(directory) }
            #expect(existing?.description == "\(directory): already exists; choose another --out")
            withExtendedLifetime(first) {}
        }
        // Released with its holder: the directory can be locked again.
        _ = try RunDirectoryLock(directory)
    }

    @Test func resumeRefusesADirectoryAnotherTrainIsWriting() throws {
        let out = TrainCommandTests.temporaryPath("busy")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let first = Process()
        first.executableURL = TrainCommandTests.binary
        first.arguments = ["--data", "synthetic:200x3x2", "--hidden", "4", "--epochs", "1000000", "--checkpoint-every", "1", "--quiet", "--out", out]
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while ResumeAndSignalTests.epochsSaved(out) < 1 && Date() < deadline { usleep(20_000) }
        let second = try TrainCommandTests.run(["--resume", out, "--quiet"])
        let racing = try TrainCommandTests.run(["--data", "synthetic:200x3x2", "--quiet", "--out", out])
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
        #expect(second.status == 1 && second.stderr.contains("\(out): in use by another train process (PID \(first.processIdentifier))"),
                "\(second.stderr)")
        #expect(racing.status == 1 && racing.stderr.contains("\(out): already exists"), "\(racing.stderr)")
        #expect(first.terminationStatus == 130)
        // The lock ends with its process: the run continues.
        let resumed = try TrainCommandTests.run(["--resume", out, "--quiet", "--epochs", "\(ResumeAndSignalTests.epochsSaved(out) + 1)"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}
