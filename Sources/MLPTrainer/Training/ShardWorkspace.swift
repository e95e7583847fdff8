/// Everything one shard writes during a step: its rows' layer outputs, what each layer keeps for its
/// backward, its partial sums, its gradient (the flat layout). A shard always covers the same rows of
/// each mini-batch. Evaluation uses workspaces too (one per worker, over blocks of rows).
final class ShardWorkspace: @unchecked Sendable {
    let capacity: Int
    /// Rows of the current batch in this shard, and the batch-global index of its first row.
    var rows = 0
    var row0 = 0

    let input: Buffer<Float>
    let labels: Buffer<Int32>
    /// Regression's standardised targets (gathered like the labels).
    let targets: Buffer<Float>
    /// The rows this step reads: the data set's own rows when the shard's rows are consecutive
    /// there (no copy), else `input`, `labels` and `targets` after a gather.
    var rowsIn: UnsafePointer<Float>?
    var labelsIn: UnsafePointer<Int32>?
    var targetsIn: UnsafePointer<Float>?
    /// Per layer: its output (in training, none for a layer whose output the next one recomputes:
    /// `Layer.storesOutput`), what it keeps for the backward, its partial sums.
    let outputs: [Buffer<Float>]
    let saved: [Buffer<Float>]
    let partials: [Buffer<Double>]
    /// d(loss)/d(output) of the layer being differentiated, and d(loss)/d(input) it writes.
    var gradientOut: Buffer<Float>, gradientIn: Buffer<Float>
    let gradient: Buffer<Float>

    var loss = 0.0
    var correct: Int64 = 0

    /// `arena`: where the buffers' memory comes from (nil: the heap); the workspaces of one batch
    /// size share one (`PageArena`).
    init(network: Network, inputs: Int, capacity: Int, parameterCount: Int, training: Bool, arena: PageArena? = nil) {
        self.capacity = capacity
        let layers = network.layers
        let maxWidth = max(inputs, layers.map(\.width).max() ?? 1)
        // Evaluation reads its rows in place (they are consecutive): no gather buffers.
        input = Buffer(count: training ? capacity * inputs : 0, arena: arena)
        labels = Buffer(count: training ? capacity : 0, zero: 0, arena: arena)
        targets = Buffer(count: training ? capacity : 0, arena: arena)
        outputs = layers.map { Buffer(count: training && !$0.storesOutput ? 0 : capacity * $0.width, arena: arena) }
        saved = layers.map { Buffer(count: $0.savedCount(rows: training ? capacity : 0), arena: arena) }
        partials = layers.map { Buffer(count: training ? $0.partialSlots * $0.width : 0, arena: arena) }
        gradientOut = Buffer(count: training ? capacity * maxWidth : 0, arena: arena)
        gradientIn = Buffer(count: training ? capacity * maxWidth : 0, arena: arena)
        gradient = Buffer(count: training ? parameterCount : 0, arena: arena)
    }

    /// Layer i's input: the shard's rows for the first layer, else the previous layer's output.
    func input(of i: Int) -> UnsafePointer<Float> { i == 0 ? rowsIn! : UnsafePointer(outputs[i - 1].pointer) }
}
