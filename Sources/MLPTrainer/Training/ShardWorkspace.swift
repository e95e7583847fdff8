/// Everything one shard writes during a step: its rows' activations, its gradient (the flat
/// layout), and its BatchNorm partial sums. A shard always covers the same rows of each mini-batch.
final class ShardWorkspace: @unchecked Sendable {
    let capacity: Int
    /// Rows of the current batch in this shard, and the batch-global index of its first row.
    var rows = 0
    var row0 = 0

    let input: Buffer<Float>
    let labels: Buffer<Int32>
    /// The rows this step reads: the data set's own rows when the shard's rows are consecutive
    /// there (no copy), else `input` and `labels` after a gather.
    var rowsIn: UnsafePointer<Float>?
    var labelsIn: UnsafePointer<Int32>?
    /// Per hidden block: Linear output (activation input), activation output, BatchNorm's xhat,
    /// block output (after BatchNorm and dropout; the next block's input).
    let linearOut: [Buffer<Float>], activationOut: [Buffer<Float>], normalized: [Buffer<Float>], blockOut: [Buffer<Float>]
    let logits: Buffer<Float>
    let dlogits: Buffer<Float>
    /// Ping-pong gradients with respect to a block's output / input.
    var gradientA: Buffer<Float>, gradientB: Buffer<Float>
    let gradient: Buffer<Float>

    /// BatchNorm per hidden block: forward and backward partial sums of this shard, and the batch's
    /// statistics.
    let sum: [Buffer<Double>], sumSquares: [Buffer<Double>]
    let sumDy: [Buffer<Double>], sumDyXhat: [Buffer<Double>]
    let mean: [Buffer<Float>], invstd: [Buffer<Float>]

    var loss = 0.0
    var correct: Int64 = 0

    init(config: ModelConfig, capacity: Int, parameterCount: Int, training: Bool) {
        self.capacity = capacity
        let widths = config.hidden
        let maxWidth = config.sizes.max() ?? 1
        // Evaluation reads its rows in place (they are consecutive): no gather buffers.
        input = Buffer(count: training ? capacity * config.inputs : 0)
        labels = Buffer(count: training ? capacity : 0, zero: 0)
        linearOut = widths.map { Buffer(count: capacity * $0) }
        activationOut = widths.map { Buffer(count: capacity * $0) }
        normalized = widths.map { Buffer(count: training && config.batchNorm ? capacity * $0 : 0) }
        blockOut = widths.map { Buffer(count: capacity * $0) }
        logits = Buffer(count: capacity * config.classes)
        dlogits = Buffer(count: training ? capacity * config.classes : 0)
        gradientA = Buffer(count: training ? capacity * maxWidth : 0)
        gradientB = Buffer(count: training ? capacity * maxWidth : 0)
        gradient = Buffer(count: training ? parameterCount : 0)
        let bnWidths = config.batchNorm ? widths : widths.map { _ in 0 }
        sum = bnWidths.map { Buffer(count: $0) }
        sumSquares = bnWidths.map { Buffer(count: $0) }
        sumDy = bnWidths.map { Buffer(count: $0) }
        sumDyXhat = bnWidths.map { Buffer(count: $0) }
        mean = bnWidths.map { Buffer(count: $0) }
        invstd = bnWidths.map { Buffer(count: $0) }
    }
}
