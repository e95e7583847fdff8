import Foundation
import Testing
@testable import MLPTrainer

/// A step may run on fewer workers than the pool has (the tuner's choice): that must change nothing
/// but the speed. And the tuner itself must pick what it measured fastest.
@Suite struct WorkerCountTests {
    /// Parameters after `steps` steps with every step on `workers` workers.
    func parametersAfterSteps(workers: Int, steps: Int = 4, pool: WorkerPool = WorkerPool(threads: 4)) -> [Float] {
        let config = ModelConfig(inputs: 5, hidden: [12, 7], classes: 3, activation: try! ActivationSpec(parsing: "swish"),
                                 norm: .batch, dropout: 0.2)
        let data = SyntheticProblem(features: 5, classes: 3, seed: 3).dataset(rows: 400)
        let engine = Engine(model: Model(config: config, seed: 5), optimizer: OptimizerConfig(), shards: 4,
                            pool: pool, dropoutSeed: 9)
        engine.fixedWorkers = workers
        let order = Array(0..<data.rows)
        for step in 0..<steps {
            order[(step * 100)..<((step + 1) * 100)].withUnsafeBufferPointer { idx in
                _ = engine.trainStep(features: data.features, labels: data.labels, indices: idx)
            }
        }
        return engine.model.parameters
    }

    @Test func fewerActiveWorkersThanShardsGiveTheSameBytes() {
        let all = parametersAfterSteps(workers: 4)
        for workers in [1, 2, 3] {
            #expect(parametersAfterSteps(workers: workers) == all, "\(workers) workers")
        }
    }

    /// When the system refuses threads, the pool keeps those that started and computes the same bits.
    @Test func aPoolWhoseThreadsDoNotAllStartComputesTheSame() {
        var allowed = 1
        let pool = WorkerPool(threads: 4) { body in
            guard allowed > 0 else { return false }
            allowed -= 1
            return WorkerPool.startDetachedThread(body)
        }
        #expect(pool.threads == 2 && pool.usefulWorkers <= 2)
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        pool.run(workers: 4) { seen[$0] += 1 }
        #expect(Array(seen) == [1, 1, 0, 0])
        #expect(parametersAfterSteps(workers: 4, pool: pool) == parametersAfterSteps(workers: 4))
    }

    @Test func defaultShardsDependOnTheBatchAndNetworkOnly() {
        let spec = try! ActivationSpec(parsing: "swish")
        let seed = ModelConfig(inputs: 4, hidden: [8, 9, 5, 4], classes: 2, activation: spec, norm: .batch, dropout: 0.4)
        let wide = ModelConfig(inputs: 28, hidden: [512, 512, 512], classes: 2, activation: spec, norm: .batch, dropout: 0.4)
        // The seed network's rows are cheap: a shard needs ~1M flops, so small batches stay whole.
        #expect(ShardLayout.defaultShards(batchRows: 64, network: seed) == 1)
        #expect(ShardLayout.defaultShards(batchRows: 1097, network: seed) == 1)
        #expect(ShardLayout.defaultShards(batchRows: 800_000, network: seed) == 64)
        #expect(ShardLayout.defaultShards(batchRows: 1024, network: wide) == 4)
        #expect(ShardLayout.defaultShards(batchRows: 100, network: wide) == 1)
    }

    /// Feeds the tuner step times from a cost table until it chooses, as the engine would.
    func choose(maxWorkers: Int, seconds: (Int) -> Double) -> (chosen: Int, steps: Int) {
        var tuner = WorkerCountTuner(maxWorkers: maxWorkers)
        var steps = 0
        while tuner.chosen(rows: 64) == nil {
            let workers = tuner.workers(rows: 64)
            tuner.record(rows: 64, workers: workers, seconds: seconds(workers))
            steps += 1
            precondition(steps < 100)
        }
        return (tuner.chosen(rows: 64)!, steps)
    }

    @Test func tunerPicksTheFastestMeasuredCount() {
        #expect(WorkerCountTuner(maxWorkers: 16).candidates == [16, 8, 4, 2, 1])
        #expect(WorkerCountTuner(maxWorkers: 6).candidates == [6, 3, 1])
        // Synchronisation-bound: one worker is fastest.
        #expect(choose(maxWorkers: 8) { 1e-4 + 2e-5 * Double($0) }.chosen == 1)
        // In between: compute falls as 1/k, synchronisation grows with k; the optima are 8 and 4.
        #expect(choose(maxWorkers: 16) { 1e-3 / Double($0) + 1.5e-5 * Double($0) }.chosen == 8)
        #expect(choose(maxWorkers: 16) { 1e-3 / Double($0) + 6e-5 * Double($0) }.chosen == 4)
        // Compute-bound but small: stops halving once a count is clearly slower.
        let small = choose(maxWorkers: 16) { 1e-3 / Double($0) }
        #expect(small.chosen == 16 && small.steps == 1 + 2 * WorkerCountTuner.trials)
        // A large step takes every worker at once.
        #expect(choose(maxWorkers: 4) { 0.1 / Double($0) } == (4, 2))
        #expect(choose(maxWorkers: 1) { _ in 1 } == (1, 1))
    }
}
