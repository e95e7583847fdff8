import Foundation
@testable import MLPTrainer
import Testing

/// `--resume` and `--cache` notice a data file that changed, also one rewritten with its old size
/// and mtime, and `--resume` reads the run's own files from any working directory (README, "What
/// the trainer guarantees").
@Suite struct DataChangeTests {
    static func run(_ arguments: [String], in directory: String) throws -> TrainCommandTests.Outcome {
        let process = Process()
        process.executableURL = TrainCommandTests.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        return try Executable.collect(process)
    }

    static func directory(_ name: String) throws -> String {
        let path = TrainCommandTests.temporaryPath(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Rewrites `path` with the same size (two data lines swapped) and its old mtime.
    static func rewriteKeepingSizeAndMtime(_ path: String) throws {
        var before = stat()
        stat(path, &before)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let j = lines.indices.dropFirst(2).first { lines[$0].count == lines[1].count && lines[$0] != lines[1] }!
        lines.swapAt(1, j)
        try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
        var times = [timespec(tv_sec: before.st_atim.tv_sec, tv_nsec: before.st_atim.tv_nsec),
                     timespec(tv_sec: before.st_mtim.tv_sec, tv_nsec: before.st_mtim.tv_nsec)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    static let training = ["--epochs", "3", "--threads", "2", "--batch-size", "100", "--quiet"]

    @Test func resumeFromAnotherDirectoryReadsTheRunsOwnFile() throws {
        let a = try Self.directory("cwd-a"), b = try Self.directory("cwd-b"), reference = TrainCommandTests.temporaryPath("ref")
        defer { for p in [a, b, reference] { try? FileManager.default.removeItem(atPath: p) } }
        let text = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8)
        try text.write(toFile: a + "/data.csv", atomically: true, encoding: .utf8)
        // Another file of the same name where the resume is started from.
        let lines = text.split(separator: "\n")
        try ([lines[0]] + lines.dropFirst().reversed()).joined(separator: "\n").write(toFile: b + "/data.csv", atomically: true, encoding: .utf8)
        #expect(try Self.run(["--data", "data.csv", "--out", a + "/run"] + Self.training, in: a).status == 0)
        let resumed = try Self.run(["--resume", a + "/run", "--epochs", "5", "--quiet"], in: b)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let whole = try Self.run(["--data", "data.csv", "--out", reference] + Self.training + ["--epochs", "5"], in: a)
        #expect(whole.status == 0)
        #expect(FileManager.default.contents(atPath: a + "/run/metrics.csv") == FileManager.default.contents(atPath: reference + "/metrics.csv"))
        // The model's configuration names the file as given (data.csv), not by the absolute path the checkpoint reads.
        #expect(FileManager.default.contents(atPath: a + "/run/model.safetensors") == FileManager.default.contents(atPath: reference + "/model.safetensors"))
    }

    @Test func resumeRefusesAChangedDataFileUnlessAllowed() throws {
        let dir = try Self.directory("changed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8).write(toFile: dir + "/data.csv", atomically: true, encoding: .utf8)
        #expect(try Self.run(["--data", "data.csv", "--out", "run"] + Self.training, in: dir).status == 0)
        try Self.rewriteKeepingSizeAndMtime(dir + "/data.csv")
        let refused = try Self.run(["--resume", "run", "--epochs", "4"], in: dir)
        #expect(refused.status != 0 && refused.stderr.contains("data.csv: its content changed since the run started")
                && refused.stderr.contains("--allow-data-change"), "\(refused.stderr)")
        let allowed = try Self.run(["--resume", "run", "--epochs", "4", "--allow-data-change", "--quiet"], in: dir)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        // A file that lost a column cannot continue the run, even when allowed to change: say which.
        let fewer = try String(contentsOfFile: dir + "/data.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }
        try fewer.joined(separator: "\n").write(toFile: dir + "/data.csv", atomically: true, encoding: .utf8)
        let lost = try Self.run(["--resume", "run", "--epochs", "5", "--allow-data-change", "--quiet"], in: dir)
        #expect(lost.status != 0 && lost.stderr.contains("the checkpoint's inputs are 4 (variance, skewness, curtosis, entropy)")
                && lost.stderr.contains("now gives 3 (skewness, curtosis, entropy)"), "\(lost.stderr)")
    }

    @Test func cacheIsNotUsedForAFileRewrittenWithItsOldSizeAndMtime() throws {
        let dir = try Self.directory("cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/data.csv"
        try "a,b,y\n1,2,0\n3,4,1\n5,6,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let options = CSVOptions(threads: 1, cache: true)
        _ = try loadCSV(path: path, options: options)
        try Self.rewriteKeepingSizeAndMtime(path)
        let (data, report) = try loadCSV(path: path, options: options)
        #expect(!report.fromCache)
        #expect(data.features.prefix(2) == [3, 4])
    }

    @Test func aDirectoryOrAPipeIsNotADataFile() throws {
        let dir = try Self.directory("notregular")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        for path in [dir, dir + "/fifo"] {
            #expect(throws: DataError.self) { try loadCSV(path: path, options: CSVOptions(threads: 1)) }
        }
    }
}

extension DataChangeTests {
    @Test func aCheckpointWithANegativeEpochCountIsRefused() throws {
        let out = TrainCommandTests.temporaryPath("edited")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try TrainCommandTests.run(["--epochs", "2", "--out", out, "--quiet"]).status == 0)
        let path = out + "/checkpoint.safetensors"
        var (tensors, metadata) = try Checkpoint.read(path: path)
        metadata["resume"] = metadata["resume"]!.replacingOccurrences(of: #""epochs_completed":"2""#, with: #""epochs_completed":"-1""#)
        #expect(metadata["resume"]!.contains("-1"))
        try Safetensors.encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path))
        tensors = [:]
        let r = try TrainCommandTests.run(["--resume", out])
        #expect(r.status != 0 && r.stderr.contains("inconsistent position (epochs_completed -1"), "\(r.stderr)")
    }
}
