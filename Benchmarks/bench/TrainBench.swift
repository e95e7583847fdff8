import Foundation
import MLPTrainer

/// Training throughput, measured as the PyTorch anchors measure it (../shared/anchors): optimizer
/// steps only, no evaluation, after a warm-up.
enum TrainBench {
    /// `bench seed [CSV|synthetic:ROWS] [threads] [epochs] [batch]`: the seed recipe (4-8-9-5-4-2,
    /// affine, BatchNorm, dropout 0.4, Adam, full batch of the 80% split unless `batch` is given),
    /// 300 epochs by default; ms per epoch, median of 5 runs.
    static func seed(arguments: [String]) throws {
        var settings = TrainingSettings.seedPreset
        switch arguments.first {
        case nil: settings.data = .synthetic(rows: 1372, features: 4, classes: 2)
        case let text? where text.hasPrefix("synthetic:"):
            settings.data = .synthetic(rows: Int(text.dropFirst("synthetic:".count))!, features: 4, classes: 2)
        case let path?: settings.data = .csv(path: path)
        }
        settings.threads = arguments.count > 1 ? Int(arguments[1])! : 1
        let epochs = arguments.count > 2 ? Int(arguments[2])! : 300
        if arguments.count > 3 { settings.batchSize = Int(arguments[3])! }
        let run = try TrainingRun(settings: settings)
        let batch = min(settings.batchSize ?? run.train.rows, run.train.rows)
        let steps = (run.train.rows + batch - 1) / batch
        // One engine, warmed up: its buffers are allocated and touched before the timing.
        let engine = makeEngine(run)
        _ = try timeSteps(run, steps: 1, batch: batch, engine: engine)
        var times: [Double] = []
        for _ in 0..<5 {
            let seconds = try timeSteps(run, steps: epochs * steps, batch: batch, engine: engine)
            times.append(seconds / Double(epochs) * 1000)
        }
        let ms = median(times)
        print(String(format: "seed recipe: %d rows, batch %d, threads=%d: %.4f ms/epoch (median of 5: %@), %.0f samples/s",
                     run.train.rows, batch, settings.threads, ms, times.map { String(format: "%.4f", $0) }.joined(separator: " "),
                     Double(run.train.rows) / ms * 1000))
        print("{\"bench\":\"seed\",\"threads\":\(settings.threads),\"rows\":\(run.train.rows),\"batch\":\(batch),\"ms_per_epoch\":\(ms)}")
    }

    /// `bench wide THREADS [hidden] [batch] [shards]` (shards: train's default for the batch unless
    /// given): 28-H-H-H-2 with the seed's blocks, Adam, on
    /// synthetic HIGGS-shaped rows; samples/s over about 5 seconds, as torch_wide.py.
    static func wide(arguments: [String]) throws {
        let threads = arguments.count > 0 ? Int(arguments[0])! : 1
        let hidden = arguments.count > 1 ? Int(arguments[1])! : 512
        let batch = arguments.count > 2 ? Int(arguments[2])! : 1024
        var settings = TrainingSettings()
        settings.data = .synthetic(rows: batch * 16, features: 28, classes: 2)
        settings.testFraction = 0
        settings.hidden = [hidden, hidden, hidden]
        settings.dropout = 0.4
        settings.threads = threads
        settings.batchSize = batch
        settings.shards = arguments.count > 3 ? Int(arguments[3])! : nil
        let run = try TrainingRun(settings: settings)
        _ = try timeSteps(run, steps: 5, batch: batch)
        var steps = 0
        var seconds = 0.0
        let engine = makeEngine(run)
        var fractions = (barrier: 0.0, allReduce: 0.0)
        while seconds < 5 {
            seconds += try timeSteps(run, steps: 16, batch: batch, engine: engine)
            steps += 16
            fractions = engine.timeFractions
        }
        let rate = Double(steps * batch) / seconds
        print(String(format: "wide 28-%d-%d-%d-2, batch %d, threads=%d shards=%d: %.0f samples/s (barrier %.1f%%, all-reduce+optimizer %.1f%% of step)",
                     hidden, hidden, hidden, batch, threads, run.shards, rate, fractions.barrier * 100, fractions.allReduce * 100))
        print("{\"bench\":\"wide\",\"threads\":\(threads),\"shards\":\(run.shards),\"hidden\":\(hidden),\"batch\":\(batch),\"samples_per_second\":\(rate),\"barrier_fraction\":\(fractions.barrier),\"allreduce_fraction\":\(fractions.allReduce)}")
    }

    static func makeEngine(_ run: TrainingRun) -> Engine {
        Engine(model: Model(config: run.modelConfig, seed: 0), optimizer: run.settings.optimizer, shards: run.shards,
               pool: WorkerPool(threads: run.settings.threads), dropoutSeed: 0)
    }

    /// Seconds for `steps` optimizer steps over consecutive batches of the training rows.
    static func timeSteps(_ run: TrainingRun, steps: Int, batch: Int, engine: Engine? = nil) throws -> Double {
        let engine = engine ?? makeEngine(run)
        let n = run.train.rows
        let order = Array(0..<n)
        let stepsPerEpoch = (n + batch - 1) / batch
        let started = DispatchTime.now().uptimeNanoseconds
        run.train.features.withUnsafeBufferPointer { x in
            run.train.labels.withUnsafeBufferPointer { y in
                order.withUnsafeBufferPointer { idx in
                    for s in 0..<steps {
                        let start = (s % stepsPerEpoch) * batch
                        let slice = UnsafeBufferPointer(rebasing: idx[start..<min(start + batch, n)])
                        engine.trainStep(features: x.baseAddress!, labels: y.baseAddress!, indices: slice)
                    }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
