import CKernels

/// A narrow hidden block, `Linear -> activation -> BatchNorm -> [Dropout]`, run as one layer over
/// blocks of rows that stay in the cache (ARCHITECTURE.md, "Fused narrow blocks"). It keeps only the
/// Linear's output z per row; around the Linear's own products, each phase's element-wise work is one
/// pass of the narrow-block kernels (`ck_narrow_*`: the affine activation, BatchNorm and the dropout
/// mask in registers), which recompute the activation, xhat and the mask from z where the unfused
/// layers would store and re-read them.
///
/// Consecutive narrow blocks are chained, so a block of rows stays in the cache from one Linear to the
/// next: a block after another (`previous`) recomputes its input, the previous block's output, from
/// that block's z instead of reading a stored output, and its backward hands the previous block its
/// output gradient already masked and summed (that block's first backward phase), instead of a
/// separate pass over it. A block followed by a narrow block (`feedsNarrowBlock`) neither writes its
/// output nor makes that first backward pass.
final class NarrowBlockLayer: Layer {
    let linear: LinearLayer
    let activation: ActivationLayer
    let norm: BatchNormLayer
    let dropout: DropoutLayer?
    /// The narrow block just before this one in the network, if any.
    let previous: NarrowBlockLayer?
    /// Whether the next layer is a narrow block (which recomputes this block's output).
    let feedsNarrowBlock: Bool
    var width: Int { linear.width }
    var storesOutput: Bool { !feedsNarrowBlock }

    /// Rows per block: a block's few scratch buffers (at most `maxWidth` floats a row) stay in L2. A
    /// multiple of 16 (the kernels' row groups), so every block's keep bits start at a whole word.
    static let blockRows = 512
    /// The widest block fused. Wider layers do enough arithmetic per byte that whole-shard passes
    /// (and the GEMM over all of a shard's rows at once) are faster.
    static let maxWidth = 32

    init(_ linear: LinearLayer, _ activation: ActivationLayer, _ norm: BatchNormLayer, _ dropout: DropoutLayer?,
         previous: NarrowBlockLayer?, feedsNarrowBlock: Bool) {
        self.linear = linear
        self.activation = activation
        self.norm = norm
        self.dropout = dropout
        self.previous = previous
        self.feedsNarrowBlock = feedsNarrowBlock
    }

    private var parts: [Layer] { [linear, activation, norm] + (dropout.map { [$0] } ?? []) }

    /// z (rows x width), then the batch's mean and 1/std per channel (where BatchNorm keeps them), then
    /// with dropout the forward's keep bits (`keepBits`).
    func savedCount(rows: Int) -> Int {
        let bits = dropout == nil ? 0 : (Int(ck_narrow_keep_words(Int64(rows), Int64(width))) + 1) / 2
        return (rows + 2) * width + bits
    }
    var partialSlots: Int { norm.partialSlots }
    var parameterFloors: [(range: Range<Int>, floor: Float)] { parts.flatMap(\.parameterFloors) }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        for layer in parts { layer.initialize(parameters: &parameters, buffers: &buffers, rng: &rng) }
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        withScratch { s in
            for ws in shards {
                norm.startStatistics(ws, i)
                let (sum, sumSquares) = norm.statisticsPartials(ws, i)
                makePlans(s, ws, i, step)
                forEachBlock(ws) { start, rows in
                    let z = ws.saved[i].pointer + start * width
                    linear.apply(recomputedInput(ws, i, start, rows, s, p) ?? ws.input(of: i) + start * linear.fanIn, into: z, rows: rows, p)
                    ck_narrow_stats(s.plan, activationInput(z, rows: rows, room: s.room, p), Int64(rows), sum, sumSquares)
                }
            }
            norm.finishStatistics(shards, i, step, worker: worker)
            guard storesOutput else { return }
            for ws in shards {
                makePlan(s.plan, ws, i, step)
                forEachBlock(ws) { start, rows in
                    let a = activationInput(ws.saved[i].pointer + start * width, rows: rows, room: s.room, p)
                    ck_narrow_forward(s.plan, Int64(ws.row0 + start), a, ws.outputs[i].pointer + start * width, Int64(rows),
                                      keepBits(ws, i, start))
                }
            }
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        withScratch { s in
            // After a narrow block, the gradient arrives masked and summed (see `backwardBlock`).
            if !feedsNarrowBlock {
                for ws in shards {
                    norm.startGradientSums(ws, i)
                    makePlan(s.plan, ws, i, step)
                    forEachBlock(ws) { start, rows in
                        // d(loss)/d(BatchNorm's output), masked in place: the engine discards the layer's output
                        // gradient after its backward, and phase 2 reads it without hashing the masks again.
                        let a = activationInput(ws.saved[i].pointer + start * width, rows: rows, room: s.room, p)
                        maskGradient(ws, i, start, rows, ws.gradientOut.pointer + start * width, a: a, plan: s.plan)
                    }
                }
            }
            let sums = norm.finishGradientSums(shards, i, step, worker: worker)
            for ws in shards {
                makePlans(s, ws, i, step, sums: sums)
                if let previous { previous.norm.startGradientSums(ws, i - 1) }
                forEachBlock(ws) { start, rows in backwardBlock(ws, i, start, rows, s, p) }
            }
        }
    }

