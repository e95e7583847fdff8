import CKernels

/// The in-process collective: every shard lives here, and the workers of the pool sum them, each over
/// its own chunk of the array. With `groups` > 1 it sums each contiguous group of shards first and then
/// the groups' sums, as a backend with one process per group does; the tree makes both give the same
/// bits when the group size is a power of two (the determinism tests check it).
public final class LocalCollective: Collective, @unchecked Sendable {
    public let rank = 0
    public let size = 1
    public let groups: Int
    /// Per group, its sum of the gradients (only with groups > 1; each worker writes its chunk).
    private var groupGradients: [Buffer<Float>] = []

    public init(groups: Int = 1) {
        precondition(groups >= 1)
        self.groups = groups
    }

    public func reduceGradients(_ shards: UnsafePointer<UnsafePointer<Float>?>, shardCount: Int, count: Int,
                                into sum: UnsafeMutablePointer<Float>, pool: WorkerPool, worker: Int, update: (Range<Int>) -> Void) {
        if groups > 1 {
            if worker == 0 && groupGradients.first?.count != count { groupGradients = (0..<groups).map { _ in Buffer(count: count) } }
            pool.barrier(worker)
        }
        let chunk = Self.chunk(of: count, pool: pool, worker: worker)
        treeSum(shards, shardCount, into: sum, chunk, groupSums: groupGradients, ck_tree_sum)
        update(chunk)
    }

    public func allReduce(_ shards: UnsafePointer<UnsafePointer<Double>?>, shardCount: Int, count: Int,
                          into out: UnsafeMutablePointer<Double>, pool: WorkerPool, worker: Int) {
        let groupSums = (0..<(groups > 1 ? groups : 0)).map { _ in Buffer<Double>(count: count) }
        treeSum(shards, shardCount, into: out, 0..<count, groupSums: groupSums, ck_tree_sum_f64)
    }

    public func allReduce(_ values: [[Double]]) -> [Double] {
        let fields = values.first?.count ?? 0
        var flat = values.flatMap { $0 }
        var out = [Double](repeating: 0, count: fields)
        let groupSums = (0..<(groups > 1 ? groups : 0)).map { _ in Buffer<Double>(count: fields) }
        flat.withUnsafeMutableBufferPointer { base in
            let parts = (0..<values.count).map { UnsafePointer<Double>?(base.baseAddress! + $0 * fields) }
            parts.withUnsafeBufferPointer {
                treeSum($0.baseAddress!, values.count, into: &out, 0..<fields, groupSums: groupSums, ck_tree_sum_f64)
            }
        }
        return out
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    public func allGather(_ bytes: UnsafeMutableRawBufferPointer, parts: [Range<Int>]) {}
    public func verifyReplicas(hash: UInt64, after moment: String) {}

    /// Worker `worker`'s part of an array of `count` floats, in whole cache lines.
    static func chunk(of count: Int, pool: WorkerPool, worker: Int) -> Range<Int> {
        let lines = (count + 15) / 16
        let r = pool.range(of: lines, for: worker)
        return min(r.lowerBound * 16, count)..<min(r.upperBound * 16, count)
    }

    /// out[range] = the tree sum of the shards; with group buffers, each group's subtree into its
    /// buffer first, then the groups' sums.
    private func treeSum<T>(_ shards: UnsafePointer<UnsafePointer<T>?>, _ shardCount: Int, into out: UnsafeMutablePointer<T>,
                            _ range: Range<Int>, groupSums: [Buffer<T>],
                            _ kernel: (UnsafePointer<UnsafePointer<T>?>?, Int64, UnsafeMutablePointer<T>?, Int64, Int64) -> Void) {
        let begin = Int64(range.lowerBound), end = Int64(range.upperBound)
        guard !groupSums.isEmpty else { return kernel(shards, Int64(shardCount), out, begin, end) }
        withExtendedLifetime(groupSums) {
            for (g, groupSum) in groupSums.enumerated() {
                let first = shardCount * g / groups, last = shardCount * (g + 1) / groups
                kernel(shards + first, Int64(last - first), groupSum.pointer, begin, end)
            }
            let parts = groupSums.map { UnsafePointer<T>?($0.pointer) }
            parts.withUnsafeBufferPointer { kernel($0.baseAddress!, Int64(groups), out, begin, end) }
        }
    }
}
