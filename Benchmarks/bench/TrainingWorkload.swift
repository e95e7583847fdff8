import ArgumentParser
import Foundation
import MLPTrainer

/// Training throughput, measured as the PyTorch anchors measure it (../shared/anchors): optimizer
/// steps only, no evaluation, on an engine warmed up before the timing.
struct TrainingWorkload {
    let run: TrainingRun

    /// With `collective`, each process of an MPI job trains its part of every batch's shards.
    init(settings: TrainingSettings, collective: Collective = LocalCollective()) throws {
        run = try TrainingRun(settings: settings, collective: collective)
    }

    /// "28-512-512-512-2"
    var networkName: String {
        run.modelConfig.sizes.map(String.init).joined(separator: "-")
    }

    /// An engine with `shards` shards (default: train's, from the batch and the network).
    func makeEngine(threads: Int, shards: Int? = nil, fusedBlocks: Bool = true) -> Engine {
        Engine(model: Model(config: run.modelConfig, seed: 0), optimizer: run.settings.optimizer, shards: shards ?? run.shards,
               pool: WorkerPool(threads: threads), dropoutSeed: 0, collective: run.collective, fusedBlocks: fusedBlocks)
    }

    /// Runs `steps` optimizer steps over consecutive batches of the training rows (wrapping around).
    func step(_ engine: Engine, steps: Int, batch: Int) {
        let n = run.train.rows
        let order = Array(0..<n)
        let stepsPerEpoch = (n + batch - 1) / batch
        run.train.features.withUnsafeBufferPointer { x in
            run.train.labels.withUnsafeBufferPointer { y in
                order.withUnsafeBufferPointer { indices in
                    for s in 0..<steps {
                        let start = (s % stepsPerEpoch) * batch
                        let slice = UnsafeBufferPointer(rebasing: indices[start..<min(start + batch, n)])
                        engine.trainStep(features: x.baseAddress!, labels: y.baseAddress!, indices: slice)
                    }
                }
            }
        }
    }
}

/// The options of the throughput benchmarks of a network (wide, scaling).
struct NetworkOptions: ParsableArguments {
    @Option(help: "Hidden widths.", transform: NetworkOptions.list)
    var hidden = [512, 512, 512]
    @Option(help: "Rows per optimizer step.")
    var batchSize = 1024
    @Option(help: "A CSV file to train on (default: 16 batches of synthetic HIGGS-shaped rows, 28 features, 2 classes).")
    var data: String?
    @Option(help: "The CSV's label column, by name or 0-based index (default: the last).")
    var target: String?
    @Option(help: "Optimizer steps per timed run.")
    var steps = 32

    func validate() throws {
        guard batchSize >= 2, steps >= 1, hidden.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("need --batch-size >= 2, --steps >= 1 and positive --hidden widths")
        }
    }

    /// The wide recipe: the seed's blocks (affine, BatchNorm, dropout 0.4), Adam, on these data.
    var settings: TrainingSettings {
        var settings = TrainingSettings()
        if let data {
            settings.data = .csv(path: data)
            if let target { settings.csv.target = target }
        } else {
            settings.data = .synthetic(rows: batchSize * 16, features: 28, classes: 2)
        }
        settings.testFraction = 0
        settings.hidden = hidden
        settings.dropout = 0.4
        settings.batchSize = batchSize
        return settings
    }

    static func list(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("expected positive integers separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }
}

/// Samples per second of `workload` at one thread and shard count: median of the timed runs, the
/// engine's barrier and all-reduce (+ optimizer) fractions of its step time, and the worker count
/// the engine chose for the steps (it may run a step on fewer workers than threads; null while it
/// is still measuring, i.e. after too few steps).
struct Throughput: Encodable {
    var threads: Int
    var shards: Int
    var workers: Nullable<Int>
    var network: String
    var batchSize: Int
    var rows: Int
    var samplesPerSecond: Double
    var runsSamplesPerSecond: [Double]
    var barrierFraction: Double
    var allreduceFraction: Double

    init(_ workload: TrainingWorkload, threads: Int, shards: Int?, network: NetworkOptions, options: BenchOptions) {
        let engine = workload.makeEngine(threads: threads, shards: shards)
        let samples = Double(network.steps * network.batchSize)
        let runs = Timing.runs(options) { workload.step(engine, steps: network.steps, batch: network.batchSize) }
        self.threads = threads
        self.shards = engine.shards
        workers = Nullable(value: engine.chosenWorkers(rows: network.batchSize))
        self.network = workload.networkName
        batchSize = network.batchSize
        rows = workload.run.train.rows
        runsSamplesPerSecond = runs.map { samples / $0 }
        samplesPerSecond = samples / Timing.median(runs)
        (barrierFraction, allreduceFraction) = engine.timeFractions
    }
}

/// An optional that encodes as JSON null instead of leaving its key out.
struct Nullable<Value: Encodable>: Encodable {
    var value: Value?

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
