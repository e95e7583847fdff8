import CKernels

/// Dropout with probability p: the mask of an element is a hash of (seed, step, block, global row,
/// column), so it does not depend on the shard or thread that draws it. Identity in evaluation.
final class DropoutLayer: Layer {
    let width: Int
    let p: Float
    /// The hidden block's number (from 1), which keys the masks.
    let block: UInt32

    init(_ index: Int, p: Float, width: Int) {
        self.width = width
        self.p = p
        block = UInt32(index)
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards { apply(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, row0: ws.row0, step) }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards { backward(ws.gradientOut.pointer, into: ws.gradientIn.pointer, rows: ws.rows, row0: ws.row0, step) }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        ws.outputs[i].pointer.update(from: ws.input(of: i), count: ws.rows * width)
    }

    /// The masked, rescaled rows `rows` rows from the batch's row `row0` (which keys the masks).
    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, row0: Int, _ step: StepContext) {
        ck_dropout_forward(x, y, Int64(rows), Int64(width), p, step.dropoutSeed, step.step, block, Int64(row0))
    }

    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, rows: Int, row0: Int, _ step: StepContext) {
        ck_dropout_backward(dy, dx, Int64(rows), Int64(width), p, step.dropoutSeed, step.step, block, Int64(row0))
    }
}
