import CKernels

/// BatchNorm1d (`bn{i}.weight`, `bn{i}.bias`, buffers `bn{i}.running_mean`, `bn{i}.running_var`,
/// counter `bn{i}.num_batches_tracked`), synchronised over the shards: each shard sums its rows, the
/// collective adds the shards' sums (ARCHITECTURE.md, "Determinism"), so a batch cut into shards
/// normalises exactly as the uncut batch. Two barriers per step: one in the forward, one in the backward.
final class BatchNormLayer: Layer {
    let width: Int
    let epsilon: Float, momentum: Float
    let weight: Int, bias: Int
    let runningMean: Int, runningVar: Int

    /// Partial-sum slots: forward sums of x and x^2, backward sums of dy and dy * xhat.
    private enum Slot: Int { case sum, sumSquares, sumDy, sumDyXhat }
    var partialSlots: Int { 4 }

    init(_ index: Int, width: Int, epsilon: Float, momentum: Float, layout: inout ParameterLayout) {
        self.width = width
        self.epsilon = epsilon
        self.momentum = momentum
        weight = layout.addParameter("bn\(index).weight", [width])
        bias = layout.addParameter("bn\(index).bias", [width])
        runningMean = layout.addBuffer("bn\(index).running_mean", [width])
        runningVar = layout.addBuffer("bn\(index).running_var", [width])
        layout.addCounter("bn\(index).num_batches_tracked")
    }

    /// xhat (rows x width), then the batch's mean and 1/std per channel.
    func savedCount(rows: Int) -> Int { (rows + 2) * width }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        for c in 0..<width {
            parameters[weight + c] = 1
            buffers[runningVar + c] = 1
        }
    }

    private func partial(_ ws: ShardWorkspace, _ i: Int, _ slot: Slot) -> UnsafeMutablePointer<Double> {
        ws.partials[i].pointer + slot.rawValue * width
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let cols = Int64(width), p = step.parameters
        for ws in shards {
            ws.partials[i].fill(0)
            ck_bn_partial_stats(ws.input(of: i), Int64(ws.rows), cols, partial(ws, i, .sum), partial(ws, i, .sumSquares))
        }
        step.pool.barrier(worker)
        // Both sums in one reduction (adjacent slots): one exchange between processes, not two.
        let sum = step.sumPartials(layer: i, slot: Slot.sum.rawValue, count: 2 * width, into: 0, worker: worker)
        let sumSquares = sum + width
        for (k, ws) in zip(shards.indices, shards) {
            let xhat = ws.saved[i].pointer, mean = xhat + ws.capacity * width, invstd = mean + width
            // The running statistics are updated once per process (every process holds the same).
            let updatesRunning = k == 0
            ck_bn_finish_stats(sum, sumSquares, Int64(step.batchRows), cols, epsilon, momentum, mean, invstd,
                               updatesRunning ? step.statistics + runningMean : nil, updatesRunning ? step.statistics + runningVar : nil)
            ck_bn_forward(ws.input(of: i), mean, invstd, p + weight, p + bias, xhat, ws.outputs[i].pointer, Int64(ws.rows), cols)
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let cols = Int64(width)
        for ws in shards {
            let sumDy = partial(ws, i, .sumDy), sumDyXhat = partial(ws, i, .sumDyXhat)
            sumDy.update(repeating: 0, count: 2 * width)
            ck_bn_backward_partials(ws.gradientOut.pointer, ws.saved[i].pointer, Int64(ws.rows), cols, sumDy, sumDyXhat)
            let g = ws.gradient.pointer
            for c in 0..<width {
                g[weight + c] += Float(sumDyXhat[c])
                g[bias + c] += Float(sumDy[c])
            }
        }
        step.pool.barrier(worker)
        let sumDy = step.sumPartials(layer: i, slot: Slot.sumDy.rawValue, count: 2 * width, into: 0, worker: worker)
        let sumDyXhat = sumDy + width
        for ws in shards {
            let xhat = ws.saved[i].pointer, invstd = xhat + (ws.capacity + 1) * width
            ck_bn_backward_input(ws.gradientOut.pointer, xhat, step.parameters + weight, invstd, sumDy, sumDyXhat,
                                 Int64(step.batchRows), ws.gradientIn.pointer, Int64(ws.rows), cols)
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        let mean = ws.saved[i].pointer, invstd = mean + width, p = model.parameters
        ck_bn_eval_stats(model.statistics + runningMean, model.statistics + runningVar, Int64(width), epsilon, mean, invstd)
        ck_bn_forward(ws.input(of: i), mean, invstd, p + weight, p + bias, nil, ws.outputs[i].pointer, Int64(ws.rows), Int64(width))
    }
}
