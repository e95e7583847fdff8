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

    /// The shard's partial sums of x and x^2 (forward) or of dy and dy * xhat (backward).
    func statisticsPartials(_ ws: ShardWorkspace, _ i: Int) -> (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) {
        (partial(ws, i, .sum), partial(ws, i, .sumSquares))
    }

    func gradientPartials(_ ws: ShardWorkspace, _ i: Int) -> (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) {
        (partial(ws, i, .sumDy), partial(ws, i, .sumDyXhat))
    }

    private func partial(_ ws: ShardWorkspace, _ i: Int, _ slot: Slot) -> UnsafeMutablePointer<Double> {
        ws.partials[i].pointer + slot.rawValue * width
    }

    /// The batch's mean and 1/std per channel, kept after the shard's `capacity * width` saved floats.
    func batchStatistics(_ ws: ShardWorkspace, _ i: Int) -> (mean: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        let mean = ws.saved[i].pointer + ws.capacity * width
        return (mean, mean + width)
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards {
            startStatistics(ws, i)
            accumulateStatistics(ws.input(of: i), rows: ws.rows, ws, i)
        }
        finishStatistics(shards, i, step, worker: worker)
        for ws in shards {
            normalize(ws.input(of: i), into: ws.outputs[i].pointer, xhat: ws.saved[i].pointer, rows: ws.rows, ws, i, step.parameters)
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards {
            startGradientSums(ws, i)
            accumulateGradientSums(ws.gradientOut.pointer, xhat: ws.saved[i].pointer, rows: ws.rows, ws, i)
        }
        let sums = finishGradientSums(shards, i, step, worker: worker)
        for ws in shards {
            inputGradient(ws.gradientOut.pointer, xhat: ws.saved[i].pointer, into: ws.gradientIn.pointer, rows: ws.rows, ws, i, step, sums)
        }
    }

    // The steps of the forward and backward. A fused block (`NarrowBlockLayer`) calls the start and
    // finish of the statistics and of the gradient sums around its own passes (`ck_narrow_*`), which
    // accumulate into the partials below.

    func startStatistics(_ ws: ShardWorkspace, _ i: Int) { ws.partials[i].fill(0) }

    /// Adds the rows' sums of x and x^2 to the shard's partial sums.
    func accumulateStatistics(_ x: UnsafePointer<Float>, rows: Int, _ ws: ShardWorkspace, _ i: Int) {
        ck_bn_partial_stats(x, Int64(rows), Int64(width), partial(ws, i, .sum), partial(ws, i, .sumSquares))
    }

    /// Every worker, once its shards' partial sums are complete: meets the others, sums the batch's
    /// statistics through the collective and keeps each shard's mean and 1/std.
    func finishStatistics(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        step.pool.barrier(worker)
        // Both sums in one reduction (adjacent slots): one exchange between processes, not two.
        let sum = step.sumPartials(layer: i, slot: Slot.sum.rawValue, count: 2 * width, into: 0, worker: worker)
        for (k, ws) in zip(shards.indices, shards) {
            let (mean, invstd) = batchStatistics(ws, i)
            // The running statistics are updated once per process (every process holds the same).
            let updatesRunning = k == 0
            ck_bn_finish_stats(sum, sum + width, Int64(step.batchRows), Int64(width), epsilon, momentum, mean, invstd,
                               updatesRunning ? step.statistics + runningMean : nil, updatesRunning ? step.statistics + runningVar : nil)
        }
    }

    /// y = gamma * xhat + beta with the batch's statistics; xhat too when `xhat` is given.
    func normalize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>?, rows: Int,
                   _ ws: ShardWorkspace, _ i: Int, _ p: UnsafePointer<Float>) {
        let (mean, invstd) = batchStatistics(ws, i)
        ck_bn_forward(x, mean, invstd, p + weight, p + bias, xhat, y, Int64(rows), Int64(width))
    }

    func startGradientSums(_ ws: ShardWorkspace, _ i: Int) { partial(ws, i, .sumDy).update(repeating: 0, count: 2 * width) }

    /// Adds the rows' sums of dy and dy * xhat to the shard's partial sums.
    func accumulateGradientSums(_ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, rows: Int, _ ws: ShardWorkspace, _ i: Int) {
        ck_bn_backward_partials(dy, xhat, Int64(rows), Int64(width), partial(ws, i, .sumDy), partial(ws, i, .sumDyXhat))
    }

    /// Every worker, once its shards' partial sums are complete: adds them to each shard's gradients
    /// of gamma and beta, meets the others and returns the batch's sums of dy and dy * xhat.
    func finishGradientSums(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) -> UnsafePointer<Double> {
        for ws in shards {
            let sumDy = partial(ws, i, .sumDy), sumDyXhat = partial(ws, i, .sumDyXhat), g = ws.gradient.pointer
            for c in 0..<width {
                g[weight + c] += Float(sumDyXhat[c])
                g[bias + c] += Float(sumDy[c])
            }
        }
        step.pool.barrier(worker)
        return UnsafePointer(step.sumPartials(layer: i, slot: Slot.sumDy.rawValue, count: 2 * width, into: 0, worker: worker))
    }

    /// dx from dy, xhat and the batch's sums (`finishGradientSums`).
    func inputGradient(_ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, rows: Int,
                       _ ws: ShardWorkspace, _ i: Int, _ step: StepContext, _ sums: UnsafePointer<Double>) {
        ck_bn_backward_input(dy, xhat, step.parameters + weight, batchStatistics(ws, i).invstd, sums, sums + width,
                             Int64(step.batchRows), dx, Int64(rows), Int64(width))
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        infer(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, room: ws.saved[i].pointer, model)
    }

    /// Evaluation mode (the running statistics, written into `room`'s 2 * width floats first); y may equal x.
    func infer(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, room: UnsafeMutablePointer<Float>,
               _ model: InferenceContext) {
        let mean = room, invstd = room + width, p = model.parameters
        ck_bn_eval_stats(model.statistics + runningMean, model.statistics + runningVar, Int64(width), epsilon, mean, invstd)
        ck_bn_forward(x, mean, invstd, p + weight, p + bias, nil, y, Int64(rows), Int64(width))
    }
}
