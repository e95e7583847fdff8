/// A narrow hidden block, `Linear -> activation -> BatchNorm -> [Dropout]`, run as one layer over
/// blocks of rows that stay in the cache (ARCHITECTURE.md, "Fused narrow blocks"). It calls its four
/// layers' own steps (the same kernels) on each block and keeps only the Linear's output z per row:
/// the activation, xhat and the dropout mask are recomputed from z where the unfused layers would
/// store and re-read them. A step streams through memory, per block of the network, the input x and
/// z in the forward (twice each, around BatchNorm's whole-batch statistics) and x, z and the
/// gradients in the backward, instead of eight buffers many times over.
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
        withScratch(1) { scratch in
            let a = scratch[0]
            for ws in shards {
                norm.startStatistics(ws, i)
                forEachBlock(ws) { start, rows in
                    let z = ws.saved[i].pointer + start * width
                    linear.apply(ws.input(of: i) + start * linear.fanIn, into: z, rows: rows, p)
                    activation.apply(z, into: a, rows: rows, p)
                    norm.accumulateStatistics(a, rows: rows, ws, i)
                }
            }
            norm.finishStatistics(shards, i, step, worker: worker)
            for ws in shards {
                forEachBlock(ws) { start, rows in
                    let out = ws.outputs[i].pointer + start * width
                    activation.apply(ws.saved[i].pointer + start * width, into: a, rows: rows, p)
                    guard let dropout else { return norm.normalize(a, into: out, xhat: nil, rows: rows, ws, i, p) }
                    norm.normalize(a, into: a, xhat: nil, rows: rows, ws, i, p)
                    dropout.apply(a, into: out, rows: rows, row0: ws.row0 + start, step)
                }
            }
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        withScratch(2) { scratch in
            let (xhat, da) = (scratch[0], scratch[1])
            for ws in shards {
                norm.startGradientSums(ws, i)
                forEachBlock(ws) { start, rows in
                    // d(loss)/d(BatchNorm's output), masked in place: the engine discards the layer's output
                    // gradient after its backward, and phase 2 reads it without hashing the masks again.
                    let dy = ws.gradientOut.pointer + start * width
                    dropout?.backward(dy, into: dy, rows: rows, row0: ws.row0 + start, step)
                    recomputeXhat(ws, i, start, rows, into: xhat, room: da, step.parameters)
                    norm.accumulateGradientSums(dy, xhat: xhat, rows: rows, ws, i)
                }
            }
            let sums = norm.finishGradientSums(shards, i, step, worker: worker)
            for ws in shards {
                forEachBlock(ws) { start, rows in
                    recomputeXhat(ws, i, start, rows, into: xhat, room: da, step.parameters)
                    norm.inputGradient(ws.gradientOut.pointer + start * width, xhat: xhat, into: da, rows: rows, ws, i, step, sums)
                    let p = step.parameters, gradient = ws.gradient.pointer
                    activation.backward(input: ws.saved[i].pointer + start * width, outputGradient: da, inputGradient: da, rows: rows, p,
                                        gradient: gradient)
                    // The first layer's input gradient is not needed.
                    linear.backward(input: ws.input(of: i) + start * linear.fanIn, outputGradient: da,
                                    inputGradient: i > 0 ? ws.gradientIn.pointer + start * linear.fanIn : nil, rows: rows, p,
                                    gradient: gradient)
                }
            }
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        withScratch(1, rows: ws.rows) { scratch in
            let p = model.parameters, out = ws.outputs[i].pointer
            linear.apply(ws.input(of: i), into: scratch[0], rows: ws.rows, p)
            activation.apply(scratch[0], into: out, rows: ws.rows, p)
            norm.infer(out, into: out, rows: ws.rows, room: ws.saved[i].pointer, model)
        }
    }

    /// The forward's xhat of the block, from z: the same kernels on the same inputs, so the same bits.
    /// `room` receives the activation and then BatchNorm's output, which are not needed.
    private func recomputeXhat(_ ws: ShardWorkspace, _ i: Int, _ start: Int, _ rows: Int, into xhat: UnsafeMutablePointer<Float>,
                               room: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>) {
        activation.apply(ws.saved[i].pointer + start * width, into: room, rows: rows, p)
        norm.normalize(room, into: room, xhat: xhat, rows: rows, ws, i, p)
    }

    /// The shard's rows in blocks of `blockRows`: (first row, rows).
    private func forEachBlock(_ ws: ShardWorkspace, _ body: (Int, Int) -> Void) {
        for start in stride(from: 0, to: ws.rows, by: Self.blockRows) { body(start, min(Self.blockRows, ws.rows - start)) }
    }

    /// `count` buffers of `rows` x `width` floats for the duration of `body` (each worker its own).
    private func withScratch(_ count: Int, rows: Int = NarrowBlockLayer.blockRows, _ body: ([UnsafeMutablePointer<Float>]) -> Void) {
        let room = UnsafeMutablePointer<Float>.allocate(capacity: count * rows * width)
        defer { room.deallocate() }
        body((0..<count).map { room + $0 * rows * width })
    }
}
