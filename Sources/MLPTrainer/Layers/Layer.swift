/// One layer of the network (ARCHITECTURE.md, "Adding a layer"): a forward and a backward over the
/// shard workspaces, and a forward in evaluation mode. Layer `i` reads its input from the workspace
/// (`input(of: i)`), writes its output into `outputs[i]`; in the backward it reads d(loss)/d(output)
/// from `gradientOut` and writes d(loss)/d(input) into `gradientIn` (the engine swaps the two
/// between layers), accumulating its parameters' gradients into the shard's `gradient`.
///
/// The training passes get all of a worker's shards at once, so a layer that needs the whole batch
/// (BatchNorm's statistics) can meet the other workers at a barrier and sum through the collective.
protocol Layer: AnyObject, Sendable {
    /// Output columns per row.
    var width: Int { get }
    /// Floats per shard kept from the forward to the backward, for `rows` rows (e.g. xhat); with
    /// rows = 0, what evaluation needs.
    func savedCount(rows: Int) -> Int
    /// Whether the training forward writes `outputs[i]` (false: the next layer recomputes this layer's
    /// output from what it keeps, and the workspace holds no output buffer for it).
    var storesOutput: Bool { get }
    /// Per shard, this many arrays of `width` doubles of partial sums, which the collective combines
    /// across shards (`StepContext.sumPartials`).
    var partialSlots: Int { get }
    /// Writes this layer's initial parameters and buffers (Linear draws from `rng`).
    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64)
    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int)
    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int)
    /// Evaluation mode on one workspace (BatchNorm's running statistics, no dropout).
    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext)
    /// Parameter ranges with a floor the optimizer must not step below (ISRU's alpha).
    var parameterFloors: [(range: Range<Int>, floor: Float)] { get }
}

extension Layer {
    func savedCount(rows: Int) -> Int { 0 }
    var storesOutput: Bool { true }
    var partialSlots: Int { 0 }
    var parameterFloors: [(range: Range<Int>, floor: Float)] { [] }
    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {}
}

/// What a layer computes with during a training step.
final class StepContext: @unchecked Sendable {
    let parameters: UnsafeMutablePointer<Float>
    /// Non-learned tensors (BatchNorm's running statistics).
    let statistics: UnsafeMutablePointer<Float>
    let pool: WorkerPool
    let collective: Collective
    let shardCount: Int
    let dropoutSeed: UInt64
    /// Rows of the whole batch (all shards), and the optimizer step that keys dropout.
    var batchRows = 0
    var step: UInt64 = 0
    /// Per layer and slot: every shard's partial sums (`width` doubles per slot), indexed by global
    /// shard, for the collective. Owned here: tables it replaces (the engine makes new ones when its
    /// workspaces grow) are freed, the last ones in deinit.
    var partials: [[UnsafeMutablePointer<UnsafePointer<Double>?>]] = [] {
        didSet { for table in oldValue.joined() { table.deallocate() } }
    }
    /// Per worker: room for the collective's whole-batch sums of one layer.
    let totals: [Buffer<Double>]

    init(parameters: UnsafeMutablePointer<Float>, statistics: UnsafeMutablePointer<Float>, pool: WorkerPool,
         collective: Collective, shardCount: Int, dropoutSeed: UInt64, maxPartials: Int) {
        self.parameters = parameters
        self.statistics = statistics
        self.pool = pool
        self.collective = collective
        self.shardCount = shardCount
        self.dropoutSeed = dropoutSeed
        totals = (0..<pool.threads).map { _ in Buffer(count: maxPartials) }
    }

    deinit { for table in partials.joined() { table.deallocate() } }

    /// The whole batch's sums of slot `slot` (`count` doubles; more than the layer's width runs on into
    /// the next slots) of layer `i`'s partials, into the worker's totals at `offset`. Every worker
    /// calls it, after a barrier (the partials are written).
    func sumPartials(layer i: Int, slot: Int, count: Int, into offset: Int, worker: Int) -> UnsafeMutablePointer<Double> {
        let out = totals[worker].pointer + offset
        collective.allReduce(partials[i][slot], shardCount: shardCount, count: count, into: out, pool: pool, worker: worker)
        return out
    }
}

/// What a layer reads in evaluation mode.
struct InferenceContext {
    let parameters: UnsafePointer<Float>
    let statistics: UnsafePointer<Float>
}
