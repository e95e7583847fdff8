import ArgumentParser
import CommandLineSupport
import Foundation
import MLPTrainer

/// `bench scaling`: one network's training throughput over a list of thread counts.
///
/// The sweep is a list of (ranks, threads) points: one process (ranks = 1), or under mpirun with
/// `--distributed mpi` every process of the job (ranks = the job's size, each with `threads` threads);
/// one mpirun per rank count makes the ranks x threads grid. The plot's x axis is total workers
/// (ranks x threads).
struct Scaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training samples/s of a network at 1, 2, 4, ... up to all cores: speed-up and efficiency.",
        discussion: """
            Per thread count: samples/s, speed-up over the sweep's first point, parallel efficiency \
            (speed-up / ideal), and the share of the step spent waiting at barriers and in the all-reduce \
            (+ the optimizer, fused with it). JSON fields per point: ranks, threads, shards, workers, network, batch_size, \
            rows, samples_per_second, runs_samples_per_second, speedup, ideal_speedup, efficiency, \
            barrier_fraction, allreduce_fraction, workers (how many of the threads the engine chose to run \
            each step on; null while it is still measuring). Under mpirun with --distributed mpi, every \
            process trains its part of each batch (ranks = processes; the shards must split evenly over \
            them) and the first one prints.
            """)

    @OptionGroup var options: BenchOptions
    @OptionGroup var network: NetworkOptions
    @Option(help: "Thread counts (default: 1, 2, 4, ... and the number of logical CPUs).", transform: NetworkOptions.list)
    var threads: [Int]?
    @Option(help: "Shards per batch at every point (default: train's, from the batch and the network, so every point computes the same model).")
    var shards: Int?
    @Option(help: "Write a plot of speed-up against the ideal line to this SVG file.") var plot: String?
    @Option(help: "Train as one job with the other processes mpirun started (mpi).") var distributed: DistributedBackend?

    struct Point: Encodable {
        var ranks = 1
        var throughput: Throughput
        var speedup: Double
        var idealSpeedup: Double
        var efficiency: Double

        enum Keys: String, CodingKey { case ranks, speedup, idealSpeedup, efficiency }

        func encode(to encoder: Encoder) throws {
            try throughput.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(ranks, forKey: .ranks)
            try container.encode(speedup, forKey: .speedup)
            try container.encode(idealSpeedup, forKey: .idealSpeedup)
            try container.encode(efficiency, forKey: .efficiency)
        }
    }

    /// 1, 2, 4, ... below `cores`, then `cores`.
    static func defaultThreads(cores: Int) -> [Int] {
        Array(sequence(first: 1) { $0 * 2 }.prefix { $0 < cores }) + [cores]
    }

    func validate() throws {
        guard (shards ?? 1) >= 1 else { throw ValidationError("need --shards >= 1") }
    }

    func run() throws {
        let launch = try Launch.start(distributed)
        defer { launch.finish() }
        do { try sweep(launch) } catch let error as ExitCode { throw error } catch {
            // In an MPI job every process meets the same error; the first alone reports it, before
            // MPI_Finalize: mpirun ends the job as soon as another process exits with a failure, which
            // cut process 0 short between MPI_Finalize and ArgumentParser's message about 1 run in 4.
            if launch.writesOutputs { FileHandle.standardError.write(Data((Self.fullMessage(for: error) + "\n").utf8)) }
            throw ExitCode.failure
        }
    }

    private func sweep(_ launch: Launch) throws {
        let ranks = launch.collective.size
        let counts = threads ?? Self.defaultThreads(cores: Launch.defaultThreads)
        var settings = network.settings
        settings.shards = shards  // checked against the processes
        let workload = try TrainingWorkload(settings: settings, collective: launch.collective)
        let reporter = Reporter(bench: "scaling", options: options)
        reporter.line("scaling: \(workload.networkName), batch \(network.batchSize), \(workload.run.train.rows) rows, "
                      + "\(network.steps) steps a run, median of \(options.repeats)")
        reporter.line("ranks threads shards workers*   samples/s  speed-up  ideal  efficiency  barrier  all-reduce")
        var points: [Point] = []
        for count in counts {
            let t = Throughput(workload, threads: count, shards: shards, network: network, options: options)
            let base = points.first?.throughput ?? t
            let speedup = t.samplesPerSecond / base.samplesPerSecond
            let ideal = Double(count) / Double(base.threads)
            let point = Point(ranks: ranks, throughput: t, speedup: speedup, idealSpeedup: ideal, efficiency: speedup / ideal)
            points.append(point)
            reporter.result(point, line: String(ranks).leftPadded(5) + String(count).leftPadded(8) + String(t.shards).leftPadded(7)
                + (t.workers.value.map(String.init) ?? "-").leftPadded(9) + fixed(t.samplesPerSecond, 12, 0)
                + fixed(speedup, 9, 2) + "x" + fixed(ideal, 6, 0) + "x" + fixed(point.efficiency * 100, 11, 0) + "%"
                + fixed(t.barrierFraction * 100, 8) + "%" + fixed(t.allreduceFraction * 100, 11) + "%")
        }
        reporter.line("* workers: how many of the threads the engine chose to run each step on (\"-\": still measuring).")
        if let plot, launch.writesOutputs {
            try AtomicFile.write(ScalingPlot(points: points, title: "\(workload.networkName), batch \(network.batchSize)").svg,
                                 to: plot)
            reporter.line("plot: \(plot)")
        }
    }
}
