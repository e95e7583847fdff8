import Foundation
import Testing

/// README, "Several processes and hosts": `mpirun -np P train --distributed mpi --threads T` writes
/// the bytes of one process for any P x T, and a failure on any process ends the whole job. Needs
/// Open MPI's mpirun (`make test` installs openmpi-bin); the jobs run over TCP on loopback.
@Suite(.serialized) struct MPITests {
    static let mpirunFlags = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--mca", "pml", "ob1",
                              "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"]
    /// Small and quick, with what crosses processes: BatchNorm, dropout, mini-batches, a test split.
    static let recipe = ["--data", "synthetic:700x5x3", "--hidden", "16,8", "--epochs", "2", "--batch-size", "128",
                         "--dropout", "0.3", "--seed", "5", "--quiet"]

    /// `processes` copies of train with `arguments`.
    static func mpirun(_ processes: Int, _ arguments: [String]) -> Process {
        mpirun(job: ["-np", String(processes), TrainCommandTests.binary.path] + arguments)
    }

    /// mpirun over loopback TCP with `job` (one program, or several separated by ":").
    static func mpirun(job: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun"] + mpirunFlags + job
        return process
    }

    static func run(_ processes: Int, _ arguments: [String]) throws -> TrainCommandTests.Outcome {
        try Executable.collect(mpirun(processes, arguments))
    }

    /// The model and metrics a run writes into a fresh directory.
    static func outputs(_ processes: Int?, threads: Int, shards: Int, recipe: [String] = recipe) throws -> (model: Data, metrics: String) {
        let out = TrainCommandTests.temporaryPath("mpi")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let arguments = recipe + ["--threads", String(threads), "--shards", String(shards), "--out", out]
        let r = try processes.map { try run($0, ["--distributed", "mpi"] + arguments) } ?? TrainCommandTests.run(arguments)
        #expect(r.status == 0, "\(processes ?? 1) x \(threads): \(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        #expect(summary?["processes"] as? Int == processes ?? 1 && summary?["threads"] as? Int == threads)
        return (try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")),
                try String(contentsOfFile: "\(out)/metrics.csv", encoding: .utf8))
    }

    @Test func mpirunIsInstalled() {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun"),
                "the MPI tests need Open MPI: make test installs it (apt-get install openmpi-bin libopenmpi-dev)")
    }

    @Test func anySplitIntoProcessesAndThreadsWritesTheBytesOfOneProcess() throws {
        let reference = try Self.outputs(nil, threads: 2, shards: 4)
        for (processes, threads) in [(2, 1), (2, 2), (4, 1)] {
            let split = try Self.outputs(processes, threads: threads, shards: 4)
            #expect(split.model == reference.model, "\(processes) x \(threads) changed the model")
            #expect(split.metrics == reference.metrics, "\(processes) x \(threads) changed the metrics")
        }
    }

    @Test func blocksThatAreNotSubtreesStillGiveTheSameBytes() throws {
        // 6 shards over 2 processes: blocks of 3, each summed as its subtrees (2 + 1 shards).
        let reference = try Self.outputs(nil, threads: 1, shards: 6)
        let split = try Self.outputs(2, threads: 1, shards: 6)
        #expect(split.model == reference.model)
        #expect(split.metrics == reference.metrics)
    }

    @Test func regressionWritesTheBytesOfOneProcessToo() throws {
        // Its figures (R^2, MAE, RMSE) come from every row's output, gathered from the processes.
        let data = TrainCommandTests.temporaryPath("mpi-regression") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: data) }
        #expect(try Executable.run("datagen", ["--rows", "800", "--task", "regression", "--out", data]).status == 0)
        // With a validation split and early stopping on its R^2: the kept epoch is every process's.
        let recipe = ["--data", data, "--task", "regression", "--hidden", "16,8", "--epochs", "3", "--batch-size", "128", "--quiet",
                      "--validation-fraction", "0.2", "--early-stopping", "2", "--early-stopping-metric", "r2"]
        let reference = try Self.outputs(nil, threads: 2, shards: 4, recipe: recipe)
        let split = try Self.outputs(2, threads: 1, shards: 4, recipe: recipe)
        #expect(reference.metrics.contains("validation_r2"))
        #expect(split.model == reference.model)
        #expect(split.metrics == reference.metrics)
    }

    @Test func trainingOptionsWriteTheBytesOfOneProcessToo() throws {
        // The batch weight from class counts, the clipping norm over the all-gathered gradient, the
        // validation figures from the gathered log-probabilities and the kept epoch: the same in every process.
        var recipe = Self.recipe + ["--class-weight", "balanced", "--validation-fraction", "0.2", "--early-stopping", "2",
                                    "--lr-schedule", "cosine", "--clip-grad-norm", "0.5"]
        recipe[recipe.firstIndex(of: "--epochs")! + 1] = "4"
        let reference = try Self.outputs(nil, threads: 2, shards: 4, recipe: recipe)
        let split = try Self.outputs(2, threads: 1, shards: 4, recipe: recipe)
        #expect(reference.metrics.contains("validation_weighted_loss"))
        #expect(split.model == reference.model)
        #expect(split.metrics == reference.metrics)
    }

    @Test func aJobResumesASingleProcessCheckpoint() throws {
        let straight = TrainCommandTests.temporaryPath("mpi"), resumed = TrainCommandTests.temporaryPath("mpi")
        defer { for out in [straight, resumed] { try? FileManager.default.removeItem(atPath: out) } }
        let common = Self.recipe + ["--shards", "4", "--threads", "1"]
        #expect(try TrainCommandTests.run(common + ["--epochs", "3", "--out", straight]).status == 0)
        #expect(try TrainCommandTests.run(common + ["--out", resumed]).status == 0)
        let r = try Self.run(2, ["--distributed", "mpi", "--resume", resumed, "--epochs", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(resumed)/model.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: "\(straight)/model.safetensors")))
    }

    @Test func aShardCountTheProcessesDoNotDivideIsRefusedOnce() throws {
        let started = Date()
        let r = try Self.run(2, ["--distributed", "mpi"] + Self.recipe + ["--shards", "3", "--out", TrainCommandTests.temporaryPath("mpi")])
        #expect(r.status != 0)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(r.stderr.components(separatedBy: "train: error").count == 2, "\(r.stderr)")
        #expect(r.stderr.contains("the 3 shards of a batch do not split evenly over 2 processes"), "\(r.stderr)")
    }

    @Test func theProgressIsLogLinesEvenThoughMpirunGivesAPseudoTerminal() throws {
        let out = TrainCommandTests.temporaryPath("mpi")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let arguments = Self.recipe.filter { $0 != "--quiet" } + ["--shards", "2", "--out", out]
        let r = try Self.run(2, ["--distributed", "mpi"] + arguments)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("\u{1B}[K"), "the live line's redraws went to the log: \(r.stdout)")
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") && $0.contains("test loss") }.count == 2, "\(r.stdout)")
    }

    @Test func mpirunWithoutTheFlagSaysHowToEnableIt() throws {
        let r = try Self.run(2, Self.recipe + ["--out", TrainCommandTests.temporaryPath("mpi")])
        #expect(r.status != 0)
        #expect(r.stderr.components(separatedBy: "add --distributed mpi").count == 2, "\(r.stderr)")
    }

    @Test func processesWhoseModelsDivergeAreStoppedByTheConsistencyCheck() throws {
        // Process 1 runs another learning rate (two programs in one job): its parameters drift from
        // process 0's, which the check after training sees before anything is written.
        let out = TrainCommandTests.temporaryPath("mpi")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let train = [TrainCommandTests.binary.path, "--distributed", "mpi"] + Self.recipe + ["--shards", "2", "--threads", "1", "--out", out]
        let r = try Executable.collect(Self.mpirun(job: ["-np", "1"] + train + [":", "-np", "1"] + train + ["--lr", "0.002"]))
        #expect(r.status != 0)
        #expect(r.stderr.contains("after training the parameters of process(es) 1 differ from process 0's"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/model.safetensors"))
    }

    @Test func killingOneProcessEndsTheJobWithinSeconds() throws {
        let job = Self.mpirun(2, ["--distributed", "mpi", "--data", "synthetic:20000x8x2", "--epochs", "100000", "--batch-size", "256",
                                  "--shards", "2", "--threads", "1", "--quiet", "--out", TrainCommandTests.temporaryPath("mpi")])
        let seconds = try Self.secondsToEnd(job, afterSending: SIGKILL)
        #expect(seconds < 10, "the job went on after one of its processes was killed")
        if seconds < 30 { #expect(job.terminationStatus != 0) }
    }

    /// Runs `job` (2 processes training for long), sends `signal` to its second process once both are
    /// training, and gives the seconds the job took to end after it; a job still running 30 s later is
    /// killed, and then gives 30 or more.
    static func secondsToEnd(_ job: Process, afterSending signal: Int32) throws -> TimeInterval {
        job.standardOutput = FileHandle.nullDevice
        job.standardError = FileHandle.nullDevice
        try job.run()
        defer {
            if job.isRunning { kill(job.processIdentifier, SIGKILL) }
            job.waitUntilExit()
        }
        // The ranks are mpirun's children on this host; let them reach training.
        var ranks: [pid_t] = []
        for _ in 0..<100 where ranks.count < 2 {
            Thread.sleep(forTimeInterval: 0.1)
            ranks = Self.children(of: job.processIdentifier)
        }
        try #require(ranks.count == 2, "mpirun did not start 2 processes")
        Thread.sleep(forTimeInterval: 2)
        let sent = Date()
        kill(ranks[1], signal)
        while job.isRunning && Date().timeIntervalSince(sent) < 30 { Thread.sleep(forTimeInterval: 0.05) }
        return Date().timeIntervalSince(sent)
    }

    @Test func aStopSignalToTheProcessesSavesTheCheckpointAndEndsWith130() throws {
        // What Ctrl-C on mpirun does (SIGCONT, then SIGTERM to every process a second later), sent
        // here to the processes directly: mpirun started by the test runner inherits its blocked
        // signals and would not see a SIGINT.
        let out = TrainCommandTests.temporaryPath("mpi")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let job = Self.mpirun(2, ["--distributed", "mpi", "--epochs", "100000", "--shards", "2", "--threads", "1", "--quiet", "--out", out])
        job.standardOutput = FileHandle.nullDevice
        job.standardError = FileHandle.nullDevice
        try job.run()
        defer { if job.isRunning { kill(job.processIdentifier, SIGKILL) } }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: out) { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 1)
        let ranks = Self.children(of: job.processIdentifier)
        try #require(ranks.count == 2)
        for rank in ranks { kill(rank, SIGTERM) }
        // Each rank needs about 0.25 s of CPU from the signal to its exit (1.3 s under make test-asan,
        // plus its leak check): 30 s, or slowUnwinderFactor times that, is ample on a loaded machine.
        let interrupted = Date()
        while job.isRunning && Date().timeIntervalSince(interrupted) < 30 * slowUnwinderFactor { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!job.isRunning)
        if !job.isRunning { #expect(job.terminationStatus == 130) }
        #expect(FileManager.default.fileExists(atPath: "\(out)/checkpoint.safetensors"))
    }

    /// A transport that MPI_Init loads may put its own signal handlers over train's: UCX (Open MPI's
    /// pml and osc ucx, the usual choice on InfiniBand; `--mca osc ucx` loads it on this host too)
    /// takes SIGBUS, SIGSEGV, SIGFPE, SIGILL and SIGHUP. train installs its own again after MPI_Init,
    /// so a data file truncated under the processes still ends the job with the line naming the file
    /// (UCX's handler printed "Caught signal 7 (Bus error...)" and a backtrace instead). As in
    /// TruncatedInputTests, a run whose processes had read the file by then is tried on a larger one.
    @Test(.disabled(if: underThreadSanitizer, "ThreadSanitizer's signal interception: see underThreadSanitizer"))
    func aFileTruncatedUnderTheProcessesEndsTheJobWithTheLineNamingIt() throws {
        var outcomes: [String] = []
        for rows in [300_000, 600_000, 1_200_000] {
            let data = TrainCommandTests.temporaryPath("mpi-shrinking") + ".csv"
            let out = TrainCommandTests.temporaryPath("mpi-shrinking-run")
            defer { for p in [data, out] { try? FileManager.default.removeItem(atPath: p) } }
            #expect(try Executable.run("datagen", ["--rows", "\(rows)", "--out", data]).status == 0)
            let job = Self.mpirun(job: ["--mca", "osc", "ucx", "-np", "2", TrainCommandTests.binary.path, "--distributed", "mpi",
                                        "--data", data, "--epochs", "1", "--shards", "2", "--threads", "1", "--out", out])
            var ranks: [pid_t] = []
            let r = try TruncatedInputTests.runTruncatingOnceMapped(data, job) { mpirun in
                if ranks.count < 2 { ranks = Self.children(of: mpirun) }
                return ranks
            }
            if r.status != 0 && r.stderr.contains("train: error: \(data): the file was truncated while being read") {
                #expect(!r.stderr.contains("Caught signal"), "\(r.stderr)")
                #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors"))
                return
            }
            outcomes.append("\(rows) rows: status \(r.status), \(r.stderr.suffix(600))")
        }
        Issue.record("no job met the truncation while reading: \(outcomes)")
    }

    /// SIGHUP (the terminal closed) ends a process of the job as it ends a single train, dying of it
    /// after removing its temporary files, and so the job; UCX's SIGHUP handler (a debug dump) let it
    /// run on.
    @Test func aHangupEndsAProcessOfTheJob() throws {
        let out = TrainCommandTests.temporaryPath("mpi-hangup")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let job = Self.mpirun(job: ["--mca", "osc", "ucx", "-np", "2", TrainCommandTests.binary.path, "--distributed", "mpi",
                                    "--epochs", "100000", "--shards", "2", "--threads", "1", "--quiet", "--out", out])
        let seconds = try Self.secondsToEnd(job, afterSending: SIGHUP)
        #expect(seconds < 30, "the job went on after SIGHUP to one of its processes")
        if seconds < 30 { #expect(job.terminationStatus != 0) }
    }

    /// A diverged run that keeps its best validation epoch has process 0 write every output, then ends
    /// with status 1 and the line saying what it wrote, once; that is no failure of the job
    /// (MPI_Abort), whose other processes, after waiting 5 s for process 0 to report, ended the job
    /// even while process 0 was still writing. Process 0 is held (SIGSTOP) for 7 s as its first
    /// output appears; a job already past its last output by then is run again.
    @Test func aDivergedRunWritesEveryOutputHoweverLongProcess0Takes() throws {
        for attempt in 1...3 {
            let out = TrainCommandTests.temporaryPath("mpi-diverged")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let job = Self.mpirun(2, ["--distributed", "mpi"] + NonFiniteTests.diverging
                                  + ["--validation-fraction", "0.2", "--early-stopping", "100", "--shards", "2", "--out", out])
            let err = Pipe()
            job.standardOutput = FileHandle.nullDevice
            job.standardError = err
            try job.run()
            defer { if job.isRunning { kill(job.processIdentifier, SIGKILL) } }
            var first: pid_t?
            while job.isRunning && !FileManager.default.fileExists(atPath: out + "/model.safetensors") {
                if first == nil { first = Self.children(of: job.processIdentifier).first { Self.rank(of: $0) == 0 } }
                usleep(200)
            }
            let process0 = try #require(first, "attempt \(attempt): no process 0 seen")
            kill(process0, SIGSTOP)
            let held = job.isRunning && !FileManager.default.fileExists(atPath: out + "/report.html")
            Thread.sleep(forTimeInterval: 7)
            kill(process0, SIGCONT)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            job.waitUntilExit()
            guard held else { continue }
            #expect(job.terminationStatus == 1, "\(stderr)")
            // Process 0's line alone (another's says "train: error (process 1 of 2): ..."), and no abort.
            #expect(stderr.components(separatedBy: "train: error").count == 2 && !stderr.contains("MPI_ABORT")
                    && stderr.contains("train: error: the training loss became NaN at epoch ")
                    && stderr.contains("; wrote the best validation epoch's model (epoch "), "\(stderr)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            for file in ["model.safetensors", "model.onnx", "metrics.csv", "summary.json", "report.html"] {
                #expect(files.contains(file), "\(file) missing: \(files.sorted())")
            }
            return
        }
        Issue.record("no attempt held process 0 before its last output")
    }

    /// The MPI rank of process `pid`, from the environment its launcher gave it.
    static func rank(of pid: pid_t) -> Int? {
        guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        return environment.split(separator: 0).lazy.map { String(decoding: $0, as: UTF8.self) }
            .first { $0.hasPrefix("OMPI_COMM_WORLD_RANK=") }.flatMap { Int($0.dropFirst("OMPI_COMM_WORLD_RANK=".count)) }
    }

    /// Processes whose parent is `parent` (from /proc).
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let afterName = stat.range(of: ") ", options: .backwards) else { return false }
            let fields = stat[afterName.upperBound...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }.sorted()
    }
}
