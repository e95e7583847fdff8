import CKernels
import Foundation

/// Trains and evaluates one model on a worker pool (ARCHITECTURE.md, "Engine"). A mini-batch of N
/// rows is cut into S shards of fixed rows; workers run the shards through the network's layers, forward
/// then backward (a layer that needs the whole batch meets the other workers at a barrier and sums
/// through the collective), then the collective sums the shard gradients and the optimizer updates
/// the parameters, each worker on its own chunk of the parameter buffer. The arithmetic depends on
/// S, never on the number of threads, nor on how many of them run a step (`WorkerCountTuner` picks
/// that for speed). The engine knows nothing of a particular kind of layer.
public final class Engine: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let shards: Int
    public let pool: WorkerPool
    /// Every cross-shard sum goes through it (ARCHITECTURE.md, "Determinism").
    public let collective: Collective
    let network: Network
    let parameters: Buffer<Float>
    /// Non-learned tensors (BatchNorm's running statistics), in the layout's buffer order.
    let statistics: Buffer<Float>
    /// The reduced gradient of the last step (what the optimizer applied).
    let gradient: Buffer<Float>
    let optimizer: OptimizerState
    public private(set) var batchesTracked: Int64
    public var step: UInt64 { context.step }
    private let context: StepContext
    /// The shards this process computes, and their workspaces (indexed from 0).
    private let localShards: Range<Int>
    private var workspaces: [ShardWorkspace] = []
    private var evalWorkspaces: [ShardWorkspace] = []
    private var shardGradients: UnsafeMutablePointer<UnsafePointer<Float>?>
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
    /// Parameters with a floor (ISRU's alpha): raised to it after each step.
    private let parameterFloors: [(range: Range<Int>, floor: Float)]
    /// Per class, the weight of its rows in the training loss (`--class-weight`); nil: all 1.
    public var classWeights: [Float]? {
        didSet { weightBuffer = classWeights.map { w in let b = Buffer<Float>(count: w.count); b.pointer.update(from: w, count: w.count); return b } }
    }
    private var weightBuffer: Buffer<Float>?
    /// The current batch's rows, class weights and total weight, for the loss.
    private var lossBatch = LossBatch(rows: 0, classWeights: nil, totalWeight: 0)
    /// `--clip-grad-norm`, and the norm of the last step's gradient before clipping.
    public var clipGradNorm: Float? {
        didSet { clipping = clipGradNorm.map { GradientClipping(maxNorm: $0, parameterCount: layout.parameterCount) } }
    }
    private var clipping: GradientClipping?
    public private(set) var gradientNorm: Double?

    /// `fusedBlocks: false` runs every layer of the narrow blocks on its own (ARCHITECTURE.md, "Fused
    /// narrow blocks"): the same arithmetic up to the order of the sums over rows, for tests and benchmarks.
    public init(model: Model, optimizer: OptimizerConfig, shards: Int, pool: WorkerPool, dropoutSeed: UInt64,
                collective: Collective = LocalCollective(), fusedBlocks: Bool = true) {
        precondition(shards >= 1)
        config = model.config
        network = Network(model.config, fusingNarrowBlocks: fusedBlocks)
        layout = network.layout
        self.shards = shards
        self.pool = pool
        self.collective = collective
        localShards = collective.localShards(of: shards)
        parameters = Buffer(count: model.parameters.count)
        parameters.pointer.update(from: model.parameters, count: model.parameters.count)
        statistics = Buffer(count: model.buffers.count)
        statistics.pointer.update(from: model.buffers, count: model.buffers.count)
        batchesTracked = model.batchesTracked
        gradient = Buffer(count: model.parameters.count)
        self.optimizer = OptimizerState(config: optimizer, parameterCount: model.parameters.count)
        shardGradients = .allocate(capacity: shards)
        shardGradients.initialize(repeating: nil, count: shards)
        reduceSeconds = Buffer(count: pool.threads)
        tuner = WorkerCountTuner(maxWorkers: min(pool.usefulWorkers, localShards.count))
        parameterFloors = network.layers.flatMap(\.parameterFloors)
        let maxPartials = network.layers.map { $0.partialSlots * $0.width }.max() ?? 0
        context = StepContext(parameters: parameters.pointer, statistics: statistics.pointer, pool: pool, collective: collective,
                              shardCount: shards, dropoutSeed: dropoutSeed, maxPartials: maxPartials)
        UnsafeMutableRawBufferPointer(start: parameters.pointer, count: parameters.count * MemoryLayout<Float>.stride)
            .withMemoryRebound(to: UInt8.self) { collective.broadcast(UnsafeMutableRawBufferPointer($0), root: 0) }
    }

    deinit { shardGradients.deallocate() }

    /// The current model (copies the parameters out).
    public var model: Model {
        Model(config: config, parameters: parameters.array, buffers: statistics.array, batchesTracked: batchesTracked)
    }

    public var gradientValues: [Float] { gradient.array }

    /// Replaces the parameters, statistics and batch counter with `model`'s (of this network), e.g.
    /// the best validation epoch's.
    public func assign(_ model: Model) {
        precondition(model.config == config)
        parameters.pointer.update(from: model.parameters, count: model.parameters.count)
        statistics.pointer.update(from: model.buffers, count: model.buffers.count)
        batchesTracked = model.batchesTracked
    }

    /// The learning rate of the next steps (a schedule changes it per epoch).
    public var learningRate: Float {
        get { optimizer.learningRate }
        set { optimizer.learningRate = newValue }
    }

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
        context.step = step
    }

    var workspacesForTesting: [ShardWorkspace] { workspaces }

    // MARK: - Training

    /// The result of one step: mean (class-weighted) loss over the batch, the batch's total weight
    /// (its rows when unweighted) and the number of rows predicted right (in training mode, before
    /// the update).
    public struct StepResult { public var loss: Double; public var weight: Double; public var correct: Int }

    /// One optimizer step on the rows `indices` of `features`/`labels` (row-major, `config.inputs`
    /// columns) and, for regression, `targets` (standardised). With `update: false` only computes
    /// the gradient (tests).
    @discardableResult
    public func trainStep(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, targets: UnsafePointer<Float>? = nil,
                          indices: UnsafeBufferPointer<Int>, update: Bool = true) -> StepResult {
        let n = indices.count
        prepareWorkspaces(batch: n)
        context.batchRows = n
        let weight = batchWeight(labels: labels, indices: indices)
        lossBatch = LossBatch(rows: n, classWeights: weightBuffer.map { UnsafePointer($0.pointer) }, totalWeight: weight)
        let workers = fixedWorkers ?? tuner.workers(rows: n)
        let started = DispatchTime.now().uptimeNanoseconds
        pool.run(workers: min(workers, localShards.count)) { worker in
            self.runStep(worker: worker, features: features, labels: labels, targets: targets, indices: indices, update: update)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        if fixedWorkers == nil { tuner.record(rows: n, workers: workers, seconds: seconds) }
        stepSeconds += seconds
        workerSeconds += seconds * Double(pool.activeWorkers)
        rowsProcessed += n
        if update { optimizer.finishStep() }
        if !layout.counters.isEmpty { batchesTracked += 1 }
        context.step += 1
        if collective.size > 1 && context.step % Self.replicaCheckSteps == 0 {
            collective.verifyReplicas(hash: model.replicaHash, after: "step \(context.step)")
        }
        var perShard = [[Double]](repeating: [0, 0], count: shards)
        for (s, ws) in zip(localShards, workspaces) { perShard[s] = [ws.loss, Double(ws.correct)] }
        let sums = collective.allReduce(perShard)
        return StepResult(loss: sums[0] / weight, weight: weight, correct: Int(sums[1]))
    }

    /// The sum of the batch rows' class weights, from the counts per class (exact, in class order,
    /// the same in every process); the row count when unweighted.
    private func batchWeight(labels: UnsafePointer<Int32>, indices: UnsafeBufferPointer<Int>) -> Double {
        guard let classWeights else { return Double(indices.count) }
        var counts = [Int](repeating: 0, count: classWeights.count)
        for row in indices { counts[Int(labels[row])] += 1 }
        return zip(counts, classWeights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Steps between two checks that every process holds the same model (ARCHITECTURE.md, "Several
    /// processes: MPI"): a hash of 2 MB of parameters takes about a millisecond.
    static let replicaCheckSteps: UInt64 = 100

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
            let arena = PageArena()
            workspaces = localShards.map { _ in
                ShardWorkspace(network: network, inputs: config.inputs, capacity: capacity, parameterCount: layout.parameterCount,
                               training: true, arena: arena)
            }
            for (s, ws) in zip(localShards, workspaces) { shardGradients[s] = UnsafePointer(ws.gradient.pointer) }
            context.partials = network.layers.indices.map(partialTables)
        }
        for (s, ws) in zip(localShards, workspaces) {
            ws.row0 = n * s / shards
            ws.rows = n * (s + 1) / shards - ws.row0
        }
    }

    /// Per slot of layer i's partial sums: every shard's pointer to it (nil for another process's shards).
    private func partialTables(_ i: Int) -> [UnsafeMutablePointer<UnsafePointer<Double>?>] {
        let layer = network.layers[i]
        return (0..<layer.partialSlots).map { slot in
            let table = UnsafeMutablePointer<UnsafePointer<Double>?>.allocate(capacity: shards)
            table.initialize(repeating: nil, count: shards)
            for (s, ws) in zip(localShards, workspaces) { table[s] = UnsafePointer(ws.partials[i].pointer + slot * layer.width) }
            return table
        }
    }

    private func runStep(worker: Int, features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, targets: UnsafePointer<Float>?,
                         indices: UnsafeBufferPointer<Int>, update: Bool) {
        let mine = workspaces[pool.range(of: workspaces.count, for: worker)]
        for ws in mine {
            gather(ws, features: features, labels: labels, targets: targets, indices: indices)
            ws.gradient.fill(0)
        }
        let layers = network.layers
        for (i, layer) in layers.enumerated() { layer.forward(mine, i, context, worker: worker) }
        for ws in mine {
            network.loss.forwardBackward(ws, outputs: ws.outputs[layers.count - 1].pointer, batch: lossBatch)
        }
        for i in layers.indices.reversed() {
            layers[i].backward(mine, i, context, worker: worker)
            for ws in mine { swap(&ws.gradientOut, &ws.gradientIn) }
        }
        pool.barrier(worker)
        let t0 = DispatchTime.now().uptimeNanoseconds
        collective.reduceGradients(shardGradients, shardCount: shards, count: layout.parameterCount, into: gradient.pointer,
                                   pool: pool, worker: worker) { chunk in
            guard update, clipping == nil else { return }
            applyUpdate(chunk)
        }
        if let clipping { clip(clipping, worker: worker, update: update) }
        reduceSeconds[worker] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    private func applyUpdate(_ chunk: Range<Int>) {
        optimizer.apply(parameters: parameters.pointer, gradient: gradient.pointer, begin: chunk.lowerBound, end: chunk.upperBound)
        applyFloors(chunk)
    }

    /// Every worker, once the gradient is summed: scales it by the clipping factor (the norm over the
    /// whole gradient, in a fixed order), then the optimizer step, each worker on its own chunk.
    private func clip(_ clipping: GradientClipping, worker: Int, update: Bool) {
        pool.barrier(worker)
        clipping.sumSquares(gradient.pointer, pool: pool, worker: worker)
        pool.barrier(worker)
        let norm = clipping.norm, factor = clipping.factor(norm: norm)
        if worker == 0 { gradientNorm = norm }
        let chunk = LocalCollective.chunk(of: layout.parameterCount, pool: pool, worker: worker)
        for i in chunk { gradient[i] *= factor }
        if update { applyUpdate(chunk) }
    }

    private func applyFloors(_ chunk: Range<Int>) {
        for (range, floor) in parameterFloors where range.overlaps(chunk) {
            for i in range.clamped(to: chunk) where parameters[i] < floor { parameters[i] = floor }
        }
    }

    private func gather(_ ws: ShardWorkspace, features: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                        targets: UnsafePointer<Float>?, indices: UnsafeBufferPointer<Int>) {
        let f = config.inputs
        let mine = UnsafeBufferPointer(rebasing: indices[ws.row0..<(ws.row0 + ws.rows)])
        if let first = mine.first, mine.last! - first == ws.rows - 1, zip(mine, mine.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            ws.rowsIn = features + first * f
            ws.labelsIn = labels + first
            ws.targetsIn = targets.map { $0 + first }
            return
        }
        for (i, row) in mine.enumerated() {
            (ws.input.pointer + i * f).update(from: features + row * f, count: f)
            ws.labels[i] = labels[row]
            if let targets { ws.targets[i] = targets[row] }
        }
        ws.rowsIn = UnsafePointer(ws.input.pointer)
        ws.labelsIn = UnsafePointer(ws.labels.pointer)
        ws.targetsIn = UnsafePointer(ws.targets.pointer)
    }

    // MARK: - Evaluation

    /// Loss and predictions in evaluation mode (BatchNorm's running statistics, no dropout).
    public struct Evaluation {
        public var loss: Double
        public var correct: Int
        /// Each row's predicted class (empty when not asked for).
        public var predictions: [Int32]
    }

    /// Rows per evaluation block: fixed blocks of rows, whoever runs them, and block sums added by the
    /// collective's tree, so the figures do not depend on the thread count.
    static let evaluationBlockRows = 1024

    /// Evaluates `rows` rows (the useful workers, each on its own blocks of rows) against `labels`
    /// or, for regression, the standardised `targets`. When `outputs` is given (rows x
    /// `config.classes`) it receives the log-probabilities, or regression's standardised
    /// predictions; `predictions: false` skips the per-row classes (the per-epoch evaluation needs
    /// only the loss and the count right).
    public func evaluate(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, targets: UnsafePointer<Float>? = nil, rows: Int,
                         outputs: UnsafeMutablePointer<Float>? = nil, predictions wantPredictions: Bool = true) -> Evaluation {
        let blockRows = Self.evaluationBlockRows
        let blocks = (rows + blockRows - 1) / blockRows
        if evalWorkspaces.count != pool.threads {
            evalWorkspaces = (0..<pool.threads).map { _ in
                ShardWorkspace(network: network, inputs: config.inputs, capacity: blockRows, parameterCount: 0, training: false)
            }
        }
        var predictions = [Int32](repeating: 0, count: wantPredictions ? rows : 0)
        let local = collective.localShards(of: blocks)
        let sums = Buffer<Double>(count: 2 * blocks)  // per block: loss, correct rows
        let model = InferenceContext(parameters: parameters.pointer, statistics: statistics.pointer)
        predictions.withUnsafeMutableBufferPointer { predicted in
            let predicted = wantPredictions ? predicted.baseAddress : nil
            pool.run(workers: min(local.count, pool.usefulWorkers)) { worker in
                let ws = self.evalWorkspaces[worker]
                let f = self.config.inputs, k = self.config.classes, layers = self.network.layers
                for block in self.pool.range(of: local.count, for: worker).map({ $0 + local.lowerBound }) {
                    let start = block * blockRows
                    ws.rows = min(blockRows, rows - start)
                    ws.rowsIn = features + start * f
                    ws.labelsIn = labels + start
                    ws.targetsIn = targets.map { $0 + start }
                    for (i, layer) in layers.enumerated() { layer.infer(ws, i, model) }
                    let result = self.network.loss.evaluate(ws, outputs: ws.outputs[layers.count - 1].pointer,
                                                            rowOutputs: outputs.map { $0 + start * k },
                                                            predictions: predicted.map { $0 + start })
                    sums[2 * block] = result.loss
                    sums[2 * block + 1] = Double(result.correct)
                }
            }
        }
        if wantPredictions { gatherRows(&predictions, blocks: blocks, width: 1) }
        if let outputs {
            var all = UnsafeMutableBufferPointer(start: outputs, count: rows * config.classes)
            gatherRows(&all, blocks: blocks, width: config.classes)
        }
        let total = collective.allReduce((0..<blocks).map { [sums[2 * $0], sums[2 * $0 + 1]] })
        return Evaluation(loss: rows > 0 ? total[0] / Double(rows) : 0, correct: Int(total[1]), predictions: predictions)
    }

    /// Every process's blocks of per-row values (`width` per row) to every process.
    private func gatherRows<C: MutableCollection>(_ values: inout C, blocks: Int, width: Int)
    where C: RandomAccessCollection, C.Index == Int {
        guard collective.size > 1 else { return }
        let stride = MemoryLayout<C.Element>.stride, rows = values.count / width, blockRows = Self.evaluationBlockRows
        let parts = (0..<collective.size).map { rank -> Range<Int> in
            let mine = collective.shards(of: blocks, rank: rank)
            return min(mine.lowerBound * blockRows, rows) * width * stride..<min(mine.upperBound * blockRows, rows) * width * stride
        }
        _ = values.withContiguousMutableStorageIfAvailable { collective.allGather(UnsafeMutableRawBufferPointer($0), parts: parts) }
    }
}
