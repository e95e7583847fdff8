import CKernels

/// A narrow hidden block, `Linear -> activation -> BatchNorm -> [Dropout]`, run as one layer over
/// blocks of rows that stay in the cache (ARCHITECTURE.md, "Fused narrow blocks"). It keeps only the
/// Linear's output z per row; around the Linear's own products, each phase's element-wise work is one
/// pass of the narrow-block kernels (`ck_narrow_*`: the affine activation, BatchNorm and the dropout
/// mask in registers), which recompute the activation, xhat and the mask from z where the unfused
/// layers would store and re-read them. A step streams through memory, per block of the network, the
/// input x and z in the forward (twice each, around BatchNorm's whole-batch statistics) and x, z and
/// the gradients in the backward, instead of eight buffers many times over.
final class NarrowBlockLayer: Layer {
    let linear: LinearLayer
    let activation: ActivationLayer
    let norm: BatchNormLayer
    let dropout: DropoutLayer?
    var width: Int { linear.width }

    /// Rows per block: a block's few scratch buffers (at most `maxWidth` floats a row) stay in L2.
    static let blockRows = 512
    /// The widest block fused. Wider layers do enough arithmetic per byte that whole-shard passes
    /// (and the GEMM over all of a shard's rows at once) are faster.
    static let maxWidth = 32

    init(_ linear: LinearLayer, _ activation: ActivationLayer, _ norm: BatchNormLayer, _ dropout: DropoutLayer?) {
        self.linear = linear
        self.activation = activation
        self.norm = norm
        self.dropout = dropout
    }

    private var parts: [Layer] { [linear, activation, norm] + (dropout.map { [$0] } ?? []) }

