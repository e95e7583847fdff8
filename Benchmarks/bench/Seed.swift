import ArgumentParser
import MLPTrainer

/// `bench seed`: ms per epoch of the seed recipe.
struct Seed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Milliseconds per epoch of the seed recipe (the PyTorch anchor's torch_seed.py).",
        discussion: """
            4-8-9-5-4-2, affine, BatchNorm, dropout 0.4, Adam; full batch of the 80% split unless --batch-size; \
            optimizer steps only. JSON fields: threads, shards, rows, batch_size, epochs, fused_blocks, \
            ms_per_epoch, runs_ms_per_epoch, samples_per_second.
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "A CSV file (label last), or synthetic:ROWS (4 features, 2 classes).") var data = "synthetic:1372"
    @Option(help: "Worker threads.") var threads = 1
    @Option(help: "Epochs per timed run.") var epochs = 300
    @Option(help: "Rows per step (default: all training rows).") var batchSize: Int?
    @Flag(help: "Run the narrow blocks' layers one at a time (ARCHITECTURE.md, \"Fused narrow blocks\").") var unfused = false

    struct Result: Encodable {
        var threads: Int, shards: Int, rows: Int, batchSize: Int, epochs: Int, fusedBlocks: Bool
        var msPerEpoch: Double
        var runsMsPerEpoch: [Double]
        var samplesPerSecond: Double
    }

    func validate() throws {
        guard threads >= 1, epochs >= 1, (batchSize ?? 2) >= 2 else {
            throw ValidationError("need --threads >= 1, --epochs >= 1, --batch-size >= 2")
        }
    }

    func run() throws {
        var settings = TrainingSettings.seedPreset
        if data.hasPrefix("synthetic:"), let rows = Int(data.dropFirst("synthetic:".count)) {
            settings.data = .synthetic(rows: rows, features: 4, classes: 2)
        } else {
            settings.data = .csv(path: data)
        }
        settings.batchSize = batchSize
        let workload = try TrainingWorkload(settings: settings)
        let reporter = Reporter(bench: "seed", options: options)
        let rows = workload.run.train.rows
        let batch = min(batchSize ?? rows, rows)
        let steps = epochs * ((rows + batch - 1) / batch)
        let engine = workload.makeEngine(threads: threads, fusedBlocks: !unfused)
        let runs = Timing.runs(options) { workload.step(engine, steps: steps, batch: batch) }.map { $0 / Double(epochs) * 1000 }
        let ms = Timing.median(runs)
        let result = Result(threads: threads, shards: engine.shards, rows: rows, batchSize: batch, epochs: epochs, fusedBlocks: !unfused, msPerEpoch: ms,
                            runsMsPerEpoch: runs, samplesPerSecond: Double(rows) / ms * 1000)
        reporter.result(result, line: String(
            format: "seed recipe: %d rows, batch %d, threads=%d%@: %.4f ms/epoch (median of %d: %@), %.0f samples/s",
            rows, batch, threads, unfused ? ", unfused" : "", ms, runs.count, runs.map { String(format: "%.4f", $0) }.joined(separator: " "),
            result.samplesPerSecond))
    }
}
