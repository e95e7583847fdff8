import CKernels

/// The collective of an MPI job (ARCHITECTURE.md, "Several processes: MPI"): process p computes the
/// contiguous block `shards(of: S, rank: p)` of every batch, and every sum is the shard-tree sum of one
/// process, bit for bit, whatever the split. Each process sums the maximal subtrees of the tree inside
/// its block (`ShardTree.cover`, one subtree when the block is 2^k aligned shards), MPI moves those
/// partial sums as bytes, and the sums are added along the tree (`ShardTree.sum`), never by MPI.
///
/// The gradients: a reduce-scatter by chunks of the parameter buffer (MPI_Alltoallv: each process
/// receives every process's partial sums of the chunk it owns and adds them along the tree), then an
/// all-gather of the summed chunks (MPI_Allgatherv), so every process applies the optimizer to the
/// whole buffer and holds the same optimizer state (a checkpoint needs no gathering). About
/// 2 N (P-1)/P floats in and out of each process per step, like a ring all-reduce.
///
/// Only worker 0, the main thread, calls MPI; the other workers wait at the pool's barriers.
public final class MPICollective: Collective, @unchecked Sendable {
    public let world: MPIWorld
    public var rank: Int { world.rank }
    public var size: Int { world.size }
    private var gradients: GradientExchange?
    private var partials = PartialsExchange()

    public init(world: MPIWorld) { self.world = world }

    public func reduceGradients(_ shards: UnsafePointer<UnsafePointer<Float>?>, shardCount: Int, count: Int,
                                into sum: UnsafeMutablePointer<Float>, pool: WorkerPool, worker: Int, update: (Range<Int>) -> Void) {
        if worker == 0 && (gradients?.shardCount != shardCount || gradients?.count != count) {
            gradients = GradientExchange(collective: self, shardCount: shardCount, count: count)
        }
        pool.barrier(worker)
        let exchange = gradients!
        let chunk = LocalCollective.chunk(of: count, pool: pool, worker: worker)
        exchange.sumLocalSubtrees(shards, over: chunk)
        pool.barrier(worker)
        if worker == 0 { exchange.scatter(world) }
        pool.barrier(worker)
        let owned = exchange.owned[rank]
        exchange.sumOwned(into: sum, part: LocalCollective.chunk(of: owned.count, pool: pool, worker: worker))
        pool.barrier(worker)
        if worker == 0 {
            UnsafeMutableRawBufferPointer(start: sum, count: count * MemoryLayout<Float>.stride)
                .withMemoryRebound(to: UInt8.self) { world.allGather(UnsafeMutableRawBufferPointer($0), parts: exchange.ownedBytes) }
        }
        pool.barrier(worker)
        update(chunk)
    }

    public func allReduce(_ shards: UnsafePointer<UnsafePointer<Double>?>, shardCount: Int, count: Int,
                          into out: UnsafeMutablePointer<Double>, pool: WorkerPool, worker: Int) {
        if worker == 0 { partials.gather(shards, shardCount: shardCount, count: count, collective: self) }
        pool.barrier(worker)
        partials.sum(into: out, count: count)
        // The next call's gather overwrites what the workers read here.
        pool.barrier(worker)
    }

    public func allReduce(_ values: [[Double]]) -> [Double] {
        let fields = values.first?.count ?? 0, stride = fields * MemoryLayout<Double>.stride
        var flat = values.flatMap { $0 }
        let parts = (0..<size).map { p in shards(of: values.count, rank: p) }.map { ($0.lowerBound * stride)..<($0.upperBound * stride) }
        flat.withUnsafeMutableBytes { world.allGather($0, parts: parts) }
        let all = (0..<values.count).map { Array(flat[($0 * fields)..<(($0 + 1) * fields)]) }
        return LocalCollective().allReduce(all)
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) { world.broadcast(bytes, root: root) }

    public func allGather(_ bytes: UnsafeMutableRawBufferPointer, parts: [Range<Int>]) { world.allGather(bytes, parts: parts) }

    public func verifyReplicas(hash: UInt64, after moment: String) {
        var hashes = [UInt64](repeating: 0, count: size)
        hashes[rank] = hash
        let width = MemoryLayout<UInt64>.stride
        hashes.withUnsafeMutableBytes { world.allGather($0, parts: (0..<size).map { ($0 * width)..<(($0 + 1) * width) }) }
        guard Set(hashes).count > 1 else { return }
        let differing = hashes.indices.filter { hashes[$0] != hashes[0] }.map(String.init).joined(separator: ", ")
        world.fail("after \(moment) the parameters of process(es) \(differing) differ from process 0's: every process must run "
                   + "the same build, instruction set and flags (README, \"Several processes and hosts\")")
    }

    /// The tree's subtrees inside each process's block of `shardCount` shards.
    func covers(shardCount: Int) -> [[Range<Int>]] {
        let tree = ShardTree(leaves: shardCount)
        return (0..<size).map { tree.cover(shards(of: shardCount, rank: $0)) }
    }
}

