import Foundation
import Testing
@testable import MLPTrainer

/// A run survives interruption: its saved state continues to exactly the model an uninterrupted
/// run reaches (in-process, and through the CLI with real signals), and progress is reported in
/// both terminal and log modes.
@Suite struct ResumeAndSignalTests {
    func settings() -> TrainingSettings {
        var s = TrainingSettings()
        s.data = .synthetic(rows: 500, features: 4, classes: 2)
        s.hidden = [12, 6]
        s.epochs = 4
        s.batchSize = 60
        s.threads = 2
        s.shards = 3
        s.seed = 5
        return s
    }

    func modelBytes(_ result: TrainingResult) throws -> Data {
        try Safetensors.encode(Checkpoint.tensors(of: result.checkpoint.model), metadata: result.checkpoint.metadata)
    }

    @Test(arguments: [3, 7, 9, 16])
    func resumingAfterAnyStepEqualsTheUninterruptedRun(stopAfterSteps: Int) throws {
        let whole = try TrainingRun(settings: settings()).run()
        var saved: TrainingState?
        var steps = 0
        var control = TrainingControl()
        control.onStep = { _, _, _, _ in steps += 1 }
        control.shouldStop = { steps >= stopAfterSteps }
        control.saveState = { saved = $0 }
        // Stopped in the first epoch, the run reports that it has nothing to report; any other error fails.
        do {
            #expect(try TrainingRun(settings: settings()).run(control: control).interrupted)
        } catch is InterruptedBeforeFirstEpoch {}
        // Round trip the state through its file, then continue with another thread count.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved!.save(to: path)
        var resumeControl = TrainingControl()
        resumeControl.resume = try TrainingState.load(path: path)
        var s = settings()
        s.threads = 1
        let resumed = try TrainingRun(settings: s).run(control: resumeControl)
        #expect(try modelBytes(resumed) == modelBytes(whole))
        #expect(RunWriter.metricsCSV(resumed.history, task: .classification) == RunWriter.metricsCSV(whole.history, task: .classification))
    }