    /// z (rows x width), then the batch's mean and 1/std per channel (where BatchNorm keeps them).
    func savedCount(rows: Int) -> Int { (rows + 2) * width }
    var partialSlots: Int { norm.partialSlots }
    var parameterFloors: [(range: Range<Int>, floor: Float)] { parts.flatMap(\.parameterFloors) }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        for layer in parts { layer.initialize(parameters: &parameters, buffers: &buffers, rng: &rng) }
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        withScratch { room, plan in
            for ws in shards {
                norm.startStatistics(ws, i)
                let (sum, sumSquares) = norm.statisticsPartials(ws, i)
                makePlan(plan, ws, i, step)
                forEachBlock(ws) { start, rows in
                    let z = ws.saved[i].pointer + start * width
                    linear.apply(ws.input(of: i) + start * linear.fanIn, into: z, rows: rows, p)
                    ck_narrow_stats(plan, activationInput(z, rows: rows, room: room, p), Int64(rows), sum, sumSquares)
                }
            }
            norm.finishStatistics(shards, i, step, worker: worker)
            for ws in shards {
                makePlan(plan, ws, i, step)
                forEachBlock(ws) { start, rows in
                    let a = activationInput(ws.saved[i].pointer + start * width, rows: rows, room: room, p)
                    ck_narrow_forward(plan, Int64(ws.row0 + start), a, ws.outputs[i].pointer + start * width, Int64(rows))
                }
            }
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        withScratch { room, plan in
            for ws in shards {
                norm.startGradientSums(ws, i)
                let (sumDy, sumDyXhat) = norm.gradientPartials(ws, i)
                makePlan(plan, ws, i, step)
                forEachBlock(ws) { start, rows in
                    // d(loss)/d(BatchNorm's output), masked in place: the engine discards the layer's output
                    // gradient after its backward, and phase 2 reads it without hashing the masks again.
                    let a = activationInput(ws.saved[i].pointer + start * width, rows: rows, room: room, p)
                    ck_narrow_backward_sums(plan, Int64(ws.row0 + start), a, ws.gradientOut.pointer + start * width, Int64(rows),
                                            sumDy, sumDyXhat)
                }
            }
            let sums = norm.finishGradientSums(shards, i, step, worker: worker)
            for ws in shards {
                makePlan(plan, ws, i, step, sums: sums)
                forEachBlock(ws) { start, rows in
                    let z = ws.saved[i].pointer + start * width, gradient = ws.gradient.pointer
                    // room: the activation's output (when not affine), then d(loss)/d(activation), then d(loss)/dz.
                    let a = activationInput(z, rows: rows, room: room, p)
                    ck_narrow_backward_input(plan, a, ws.gradientOut.pointer + start * width, room, Int64(rows))
                    activation.backward(input: z, outputGradient: room, inputGradient: room, rows: rows, p, gradient: gradient)
                    // The first layer's input gradient is not needed.
                    linear.backward(input: ws.input(of: i) + start * linear.fanIn, outputGradient: room,
                                    inputGradient: i > 0 ? ws.gradientIn.pointer + start * linear.fanIn : nil, rows: rows, p,
                                    gradient: gradient)
                }
            }
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        let z = UnsafeMutablePointer<Float>.allocate(capacity: ws.rows * width)
        defer { z.deallocate() }
        let p = model.parameters, out = ws.outputs[i].pointer
        linear.apply(ws.input(of: i), into: z, rows: ws.rows, p)
        activation.apply(z, into: out, rows: ws.rows, p)
        norm.infer(out, into: out, rows: ws.rows, room: ws.saved[i].pointer, model)
    }

    /// The narrow-block kernels' plan for the shard's blocks: the activation when affine (else the
    /// identity: `activationInput` applies it first), BatchNorm's batch statistics and parameters
    /// (and with `sums`, the whole batch's sums of dy and dy * xhat), the dropout mask's key.
    private func makePlan(_ plan: OpaquePointer, _ ws: ShardWorkspace, _ i: Int, _ step: StepContext, sums: UnsafePointer<Double>? = nil) {
        let p = step.parameters, (mean, invstd) = norm.batchStatistics(ws, i)
        let identity = UnsafePointer(Self.identity)
        let affine = activation.affineCoefficients(p) ?? (alpha: identity, beta: identity + 1, perChannel: false)
        var block = ck_narrow_block(alpha: affine.alpha, beta: affine.beta, act_per_channel: affine.perChannel ? 1 : 0, mean: mean,
                                    invstd: invstd, gamma: p + norm.weight, shift: p + norm.bias, p: dropout?.p ?? 0,
                                    layer: dropout?.block ?? 0, seed: step.dropoutSeed, step: step.step)
        ck_narrow_plan_make(plan, &block, Int64(width), sums, sums.map { $0 + width }, Int64(step.batchRows))
    }

    /// alpha = 0, beta = 1: a = z exactly.
    private nonisolated(unsafe) static let identity: UnsafeMutablePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 2)
        p[0] = 0
        p[1] = 1
        return p
    }()

    /// What the fused kernels take as z: z itself for the affine activation (they apply it), else
    /// the activation's output, written into `room` (the same kernel on the same z each time, so the
    /// same bits in every pass).
    private func activationInput(_ z: UnsafePointer<Float>, rows: Int, room: UnsafeMutablePointer<Float>,
                                 _ p: UnsafePointer<Float>) -> UnsafePointer<Float> {
        guard activation.affineCoefficients(p) == nil else { return z }
        activation.apply(z, into: room, rows: rows, p)
        return UnsafePointer(room)
    }

    /// The shard's rows in blocks of `blockRows`: (first row, rows).
    private func forEachBlock(_ ws: ShardWorkspace, _ body: (Int, Int) -> Void) {
        for start in stride(from: 0, to: ws.rows, by: Self.blockRows) { body(start, min(Self.blockRows, ws.rows - start)) }
    }

    /// A block of `blockRows` x `width` floats and room for the kernels' plan, for the duration of
    /// `body` (each worker its own).
    private func withScratch(_ body: (UnsafeMutablePointer<Float>, OpaquePointer) -> Void) {
        let room = UnsafeMutablePointer<Float>.allocate(capacity: Self.blockRows * width)
        let plan = UnsafeMutableRawPointer.allocate(byteCount: ck_narrow_plan_size(), alignment: 64)
        defer { room.deallocate(); plan.deallocate() }
        body(room, OpaquePointer(plan))
    }
}
