import Foundation
import Testing

/// README, "Resume, interrupt, progress": no SIGTERM to `train` is lost, wherever in its startup it
/// lands. Before the run is armed (parsing, loading the data) the process dies of the signal with
/// nothing written; from the moment its run directory exists the run stops after a step with its
/// state saved and exits 130. A lost signal leaves a run of a million epochs going, which the bound
/// (generous: a stop needs well under a second of CPU) catches. A second signal ends the process at
/// once. The runs are sequential: each starts on an otherwise idle test process.
@Suite(.serialized) struct StopSignalTests {
    static let run = ["--hidden", "4", "--epochs", "1000000", "--checkpoint-every", "1", "--threads", "2", "--quiet"]
    static let bound: TimeInterval = 60

    /// How a signalled run ended: dead of the signal with no run directory, or 130 with a checkpoint.
    enum Ending: Equatable { case diedOfSignal, stoppedWithCheckpoint, other(String) }

    /// Starts `train`, sends SIGTERM once `ready` (polled every 0.2 ms) holds, and says how it ended;
    /// a process still running `bound` seconds later is killed and reported as such.
    static func signalled(_ data: String, when ready: (Process, String) -> Bool) throws -> Ending {
        let out = TrainCommandTests.temporaryPath("stop")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = TrainCommandTests.binary
        process.arguments = ["--data", data, "--out", out] + run
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        while process.isRunning && !ready(process, out) { usleep(200) }
        kill(process.processIdentifier, SIGTERM)
        let signalled = Date()
        while process.isRunning && Date().timeIntervalSince(signalled) < bound { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return .other("still running \(bound) s after SIGTERM: the signal was lost")
        }
        process.waitUntilExit()
        let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        switch (process.terminationReason, process.terminationStatus) {
        case (.uncaughtSignal, SIGTERM) where !FileManager.default.fileExists(atPath: out): return .diedOfSignal
        case (.exit, 130) where files.contains("checkpoint.safetensors") && !files.contains { $0.contains(".tmp-") }:
            return .stoppedWithCheckpoint
        case let (reason, status): return .other("\(reason) \(status), files \(files.sorted())")
        }
    }

    /// Signals spread over the whole startup (process start, flag parsing, data, network, first steps).
    @Test func aSignalAtAnyMomentOfStartupEndsTheRun() throws {
        var endings: [Ending] = []
        for delay in stride(from: 0, through: 300_000, by: 12_000) {
            var started: Date?
            let ending = try Self.signalled("synthetic:200x3x2") { _, _ in
                let now = Date()
                if started == nil { started = now }
                return now.timeIntervalSince(started!) * 1e6 >= Double(delay)
            }
            #expect(ending == .diedOfSignal || ending == .stoppedWithCheckpoint, "SIGTERM \(delay / 1000) ms after the start: \(ending)")
            endings.append(ending)
        }
        // The sweep reaches past the startup: its later signals find a running run.
        #expect(endings.contains(.stoppedWithCheckpoint), "\(endings)")
    }

    /// The moment the run directory appears is the moment the run took over the signals (the old
    /// handler lost signals there: ignored before it listened).
    @Test func aSignalAsTheRunDirectoryAppearsStopsTheRunWithItsState() throws {
        for attempt in 1...12 {
            let ending = try Self.signalled("synthetic:200x3x2") { _, out in FileManager.default.fileExists(atPath: out) }
            #expect(ending == .stoppedWithCheckpoint, "attempt \(attempt): \(ending)")
        }
    }

    /// While the CSV is being read (it shows in the process's mappings) the process ends at once.
    @Test func aSignalDuringTheCSVLoadEndsTheProcess() throws {
        let data = TrainCommandTests.temporaryPath("stop-load") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: data) }
        try #require(try Executable.run("datagen", ["--rows", "300000", "--out", data]).status == 0)
        let ending = try Self.signalled(data) { process, _ in
            (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/maps", encoding: .utf8))?.contains(data) == true
        }
        // A load over before the signal landed stops the run instead; either way it ends.
        #expect(ending == .diedOfSignal || ending == .stoppedWithCheckpoint, "\(ending)")
    }

    /// Two signals while running: the first asks for the stop, the second ends the process at once,
    /// dying of it, with no temporary file left. Both are sent while the process is stopped
    /// (SIGSTOP), so they are pending together and the second is not merged into the first.
    @Test func aSecondSignalEndsTheProcessAtOnce() throws {
        let out = TrainCommandTests.temporaryPath("stop-twice")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = TrainCommandTests.binary
        process.arguments = ["--data", "synthetic:200x3x2", "--out", out] + Self.run
        try process.run()
        let pid = process.processIdentifier
        while process.isRunning && ResumeAndSignalTests.epochsSaved(out) < 1 { usleep(1_000) }
        kill(pid, SIGSTOP)
        while process.isRunning && Self.state(pid) != "T" { usleep(1_000) }
        kill(pid, SIGTERM)
        kill(pid, SIGINT)
        kill(pid, SIGCONT)
        let signalled = Date()
        while process.isRunning && Date().timeIntervalSince(signalled) < Self.bound { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && [SIGTERM, SIGINT].contains(process.terminationStatus),
                "\(process.terminationReason) \(process.terminationStatus)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(files.contains("checkpoint.safetensors") && !files.contains { $0.contains(".tmp-") }, "\(files)")
    }

    /// A signal after the last step, while the outputs are being written: nothing is left to cut
    /// short, so the run writes the finished run's outputs, but still exits 130 (a caller must learn
    /// that a signal stopped it). A one-epoch run saves its only checkpoint after the loop's last
    /// look at the stop request, so the signal goes in when that file appears, with the process held
    /// (SIGSTOP) before its last output (report.html) exists; a run already past that is tried again.
    @Test func aSignalAfterTheLastStepStillEndsWith130AndTheFinishedOutputs() throws {
        var missed = 0
        for attempt in 1...8 {
            let out = TrainCommandTests.temporaryPath("stop-late")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let process = Process()
            process.executableURL = TrainCommandTests.binary
            process.arguments = ["--data", "synthetic:100000x8x2", "--hidden", "4", "--epochs", "1", "--threads", "2", "--quiet", "--out", out]
            try process.run()
            let pid = process.processIdentifier
            while process.isRunning && !FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors") { usleep(200) }
            kill(pid, SIGSTOP)
            while process.isRunning && Self.state(pid) != "T" { usleep(1_000) }
            let inTime = process.isRunning && !FileManager.default.fileExists(atPath: out + "/report.html")
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
            process.waitUntilExit()
            guard inTime else { missed += 1; continue }
            #expect(process.terminationReason == .exit && process.terminationStatus == 130,
                    "attempt \(attempt): \(process.terminationReason) \(process.terminationStatus)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            for file in ["checkpoint.safetensors", "model.safetensors", "metrics.csv", "summary.json", "report.html"] {
                #expect(files.contains(file), "\(file) missing: \(files.sorted())")
            }
            #expect(!files.contains { $0.contains(".tmp-") }, "\(files)")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
            #expect(summary?["interrupted"] as? Bool == false && summary?["epochs"] as? Int == 1, "\(String(describing: summary))")
            return
        }
        Issue.record("no attempt held the process before its last output (\(missed) missed)")
    }

    /// The process state letter of /proc/PID/stat (T: stopped).
    static func state(_ pid: Int32) -> String? {
        let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        return stat?.split(separator: ")").last?.split(separator: " ").first.map(String.init)
    }
}