    @Test func sigintSavesEverythingAndResumeFinishesTheSameModel() throws {
        let out = TrainCommandTests.temporaryPath("sigint"), reference = TrainCommandTests.temporaryPath("reference")
        defer { for p in [out, reference] { try? FileManager.default.removeItem(atPath: p) } }
        let arguments = ["--data", "synthetic:6000x4x2", "--epochs", "25", "--seed", "2", "--threads", "2", "--quiet", "--checkpoint-every", "1"]
        let process = Process()
        process.executableURL = TrainCommandTests.binary
        process.arguments = arguments + ["--out", out]
        try process.run()
        // Wait until the first state is saved (training is under way), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors") && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        for file in ["checkpoint.safetensors", "model.safetensors", "metrics.csv", "report.html", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        #expect(summary["interrupted"] as? Bool == true)
        #expect((summary["epochs"] as? Int ?? 25) < 25)
        let changed = try TrainCommandTests.run(["--resume", out, "--lr", "0.5"])
        #expect(changed.status != 0 && changed.stderr.contains("only --allow-data-change, --distributed, --epochs, --quiet, --threads may be given, not --lr"))
        let resumed = try TrainCommandTests.run(["--resume", out, "--threads", "1", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrainCommandTests.run(arguments + ["--out", reference]).status == 0)
        #expect(FileManager.default.contents(atPath: out + "/model.safetensors") == FileManager.default.contents(atPath: reference + "/model.safetensors"))
        #expect(FileManager.default.contents(atPath: out + "/metrics.csv") == FileManager.default.contents(atPath: reference + "/metrics.csv"))
    }

    /// A finished run (its epochs done, or stopped early) has nothing to resume: `--resume` says so,
    /// exits 0 and leaves its files alone (it rewrote summary.json and report.html with zero timings).
    /// One whose last outputs are missing writes them; `--epochs` with more trains on.
    @Test func resumingAFinishedRunLeavesItsFilesAlone() throws {
        let done = TrainCommandTests.temporaryPath("finished"), early = TrainCommandTests.temporaryPath("stopped-early")
        defer { for p in [done, early] { try? FileManager.default.removeItem(atPath: p) } }
        let common = ["--data", "synthetic:2000x5x3", "--hidden", "8", "--threads", "2", "--quiet"]
        #expect(try TrainCommandTests.run(common + ["--epochs", "3", "--out", done]).status == 0)
        #expect(try TrainCommandTests.run(common + ["--epochs", "400", "--validation-fraction", "0.2", "--early-stopping", "2",
                                                     "--out", early]).status == 0)
        for (out, says) in [(done, "the run is complete (3 of 3 epochs"), (early, "the run stopped early after epoch ")] {
            let before = try Self.files(out)
            let again = try TrainCommandTests.run(["--resume", out])
            #expect(again.status == 0 && again.stdout.contains(says), "\(again.stdout)\(again.stderr)")
            let after = try Self.files(out)
            #expect(after == before, "changed: \(Set(after.keys).union(before.keys).filter { after[$0] != before[$0] }.sorted())")
        }
        try FileManager.default.removeItem(atPath: done + "/report.html")
        #expect(try TrainCommandTests.run(["--resume", done, "--quiet"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: done + "/report.html"))
        #expect(try TrainCommandTests.run(["--resume", done, "--epochs", "4", "--quiet"]).status == 0)
        #expect(Self.epochsSaved(done) == 4)
    }

    /// The run's files and their bytes (not `.lock`, which holds the pid of whoever last locked the run).
    static func files(_ directory: String) throws -> [String: Data] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0 != ".lock" }
        return Dictionary(uniqueKeysWithValues: try names.map { ($0, try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))) })
    }

    /// README, "What the trainer guarantees": `--epochs 1000000000000` runs until stopped, its
    /// history (checkpoint, metrics.csv) stays bounded however long it has run, and SIGTERM ends it
    /// with everything saved after at most 1 s of CPU time (wall time depends on the machine's load:
    /// a process with a core of its own exits within 2 s). /usr/bin/time gives the run's CPU time.
    /// Under `make test-asan` the bound is `slowUnwinderFactor` times as much (AddressSanitizer's own
    /// cost; the same build with its fast unwinder needs 0.46 s).
    @Test func sigtermEndsAVeryLongRunQuicklyWithBoundedFiles() throws {
        let out = TrainCommandTests.temporaryPath("sigterm"), times = out + ".time"
        defer { for p in [out, times] { try? FileManager.default.removeItem(atPath: p) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%U %S", "-o", times, TrainCommandTests.binary.path, "--data", "synthetic:100x2x2", "--hidden", "2",
                             "--batch-size", "full", "--epochs", "1000000000000", "--checkpoint-every", "1000", "--quiet", "--out", out]
        try process.run()
        // Past the history's capacity (HistoryBound: 2,000 epochs) before the signal.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, Self.epochsSaved(out) < 5_000 { usleep(100_000) }
        let train = try #require(Self.child(of: process.processIdentifier))
        let cpuBefore = Self.cpuSeconds(train)
        let signalled = Date()
        kill(train, SIGTERM)
        process.waitUntilExit()
        let wall = Date().timeIntervalSince(signalled)
        // The last line ("USER SYSTEM"), after time's "Command exited with non-zero status 130".
        let total = try String(contentsOfFile: times, encoding: .utf8).split(separator: "\n").last?.split(separator: " ").compactMap { Double($0) } ?? []
        #expect(process.terminationStatus == 130)
        #expect(total.count == 2 && total[0] + total[1] - cpuBefore < slowUnwinderFactor,
                "\(total) s of CPU in all, \(cpuBefore) before SIGTERM; \(wall) s wall")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
        let epochs = summary?["epochs"] as? Int ?? 0
        #expect(epochs >= 5_000 && summary?["interrupted"] as? Bool == true)
        let metricsLines = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n").count
        #expect(metricsLines <= 2_004 && metricsLines > 1_000, "\(metricsLines) lines of metrics.csv after \(epochs) epochs")
        for (file, limit) in [("checkpoint.safetensors", 500_000), ("report.html", 500_000), ("loss.svg", 200_000)] {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(out)/\(file)")[.size] as? Int) ?? nil
            #expect((size ?? .max) < limit, "\(file): \(size ?? -1) bytes")
        }
    }

    /// The first child process of `parent` (/proc/PID/task/PID/children).
    static func child(of parent: Int32) -> Int32? {
        let text = try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)
        return text?.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// User + system CPU seconds of a running process (/proc/PID/stat, in clock ticks).
    static func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .infinity }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The epochs the run's last checkpoint holds (0 before the first).
    static func epochsSaved(_ out: String) -> Int {
        guard let state = try? TrainingState.load(path: out + "/checkpoint.safetensors") else { return 0 }
        return state.epochsCompleted
    }

    @Test func nonFiniteLossStopsWithTheEpochAndStepAndLeavesNothingEmpty() throws {
        let out = TrainCommandTests.temporaryPath("nan")
        let r = try TrainCommandTests.run(["--optimizer", "sgd", "--lr", "1e30", "--epochs", "3", "--out", out, "--quiet"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("the training loss became NaN at epoch 1, step"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func logModePrintsALinePerLoggedEpoch() throws {
        let out = TrainCommandTests.temporaryPath("log")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(["--epochs", "4", "--log-every", "2", "--out", out])
        let epochLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        #expect(epochLines.map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] } == ["1", "2", "4"])
        #expect(!r.stdout.contains("\r"))
    }

    @Test func terminalModeDrawsOneLiveLine() throws {
        // `script` runs the command on a pseudo-terminal.
        let out = TrainCommandTests.temporaryPath("tty")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let command = ([TrainCommandTests.binary.path, "--data", "synthetic:60000x4x2", "--epochs", "3", "--out", out])
            .map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("\r\u{1B}[Kepoch 1/3 ["))
        #expect(output.contains("samples/s  ETA "))
        #expect(!output.contains("epoch    1  train loss"))
    }
}
