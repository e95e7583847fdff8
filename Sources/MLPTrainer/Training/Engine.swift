import CKernels
import Foundation

/// Trains and evaluates one model on a worker pool (DESIGN.md decisions 1-4). A mini-batch of N rows
/// is cut into S shards of fixed rows; workers run the shards' forward and backward passes layer by
/// layer, meeting at a barrier at each BatchNorm (whose statistics are combined from every shard's
/// partial sums in shard order), then all-reduce the shard gradients in shard order and apply the
/// optimizer, each worker on its own chunk of the parameter buffer. The arithmetic depends on S,
/// never on the number of threads, nor on how many of them run a step (`WorkerCountTuner` picks
/// that for speed).
public final class Engine: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let shards: Int
    public let pool: WorkerPool
    let parameters: Buffer<Float>
    let buffers: Buffer<Float>
    /// The reduced gradient of the last step (what the optimizer applied).
    let gradient: Buffer<Float>
    let optimizer: OptimizerState
    public private(set) var batchesTracked: Int64
    /// Seed of the dropout masks; `step` counts optimizer steps and keys the masks.
    let dropoutSeed: UInt64
    public private(set) var step: UInt64 = 0
    /// Every cross-shard sum goes through it (ARCHITECTURE.md, "Determinism").
    public let collective: Collective
    /// The shards this process computes, and their workspaces (indexed from `localShards.lowerBound`).
    private let localShards: Range<Int>
    private var workspaces: [ShardWorkspace] = []
    private var evalWorkspaces: [ShardWorkspace] = []
    private var shardGradients: UnsafeMutablePointer<UnsafePointer<Float>?>
    /// BatchNorm partial sums of every shard, by kind, block and shard: plain pointers, so combining
    /// them at a barrier touches no reference counts shared between threads.
    private enum Partial: Int, CaseIterable { case sum, sumSquares, sumDy, sumDyXhat }
    private var partials: UnsafeMutablePointer<UnsafePointer<Double>?>
    /// Per worker: the whole batch's BatchNorm sums (two per channel) from the collective.
    private let totals: [Buffer<Double>]
    /// Time accounting (seconds): whole steps, the same weighted by the workers that ran them, and the
    /// all-reduce + optimizer part summed over workers.
    public private(set) var stepSeconds = 0.0
    private var workerSeconds = 0.0
    /// Runs every step on this many workers instead of the tuner's choice (tests, benchmarks).
    public var fixedWorkers: Int?
    private var tuner: WorkerCountTuner
    /// Rows the timed steps processed.
    public private(set) var rowsProcessed = 0
    private let reduceSeconds: Buffer<Double>
    /// Parameters that must stay positive (ISRU's alpha): raised to the floor after each step.
    private let positiveParameters: [Range<Int>]

    public init(model: Model, optimizer: OptimizerConfig, shards: Int, pool: WorkerPool, dropoutSeed: UInt64,
                collective: Collective = LocalCollective()) {
        precondition(shards >= 1)
        self.collective = collective
        localShards = collective.localShards(of: shards)
        config = model.config
        layout = model.layout
        self.shards = shards
        self.pool = pool
        parameters = Buffer(count: model.parameters.count)
        parameters.pointer.update(from: model.parameters, count: model.parameters.count)
        buffers = Buffer(count: model.buffers.count)
        buffers.pointer.update(from: model.buffers, count: model.buffers.count)
        batchesTracked = model.batchesTracked
        gradient = Buffer(count: model.parameters.count)
        self.optimizer = OptimizerState(config: optimizer, parameterCount: model.parameters.count)
        self.dropoutSeed = dropoutSeed
        shardGradients = .allocate(capacity: shards)
        shardGradients.initialize(repeating: nil, count: shards)
        partials = .allocate(capacity: Partial.allCases.count * model.config.hidden.count * shards)
        partials.initialize(repeating: nil, count: Partial.allCases.count * model.config.hidden.count * shards)
        totals = (0..<pool.threads).map { _ in Buffer(count: 2 * (model.config.hidden.max() ?? 0)) }
        reduceSeconds = Buffer(count: pool.threads)
        tuner = WorkerCountTuner(maxWorkers: min(pool.usefulWorkers, shards))
        positiveParameters = model.config.activation.kind.name != "isru" ? []
            : model.layout.blocks.prefix(model.config.hidden.count).map { $0.activation..<($0.activation + $0.activationCount) }
        parameters.pointer.withMemoryRebound(to: UInt8.self, capacity: parameters.count * 4) {
            collective.broadcast(UnsafeMutableRawBufferPointer(start: $0, count: parameters.count * 4), root: 0)
        }
    }

    deinit {
        shardGradients.deallocate()
        partials.deallocate()
    }

    /// The current model (copies the parameters out).
    public var model: Model {
        Model(config: config, parameters: parameters.array, buffers: buffers.array, batchesTracked: batchesTracked)
    }

    public var gradientValues: [Float] { gradient.array }

    /// The optimizer's state and the step counter, for checkpoints.
    public var optimizerState: (first: [Float], second: [Float], steps: Int64) {
        (optimizer.first.array, optimizer.second.array, optimizer.steps)
    }

    /// Continues from a checkpoint's optimizer state and step counter.
    public func restore(optimizerFirst: [Float], optimizerSecond: [Float], optimizerSteps: Int64, step: UInt64) throws {
        guard optimizerFirst.count == optimizer.first.count, optimizerSecond.count == optimizer.second.count else {
            throw ArtifactError("the checkpoint's optimizer state does not fit this network and optimizer")
        }
        optimizer.first.pointer.update(from: optimizerFirst, count: optimizerFirst.count)
        optimizer.second.pointer.update(from: optimizerSecond, count: optimizerSecond.count)
        optimizer.steps = optimizerSteps
        self.step = step
    }

    var workspacesForTesting: [ShardWorkspace] { workspaces }

    // MARK: - Training

    /// The result of one step: mean loss over the batch and the number of rows predicted right
    /// (both in training mode, before the update).
    public struct StepResult { public var loss: Double; public var correct: Int }

    /// One optimizer step on the rows `indices` of `features`/`labels` (row-major, `config.inputs`
    /// columns). With `update: false` only computes the gradient (tests).
    @discardableResult
    public func trainStep(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, indices: UnsafeBufferPointer<Int>,
                          update: Bool = true) -> StepResult {
        let n = indices.count
        prepareWorkspaces(batch: n)
        let workers = fixedWorkers ?? tuner.workers(rows: n)
        let started = DispatchTime.now().uptimeNanoseconds
        pool.run(workers: min(workers, shards)) { worker in
            self.runStep(worker: worker, features: features, labels: labels, indices: indices, update: update)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        tuner.record(rows: n, workers: workers, seconds: seconds)
        stepSeconds += seconds
        workerSeconds += seconds * Double(pool.activeWorkers)
        rowsProcessed += n
        if update { optimizer.finishStep() }
        if config.batchNorm { batchesTracked += 1 }
        step += 1
        var perShard = [[Double]](repeating: [0, 0], count: shards)
        for (s, ws) in zip(localShards, workspaces) { perShard[s] = [ws.loss, Double(ws.correct)] }
        let sums = collective.allReduce(perShard)
        return StepResult(loss: sums[0] / Double(n), correct: Int(sums[1]))
    }

    /// Fraction of the accumulated step time spent waiting at barriers and in the all-reduce (+ the
    /// optimizer, fused with it), averaged over the workers that ran the steps.
    public var timeFractions: (barrier: Double, allReduce: Double) {
        guard workerSeconds > 0 else { return (0, 0) }
        var reduce = 0.0
        for t in 0..<pool.threads { reduce += reduceSeconds[t] }
        return (pool.barrierSeconds / workerSeconds, reduce / workerSeconds)
    }

    /// The worker count chosen for steps of `rows` rows (nil while still measuring).
    public func chosenWorkers(rows: Int) -> Int? { fixedWorkers ?? tuner.chosen(rows: rows) }

    private func prepareWorkspaces(batch n: Int) {
        let capacity = (n + shards - 1) / shards
        if workspaces.first.map({ $0.capacity < capacity }) ?? true {
            workspaces = localShards.map { _ in
                ShardWorkspace(config: config, capacity: capacity, parameterCount: layout.parameterCount, training: true)
            }
            for (s, ws) in zip(localShards, workspaces) {
                shardGradients[s] = UnsafePointer(ws.gradient.pointer)
                for l in config.hidden.indices {
                    partials[partialIndex(.sum, l, s)] = UnsafePointer(ws.sum[l].pointer)
                    partials[partialIndex(.sumSquares, l, s)] = UnsafePointer(ws.sumSquares[l].pointer)
                    partials[partialIndex(.sumDy, l, s)] = UnsafePointer(ws.sumDy[l].pointer)
                    partials[partialIndex(.sumDyXhat, l, s)] = UnsafePointer(ws.sumDyXhat[l].pointer)
                }
            }
        }
        for (s, ws) in zip(localShards, workspaces) {
            ws.row0 = n * s / shards
            ws.rows = n * (s + 1) / shards - ws.row0
        }
    }

    private func runStep(worker: Int, features: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                         indices: UnsafeBufferPointer<Int>, update: Bool) {
        let mine = pool.range(of: workspaces.count, for: worker)
        let n = indices.count
        for s in mine {
            let ws = workspaces[s]
            gather(ws, features: features, labels: labels, indices: indices)
            ws.gradient.fill(0)
        }
        for l in 0..<config.hidden.count { forwardBlock(l, shards: mine, worker: worker, batch: n) }
        for s in mine {
            let ws = workspaces[s]
            forwardOutput(ws)
            ws.correct = 0
            ws.loss = ck_logsoftmax_nll(ws.logits.pointer, ws.labelsIn, Int64(ws.rows), Int64(config.classes),
                                        nil, ws.dlogits.pointer, 1 / Float(n), &ws.correct)
            backwardOutput(ws)
        }
        for l in stride(from: config.hidden.count - 1, through: 0, by: -1) {
            backwardBlock(l, shards: mine, worker: worker, batch: n)
        }
        pool.barrier(worker)
        let t0 = DispatchTime.now().uptimeNanoseconds
        collective.reduceGradients(shardGradients, shardCount: shards, count: layout.parameterCount, into: gradient.pointer,
                                   pool: pool, worker: worker) { chunk in
            guard update else { return }
            optimizer.apply(parameters: parameters.pointer, gradient: gradient.pointer, begin: chunk.lowerBound, end: chunk.upperBound)
            clampPositiveParameters(chunk)
        }
        reduceSeconds[worker] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    private func clampPositiveParameters(_ chunk: Range<Int>) {
        for range in positiveParameters where range.overlaps(chunk) {
            for i in range.clamped(to: chunk) where parameters[i] < ActivationSpec.isruMinimumAlpha {
                parameters[i] = ActivationSpec.isruMinimumAlpha
            }
        }
    }

    private func gather(_ ws: ShardWorkspace, features: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                        indices: UnsafeBufferPointer<Int>) {
        let f = config.inputs
        let mine = UnsafeBufferPointer(rebasing: indices[ws.row0..<(ws.row0 + ws.rows)])
        if let first = mine.first, mine.last! - first == ws.rows - 1, zip(mine, mine.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            ws.rowsIn = features + first * f
            ws.labelsIn = labels + first
            return
        }
        for (i, row) in mine.enumerated() {
            (ws.input.pointer + i * f).update(from: features + row * f, count: f)
            ws.labels[i] = labels[row]
        }
        ws.rowsIn = UnsafePointer(ws.input.pointer)
        ws.labelsIn = UnsafePointer(ws.labels.pointer)
    }

    // MARK: Layers: a forward and a backward per block, over flat buffers

    private func blockInput(_ ws: ShardWorkspace, _ l: Int) -> UnsafePointer<Float> {
        l == 0 ? ws.rowsIn! : UnsafePointer(ws.blockOut[l - 1].pointer)
    }

    private func forwardLinearActivation(_ l: Int, _ ws: ShardWorkspace) {
        let block = layout.blocks[l], width = config.hidden[l], fanIn = config.sizes[l]
        let p = parameters.pointer
        ck_linear_forward(blockInput(ws, l), p + block.weight, p + block.bias, ws.linearOut[l].pointer,
                          Int64(ws.rows), Int64(fanIn), Int64(width))
        ck_act_forward(config.activation.kind.kernel, ws.linearOut[l].pointer, ws.activationOut[l].pointer,
                       Int64(ws.rows), Int64(width), p + block.activation, config.activation.perChannel ? 1 : 0)
    }

    private func forwardBlock(_ l: Int, shards mine: Range<Int>, worker: Int, batch n: Int) {
        let block = layout.blocks[l], width = Int64(config.hidden[l])
        let p = parameters.pointer
        for s in mine {
            let ws = workspaces[s]
            forwardLinearActivation(l, ws)
            if config.batchNorm {
                ws.sum[l].fill(0)
                ws.sumSquares[l].fill(0)
                ck_bn_partial_stats(ws.activationOut[l].pointer, Int64(ws.rows), width, ws.sum[l].pointer, ws.sumSquares[l].pointer)
            }
        }
        if config.batchNorm {
            pool.barrier(worker)
            let (total, totalSquares) = combine(.sum, .sumSquares, l, worker: worker)
            for s in mine {
                let ws = workspaces[s]
                let updatesRunning = s == 0  // once per process: every process keeps the same running statistics
                ck_bn_finish_stats(total, totalSquares, Int64(n), width, config.bnEpsilon, config.bnMomentum,
                                   ws.mean[l].pointer, ws.invstd[l].pointer,
                                   updatesRunning ? buffers.pointer + block.runningMean : nil,
                                   updatesRunning ? buffers.pointer + block.runningVar : nil)
                ck_bn_forward(ws.activationOut[l].pointer, ws.mean[l].pointer, ws.invstd[l].pointer, p + block.bnWeight,
                              p + block.bnBias, ws.normalized[l].pointer, ws.blockOut[l].pointer, Int64(ws.rows), width)
            }
        }
        for s in mine {
            let ws = workspaces[s]
            let source = config.batchNorm ? ws.blockOut[l].pointer : ws.activationOut[l].pointer
            if config.dropout == 0 {
                if !config.batchNorm { ws.blockOut[l].pointer.update(from: source, count: ws.rows * Int(width)) }
                continue
            }
            ck_dropout_forward(source, ws.blockOut[l].pointer, Int64(ws.rows), width, config.dropout, dropoutSeed, step,
                               UInt32(l + 1), Int64(ws.row0))
        }
    }

    private func partialIndex(_ kind: Partial, _ l: Int, _ s: Int) -> Int {
        (kind.rawValue * config.hidden.count + l) * shards + s
    }

    /// Two per-shard partials of block `l` summed over all shards by the collective, into the worker's totals.
    private func combine(_ a: Partial, _ b: Partial, _ l: Int, worker: Int) -> (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) {
        let width = config.hidden[l]
        let totalA = totals[worker].pointer, totalB = totalA + width
        collective.allReduce(partials + partialIndex(a, l, 0), shardCount: shards, count: width, into: totalA, pool: pool, worker: worker)
        collective.allReduce(partials + partialIndex(b, l, 0), shardCount: shards, count: width, into: totalB, pool: pool, worker: worker)
        return (totalA, totalB)
    }

    private func forwardOutput(_ ws: ShardWorkspace) {
        let l = config.hidden.count, block = layout.blocks[l]
        let p = parameters.pointer
        ck_linear_forward(blockInput(ws, l), p + block.weight, p + block.bias, ws.logits.pointer,
                          Int64(ws.rows), Int64(config.sizes[l]), Int64(config.classes))
    }

    private func backwardOutput(_ ws: ShardWorkspace) {
        let l = config.hidden.count, block = layout.blocks[l]
        let g = ws.gradient.pointer
        ck_linear_backward(blockInput(ws, l), parameters.pointer + block.weight, ws.dlogits.pointer, ws.gradientA.pointer,
                           g + block.weight, g + block.bias, Int64(ws.rows), Int64(config.sizes[l]), Int64(config.classes))
    }

    /// On entry each shard's gradientA holds d(loss)/d(block output); on exit, d(loss)/d(block input).
    private func backwardBlock(_ l: Int, shards mine: Range<Int>, worker: Int, batch n: Int) {
        let block = layout.blocks[l], width = Int64(config.hidden[l])
        let p = parameters.pointer
        for s in mine {
            let ws = workspaces[s]
            let dy = ws.gradientA.pointer
            if config.dropout > 0 {
                ck_dropout_backward(dy, dy, Int64(ws.rows), width, config.dropout, dropoutSeed, step, UInt32(l + 1), Int64(ws.row0))
            }
            if config.batchNorm {
                ws.sumDy[l].fill(0)
                ws.sumDyXhat[l].fill(0)
                ck_bn_backward_partials(dy, ws.normalized[l].pointer, Int64(ws.rows), width, ws.sumDy[l].pointer, ws.sumDyXhat[l].pointer)
                let g = ws.gradient.pointer
                for c in 0..<Int(width) {
                    g[block.bnWeight + c] += Float(ws.sumDyXhat[l][c])
                    g[block.bnBias + c] += Float(ws.sumDy[l][c])
                }
            }
        }
        if config.batchNorm {
            pool.barrier(worker)
            let (sumDy, sumDyXhat) = combine(.sumDy, .sumDyXhat, l, worker: worker)
            for s in mine {
                let ws = workspaces[s]
                ck_bn_backward_input(ws.gradientA.pointer, ws.normalized[l].pointer, p + block.bnWeight, ws.invstd[l].pointer,
                                     sumDy, sumDyXhat, Int64(n), ws.gradientA.pointer, Int64(ws.rows), width)
            }
        }
        for s in mine {
            let ws = workspaces[s]
            let g = ws.gradient.pointer
            let dz = ws.gradientA.pointer
            ck_act_backward(config.activation.kind.kernel, ws.linearOut[l].pointer, dz, dz, Int64(ws.rows), width,
                            p + block.activation, config.activation.perChannel ? 1 : 0, g + block.activation)
            ck_linear_backward(blockInput(ws, l), p + block.weight, dz, l > 0 ? ws.gradientB.pointer : nil,
                               g + block.weight, g + block.bias, Int64(ws.rows), Int64(config.sizes[l]), width)
            swap(&ws.gradientA, &ws.gradientB)
        }
    }

    // MARK: - Evaluation

    /// Loss and predictions in evaluation mode (BatchNorm's running statistics, no dropout).
    public struct Evaluation {
        public var loss: Double
        public var correct: Int
        /// Each row's predicted class (empty when not asked for).
        public var predictions: [Int32]
    }

    /// Evaluates `rows` rows (the useful workers, each on its own blocks of rows). When `logProbabilities`
    /// is given (rows x classes) it receives the log-probabilities; `predictions: false` skips the
    /// per-row classes (the per-epoch evaluation needs only the loss and the count right).
    public func evaluate(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int,
                         logProbabilities: UnsafeMutablePointer<Float>? = nil, predictions wantPredictions: Bool = true) -> Evaluation {
        // Fixed blocks of rows, whoever runs them, and block sums added in block order: the figures
        // do not depend on the thread count.
        let blockRows = 1024
        let blocks = (rows + blockRows - 1) / blockRows
        if evalWorkspaces.count != pool.threads {
            evalWorkspaces = (0..<pool.threads).map { _ in
                ShardWorkspace(config: config, capacity: blockRows, parameterCount: 0, training: false)
            }
        }
        let stats = evalStatistics()
        var predictions = [Int32](repeating: 0, count: wantPredictions ? rows : 0)
        let local = collective.localShards(of: blocks)
        let sums = Buffer<Double>(count: 2 * blocks)  // per block: loss, correct rows
        predictions.withUnsafeMutableBufferPointer { predicted in
            let predicted = wantPredictions ? predicted.baseAddress : nil
            pool.run(workers: min(blocks, pool.usefulWorkers)) { worker in
                let ws = self.evalWorkspaces[worker]
                let f = self.config.inputs, k = self.config.classes
                for block in self.pool.range(of: local.count, for: worker).map({ $0 + local.lowerBound }) {
                    let start = block * blockRows
                    ws.rows = min(blockRows, rows - start)
                    ws.rowsIn = features + start * f
                    ws.labelsIn = labels + start
                    self.inferLogits(ws, stats: stats)
                    var correct: Int64 = 0
                    let loss = ck_logsoftmax_nll(ws.logits.pointer, ws.labelsIn, Int64(ws.rows), Int64(k),
                                                 logProbabilities.map { $0 + start * k }, nil, 0, &correct)
                    sums[2 * block] = loss
                    sums[2 * block + 1] = Double(correct)
                    guard let predicted else { continue }
                    for r in 0..<ws.rows {
                        let z = ws.logits.pointer + r * k
                        var best = 0
                        for c in 1..<k where z[c] > z[best] { best = c }
                        predicted[start + r] = Int32(best)
                    }
                }
            }
        }
        gatherRows(&predictions, blocks: blocks, blockRows: blockRows, width: 1)
        if let logProbabilities {
            var all = UnsafeMutableBufferPointer(start: logProbabilities, count: rows * config.classes)
            gatherRows(&all, blocks: blocks, blockRows: blockRows, width: config.classes)
        }
        let total = collective.allReduce((0..<blocks).map { [sums[2 * $0], sums[2 * $0 + 1]] })
        return Evaluation(loss: rows > 0 ? total[0] / Double(rows) : 0, correct: Int(total[1]), predictions: predictions)
    }

    /// Every process's blocks of per-row values (`width` per row) to every process.
    private func gatherRows<C: MutableCollection>(_ values: inout C, blocks: Int, blockRows: Int, width: Int)
    where C: RandomAccessCollection, C.Index == Int {
        guard collective.size > 1 else { return }
        let stride = MemoryLayout<C.Element>.stride, rows = values.count / width
        let parts = (0..<collective.size).map { rank -> Range<Int> in
            let mine = collective.shards(of: blocks, rank: rank)
            return min(mine.lowerBound * blockRows, rows) * width * stride..<min(mine.upperBound * blockRows, rows) * width * stride
        }
        _ = values.withContiguousMutableStorageIfAvailable { collective.allGather(UnsafeMutableRawBufferPointer($0), parts: parts) }
    }

    /// Per hidden block: BatchNorm's eval-mode mean and 1/std from the running statistics.
    private func evalStatistics() -> [(mean: Buffer<Float>, invstd: Buffer<Float>)] {
        guard config.batchNorm else { return [] }
        return config.hidden.indices.map { l in
            let width = config.hidden[l], block = layout.blocks[l]
            let stats = (mean: Buffer<Float>(count: width), invstd: Buffer<Float>(count: width))
            ck_bn_eval_stats(buffers.pointer + block.runningMean, buffers.pointer + block.runningVar, Int64(width),
                             config.bnEpsilon, stats.mean.pointer, stats.invstd.pointer)
            return stats
        }
    }

    private func inferLogits(_ ws: ShardWorkspace, stats: [(mean: Buffer<Float>, invstd: Buffer<Float>)]) {
        let p = parameters.pointer
        for l in 0..<config.hidden.count {
            forwardLinearActivation(l, ws)
            if config.batchNorm {
                let block = layout.blocks[l]
                ck_bn_forward(ws.activationOut[l].pointer, stats[l].mean.pointer, stats[l].invstd.pointer, p + block.bnWeight,
                              p + block.bnBias, nil, ws.blockOut[l].pointer, Int64(ws.rows), Int64(config.hidden[l]))
            } else {
                ws.blockOut[l].pointer.update(from: ws.activationOut[l].pointer, count: ws.rows * config.hidden[l])
            }
        }
        forwardOutput(ws)
    }
}
