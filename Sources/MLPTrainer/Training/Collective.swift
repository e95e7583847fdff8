/// How the shards of a step, which may live in several processes, combine into one result
/// (ARCHITECTURE.md, "Determinism" and "Adding a collective backend"). Every cross-shard sum of the
/// engine goes through here: the gradients, BatchNorm's partial sums, the loss and accuracy sums and
/// the evaluation sums. Each is the shard-tree sum (`ck_tree_sum`): one fixed pairwise tree over the
/// shard index, so a process may sum its own contiguous block of shards (a subtree) and the blocks'
/// sums then combine along the same tree, giving the same bits as one process summing all shards.
///
/// Arrays "per shard" are indexed by the global shard index; only this process's entries
/// (`localShards`) are read. Methods marked "every worker" are called by each worker of the pool
/// inside `WorkerPool.run`, the others by the calling thread outside it.
public protocol Collective: AnyObject, Sendable {
    /// This process's index among `size` processes.
    var rank: Int { get }
    var size: Int { get }
    /// Every worker: sum = the tree sum of the shards' gradients (`count` floats each), then
    /// `update(range)` over parameter ranges that together cover 0..<count once in this process's
    /// view; on return every process holds the same updated parameters.
    func reduceGradients(_ shards: UnsafePointer<UnsafePointer<Float>?>, shardCount: Int, count: Int,
                         into sum: UnsafeMutablePointer<Float>, pool: WorkerPool, worker: Int, update: (Range<Int>) -> Void)
    /// Every worker: `out` (the worker's own buffer) = the tree sum of the shards' `count` doubles.
    func allReduce(_ shards: UnsafePointer<UnsafePointer<Double>?>, shardCount: Int, count: Int,
                   into out: UnsafeMutablePointer<Double>, pool: WorkerPool, worker: Int)
    /// The tree sum over shards of each field of `values` (values[shard][field]).
    func allReduce(_ values: [[Double]]) -> [Double]
    /// Copies `bytes` of process `root` to every process.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int)
    /// Process p has filled bytes[parts[p]]; on return every process holds every part.
    func allGather(_ bytes: UnsafeMutableRawBufferPointer, parts: [Range<Int>])
    /// The consistency check of a backend with several processes, each holding the model: ends the
    /// job with a message unless every process's `Model.replicaHash` is `hash` (`moment`: "step 200").
    func verifyReplicas(hash: UInt64, after moment: String)
}

extension Collective {
    /// The shards (or evaluation blocks) out of `total` that process `rank` computes: a contiguous
    /// block, the same split for every reduction.
    public func shards(of total: Int, rank: Int) -> Range<Int> { (total * rank / size)..<(total * (rank + 1) / size) }
    public func localShards(of total: Int) -> Range<Int> { shards(of: total, rank: rank) }

    /// Whether `flag` is true in any process (e.g. a stop asked for by a signal to one of them).
    public func anyProcess(_ flag: Bool) -> Bool {
        var perProcess = [[Double]](repeating: [0], count: size)
        perProcess[rank] = [flag ? 1 : 0]
        return allReduce(perProcess)[0] > 0
    }
}