    /// The second backward phase on one block of rows: BatchNorm's and the activation's backward, the
    /// Linear's dx, dW and db. After a narrow block, dx comes first: the previous block's first phase
    /// masks it and sums it while it is in the cache, in the pass that recomputes this block's input
    /// (the previous block's output, which dW needs) under the same masks.
    private func backwardBlock(_ ws: ShardWorkspace, _ i: Int, _ start: Int, _ rows: Int, _ s: Scratch, _ p: UnsafePointer<Float>) {
        let z = ws.saved[i].pointer + start * width, gradient = ws.gradient.pointer
        // room: the activation's output (when not affine: softexp's backward reads it); roomGradient:
        // d(loss)/d(activation), then d(loss)/dz. Affine's output is never formed (the kernels apply it).
        let a = activationInput(z, rows: rows, room: s.room, p), dz = s.roomGradient
        ck_narrow_backward_input(s.plan, a, ws.gradientOut.pointer + start * width, dz, Int64(rows))
        activation.backward(input: z, output: activation.affineCoefficients(p) == nil ? a : nil, outputGradient: dz,
                            inputGradient: dz, rows: rows, p, gradient: gradient)
        let dx = ws.gradientIn.pointer + start * linear.fanIn
        guard let previous else {
            // The first layer's input gradient is not needed.
            linear.backward(input: ws.input(of: i) + start * linear.fanIn, outputGradient: dz, inputGradient: i > 0 ? dx : nil,
                            rows: rows, p, gradient: gradient)
            return
        }
        linear.inputGradient(dz, into: dx, rows: rows, p)
        let previousA = previous.activationInput(ws.saved[i - 1].pointer + start * linear.fanIn, rows: rows, room: s.previousRoom, p)
        previous.maskGradient(ws, i - 1, start, rows, dx, a: previousA, plan: s.previousPlan, output: s.input)
        linear.backward(input: s.input, outputGradient: dz, inputGradient: nil, rows: rows, p, gradient: gradient)
    }

    /// The first backward phase on one block of rows: dy through the dropout mask (the forward's stored
    /// bits), in place, and BatchNorm's partial sums of dy and dy * xhat; with `output`, the block's
    /// output under the same masks too. `a`: the activation's input to the fused kernels for these rows
    /// (`activationInput`).
    private func maskGradient(_ ws: ShardWorkspace, _ i: Int, _ start: Int, _ rows: Int, _ dy: UnsafeMutablePointer<Float>,
                              a: UnsafePointer<Float>, plan: OpaquePointer, output: UnsafeMutablePointer<Float>? = nil) {
        let (sumDy, sumDyXhat) = norm.gradientPartials(ws, i)
        ck_narrow_backward_sums(plan, Int64(ws.row0 + start), a, output, dy, Int64(rows), keepBits(ws, i, start), sumDy, sumDyXhat)
    }

