import ArgumentParser

/// `bench wide`: samples/s of the wide network (28-512-512-512-2 by default) at one thread count.
struct Wide: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training samples/s of a wide network at one thread count (the PyTorch anchor's torch_wide.py).",
        discussion: """
            The seed's blocks (affine, BatchNorm, dropout 0.4), Adam, batch 1024, optimizer steps only. JSON fields: \
            threads, shards, workers, network, batch_size, rows, samples_per_second, runs_samples_per_second, \
            barrier_fraction, allreduce_fraction.
            """)

    @OptionGroup var options: BenchOptions
    @OptionGroup var network: NetworkOptions
    @Option(help: "Worker threads.") var threads = 1
    @Option(help: "Shards per batch (default: train's, from the batch and the network).") var shards: Int?

    func validate() throws {
        guard threads >= 1, (shards ?? 1) >= 1 else { throw ValidationError("need --threads >= 1 and --shards >= 1") }
    }

    func run() throws {
        let workload = try TrainingWorkload(settings: network.settings)
        let reporter = Reporter(bench: "wide", options: options)
        let t = Throughput(workload, threads: threads, shards: shards, network: network, options: options)
        reporter.result(t, line: String(
            format: "wide %@, batch %d, threads=%d shards=%d workers=%@: %.0f samples/s (barrier %.1f%%, all-reduce+optimizer %.1f%% of step)",
            t.network, t.batchSize, t.threads, t.shards, t.workers.value.map(String.init) ?? "-", t.samplesPerSecond, t.barrierFraction * 100, t.allreduceFraction * 100))
    }
}