/// The buffers of the gradients' reduce-scatter for one shard count and parameter count.
private final class GradientExchange: @unchecked Sendable {
    let shardCount: Int, count: Int, rank: Int
    let tree: ShardTree
    /// Every process's subtrees, in shard order, and this process's.
    let nodes: [Range<Int>], local: [Range<Int>]
    /// The parameter chunk each process owns (whole cache lines), and the same in bytes.
    let owned: [Range<Int>], ownedBytes: [Range<Int>]
    /// Laid out [process q][local subtree][q's chunk]: what goes to each process.
    let send: Buffer<Float>
    let sendParts: [Range<Int>]
    /// Laid out [subtree of any process][this process's chunk].
    let receive: Buffer<Float>
    let receiveParts: [Range<Int>]

    init(collective: MPICollective, shardCount: Int, count: Int) {
        self.shardCount = shardCount
        self.count = count
        rank = collective.rank
        tree = ShardTree(leaves: shardCount)
        let covers = collective.covers(shardCount: shardCount)
        nodes = covers.flatMap { $0 }
        local = covers[collective.rank]
        let lines = (count + 15) / 16, size = collective.size, float = MemoryLayout<Float>.stride
        let owned = (0..<size).map { min(lines * $0 / size * 16, count)..<min(lines * ($0 + 1) / size * 16, count) }
        self.owned = owned
        ownedBytes = owned.map { ($0.lowerBound * float)..<($0.upperBound * float) }
        let localCount = covers[rank].count, mine = owned[rank].count
        send = Buffer(count: localCount * count)
        sendParts = owned.map { ($0.lowerBound * localCount * float)..<($0.upperBound * localCount * float) }
        receive = Buffer(count: nodes.count * mine)
        var first = 0
        receiveParts = covers.map { cover in
            defer { first += cover.count }
            return (first * mine * float)..<((first + cover.count) * mine * float)
        }
    }

    /// Every worker: for its `chunk` of the parameters, the sum of each local subtree's shards, into
    /// the send buffer.
    func sumLocalSubtrees(_ shards: UnsafePointer<UnsafePointer<Float>?>, over chunk: Range<Int>) {
        for chunkOfOwner in owned {
            let part = chunkOfOwner.clamped(to: chunk)
            guard !part.isEmpty else { continue }
            for (k, node) in local.enumerated() {
                let out = send.pointer + chunkOfOwner.lowerBound * local.count + k * chunkOfOwner.count
                    + (part.lowerBound - chunkOfOwner.lowerBound)
                let parts = node.map { UnsafePointer<Float>?(shards[$0]! + part.lowerBound) }
                parts.withUnsafeBufferPointer { ck_tree_sum($0.baseAddress, Int64(node.count), out, 0, Int64(part.count)) }
            }
        }
    }

    /// Worker 0: every process's partial sums of the chunk this process owns.
    func scatter(_ world: MPIWorld) {
        world.allToAll(UnsafeRawBufferPointer(start: send.pointer, count: send.count * MemoryLayout<Float>.stride), sendParts,
                       UnsafeMutableRawBufferPointer(start: receive.pointer, count: receive.count * MemoryLayout<Float>.stride),
                       receiveParts)
    }

    /// Every worker: sum[owned chunk], its `part` (indexed within the chunk), along the tree.
    func sumOwned(into sum: UnsafeMutablePointer<Float>, part: Range<Int>) {
        guard !part.isEmpty else { return }
        let mine = owned[rank]
        let values = nodes.indices.map { UnsafePointer(receive.pointer + $0 * mine.count) }
        tree.sum(nodes, values, into: sum + mine.lowerBound, part, zero: 0, ck_tree_sum)
    }
}

/// BatchNorm's partial sums: every process's subtree sums of `count` doubles to every process.
private final class PartialsExchange: @unchecked Sendable {
    private var nodes: [Range<Int>] = []
    private var tree = ShardTree(leaves: 0)
    private var gathered = Buffer<Double>(count: 0)

    /// Worker 0: this process's subtree sums, then everyone's.
    func gather(_ shards: UnsafePointer<UnsafePointer<Double>?>, shardCount: Int, count: Int, collective: MPICollective) {
        let covers = collective.covers(shardCount: shardCount)
        nodes = covers.flatMap { $0 }
        tree = ShardTree(leaves: shardCount)
        if gathered.count < nodes.count * count { gathered = Buffer(count: nodes.count * count) }
        var first = 0
        let parts = covers.map { cover in
            defer { first += cover.count }
            return (first * count)..<((first + cover.count) * count)
        }
        for (k, node) in covers[collective.rank].enumerated() {
            let out = gathered.pointer + parts[collective.rank].lowerBound + k * count
            ck_tree_sum_f64(shards + node.lowerBound, Int64(node.count), out, 0, Int64(count))
        }
        let double = MemoryLayout<Double>.stride
        collective.world.allGather(UnsafeMutableRawBufferPointer(start: gathered.pointer, count: gathered.count * double),
                                   parts: parts.map { ($0.lowerBound * double)..<($0.upperBound * double) })
    }

    /// Every worker: out = the tree sum of the gathered subtree sums.
    func sum(into out: UnsafeMutablePointer<Double>, count: Int) {
        let values = nodes.indices.map { UnsafePointer(gathered.pointer + $0 * count) }
        tree.sum(nodes, values, into: out, 0..<count, zero: 0, ck_tree_sum_f64)
    }
}
