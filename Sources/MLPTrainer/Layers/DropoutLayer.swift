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
        for ws in shards {
            ck_dropout_forward(ws.input(of: i), ws.outputs[i].pointer, Int64(ws.rows), Int64(width), p, step.dropoutSeed,
                               step.step, block, Int64(ws.row0))
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards {
            ck_dropout_backward(ws.gradientOut.pointer, ws.gradientIn.pointer, Int64(ws.rows), Int64(width), p, step.dropoutSeed,
                                step.step, block, Int64(ws.row0))
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        ws.outputs[i].pointer.update(from: ws.input(of: i), count: ws.rows * width)
    }
}
