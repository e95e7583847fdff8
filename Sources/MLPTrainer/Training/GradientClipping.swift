/// `--clip-grad-norm X`: PyTorch's `torch.nn.utils.clip_grad_norm_(parameters, X)` on the reduced
/// gradient (after the shard-tree sum, before the optimizer): every gradient is multiplied by
/// min(1, X / (norm + 1e-6)), norm being the 2-norm of the whole gradient.
///
/// The norm does not depend on the workers (README.md, "Many cores, same answer"): the gradient is cut
/// into fixed blocks of `blockSize` floats, each block's sum of squares is taken in double by whichever
/// worker has it, and every worker adds the blocks' sums in block order.
final class GradientClipping: @unchecked Sendable {
    let maxNorm: Float
    static let blockSize = 4096
    private let count: Int
    private let blockSums: Buffer<Double>

    init(maxNorm: Float, parameterCount: Int) {
        self.maxNorm = maxNorm
        count = parameterCount
        blockSums = Buffer(count: (parameterCount + Self.blockSize - 1) / Self.blockSize)
    }

    /// Every worker, once the whole gradient is summed: the sums of squares of its blocks.
    func sumSquares(_ gradient: UnsafePointer<Float>, pool: WorkerPool, worker: Int) {
        for block in pool.range(of: blockSums.count, for: worker) {
            var sum = 0.0
            for i in (block * Self.blockSize)..<min((block + 1) * Self.blockSize, count) { sum += Double(gradient[i]) * Double(gradient[i]) }
            blockSums[block] = sum
        }
    }

    /// After a barrier that follows `sumSquares`: the gradient's norm (every caller gets the same bits).
    var norm: Double {
        var total = 0.0
        for block in 0..<blockSums.count { total += blockSums[block] }
        return total.squareRoot()
    }

    /// The factor the gradient is multiplied by: min(1, maxNorm / (norm + 1e-6)).
    func factor(norm: Double) -> Float { min(1, maxNorm / (Float(norm) + 1e-6)) }
}
