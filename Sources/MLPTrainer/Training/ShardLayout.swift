/// How many shards a mini-batch is cut into when the user does not say (`--shards`). The shard count
/// fixes the arithmetic (README, "Many cores, same answer"), so it is a function of the batch and
/// the network only, never of the thread count: every --threads writes the same model.
public enum ShardLayout {
    /// A shard costs its own gradient buffer, zeroed, written and summed once per step, and its GEMMs
    /// run on its rows alone. Measured on the 512-wide network (BENCHMARKS.md, "The headline
    /// command"): 128-row shards cost a quarter of one thread's speed against one shard, 256-row
    /// shards a tenth, and gave the better 2-thread speed too.
    public static let minimumRows = 256
    /// A shard must also carry enough arithmetic to be worth a worker: about ten barriers and a
    /// wake-up per step (~10 microseconds) against ~1 million floating-point operations.
    public static let minimumFlops = 1_000_000
    /// Enough shards for a large batch to use 64 cores.
    public static let maximumShards = 64

    /// One shard per `rowsPerShard(network)` rows of the batch, at least one, at most 64.
    public static func defaultShards(batchRows: Int, network: ModelConfig) -> Int {
        min(maximumShards, max(1, batchRows / rowsPerShard(network)))
    }

    /// Rows of a default shard: 256, or more when a row's forward and backward passes are cheap.
    public static func rowsPerShard(_ network: ModelConfig) -> Int {
        let sizes = network.sizes
        let weights = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        let flopsPerRow = 6 * max(weights, 1)  // multiply-adds of forward, input and weight gradients
        return max(minimumRows, (minimumFlops + flopsPerRow - 1) / flopsPerRow)
    }
}
