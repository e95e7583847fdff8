import ArgumentParser
import Foundation
import MLPTrainer

/// `bench scaling`: one network's training throughput over a list of thread counts.
///
/// The sweep is a list of (ranks, threads) points; every point is one process today (ranks = 1).
/// A distributed backend adds ranks to the grid (`--distributed mpi`, ranks x threads) without
/// changing the table, the JSON fields or the plot, whose x axis is total workers (ranks x threads).
struct Scaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training samples/s of a network at 1, 2, 4, ... up to all cores: speed-up and efficiency.",
        discussion: """
            Per thread count: samples/s, speed-up over the first (smallest) count, parallel efficiency \
            (speed-up / ideal), and the share of the step spent waiting at barriers and in the all-reduce \
            (+ the optimizer, fused with it). JSON fields per point: ranks, threads, shards, workers, network, batch_size, \
            rows, samples_per_second, runs_samples_per_second, speedup, ideal_speedup, efficiency, \
            barrier_fraction, allreduce_fraction, workers (how many of the threads the engine chose to run \
            each step on; null while it is still measuring).
            """)

    @OptionGroup var options: BenchOptions
    @OptionGroup var network: NetworkOptions
    @Option(help: "Thread counts (default: 1, 2, 4, ... and the number of logical CPUs).", transform: NetworkOptions.list)
    var threads: [Int]?
    @Option(help: "Shards per batch at every point (default: train's, from the batch and the network, so every point computes the same model).")
    var shards: Int?
    @Option(help: "Write a plot of speed-up against the ideal line to this SVG file.") var plot: String?

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
        let counts = threads ?? Self.defaultThreads(cores: ProcessInfo.processInfo.activeProcessorCount)
        let workload = try TrainingWorkload(settings: network.settings)
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
            let point = Point(throughput: t, speedup: speedup, idealSpeedup: ideal, efficiency: speedup / ideal)
            points.append(point)
            reporter.result(point, line: "1".leftPadded(5) + String(count).leftPadded(8) + String(t.shards).leftPadded(7)
                + (t.workers.value.map(String.init) ?? "-").leftPadded(9) + fixed(t.samplesPerSecond, 12, 0)
                + fixed(speedup, 9, 2) + "x" + fixed(ideal, 6, 0) + "x" + fixed(point.efficiency * 100, 11, 0) + "%"
                + fixed(t.barrierFraction * 100, 8) + "%" + fixed(t.allreduceFraction * 100, 11) + "%")
        }
        reporter.line("* workers: how many of the threads the engine chose to run each step on (\"-\": still measuring).")
        if let plot {
            try AtomicFile.write(ScalingPlot(points: points, title: "\(workload.networkName), batch \(network.batchSize)").svg,
                                 to: plot)
            reporter.line("plot: \(plot)")
        }
    }
}