    /// With dropout, the block of rows at `start`'s dropout keep bits (`ck_narrow_keep_words`), after z,
    /// mean and 1/std in `saved`: the forward pass that computes this block's output stores them, the
    /// backward's first phase reads them instead of hashing the mask again. `start` is a multiple of 16.
    private func keepBits(_ ws: ShardWorkspace, _ i: Int, _ start: Int) -> UnsafeMutablePointer<UInt16>? {
        guard dropout != nil else { return nil }
        let words = UnsafeMutableRawPointer(ws.saved[i].pointer + (ws.capacity + 2) * width).assumingMemoryBound(to: UInt16.self)
        return words + Int(ck_narrow_keep_words(Int64(start), Int64(width)))
    }

    /// After a narrow block, this block's input rows: that block's output recomputed from its z into
    /// scratch (the same kernel on the same z as its own forward would run, so the same bits). Else
    /// nil: the input is in the workspace.
    private func recomputedInput(_ ws: ShardWorkspace, _ i: Int, _ start: Int, _ rows: Int, _ s: Scratch,
                                 _ p: UnsafePointer<Float>) -> UnsafePointer<Float>? {
        guard let previous else { return nil }
        let a = previous.activationInput(ws.saved[i - 1].pointer + start * linear.fanIn, rows: rows, room: s.previousRoom, p)
        ck_narrow_forward(s.previousPlan, Int64(ws.row0 + start), a, s.input, Int64(rows), previous.keepBits(ws, i - 1, start))
        return UnsafePointer(s.input)
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        let z = UnsafeMutablePointer<Float>.allocate(capacity: ws.rows * width)
        defer { z.deallocate() }
        let p = model.parameters, out = ws.outputs[i].pointer
        linear.apply(ws.input(of: i), into: z, rows: ws.rows, p)
        activation.apply(z, into: out, rows: ws.rows, p)
        norm.infer(out, into: out, rows: ws.rows, room: ws.saved[i].pointer, model)
    }

    /// This block's plan and, after a narrow block, the previous block's (its forward's: it recomputes
    /// that block's output and masks its gradient).
    private func makePlans(_ s: Scratch, _ ws: ShardWorkspace, _ i: Int, _ step: StepContext, sums: UnsafePointer<Double>? = nil) {
        makePlan(s.plan, ws, i, step, sums: sums)
        previous?.makePlan(s.previousPlan, ws, i - 1, step)
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

    /// A worker's scratch for one pass over its shards' blocks: `room` and `roomGradient`, blocks of
    /// `width` floats a row; after a narrow block, `input` for the recomputed input rows and
    /// `previousRoom` for the previous block's activation output (each a block of `fanIn` floats a
    /// row); the kernels' plans.
    private struct Scratch {
        let room, roomGradient, input, previousRoom: UnsafeMutablePointer<Float>
        let plan, previousPlan: OpaquePointer
    }

    /// Scratch for the duration of `body` (each worker its own).
    private func withScratch(_ body: (Scratch) -> Void) {
        let chained = previous == nil ? 0 : Self.blockRows * linear.fanIn
        let block = Self.blockRows * width
        let room = UnsafeMutablePointer<Float>.allocate(capacity: 2 * block + 2 * chained)
        let planBytes = (ck_narrow_plan_size() + 63) / 64 * 64
        let plans = UnsafeMutableRawPointer.allocate(byteCount: 2 * planBytes, alignment: 64)
        defer { room.deallocate(); plans.deallocate() }
        body(Scratch(room: room, roomGradient: room + block, input: room + 2 * block, previousRoom: room + 2 * block + chained,
                     plan: OpaquePointer(plans), previousPlan: OpaquePointer(plans + planBytes)))
    }
}
