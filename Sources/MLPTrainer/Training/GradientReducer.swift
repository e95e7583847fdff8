import CKernels

/// Combines the shards' gradients into the one gradient the optimizer applies. The local
/// implementation sums the shard buffers of this process in shard order; a multi-process backend
/// (MPI across machines) would wrap it and add a second, cross-process sum of the same chunk, so the
/// layers and the step never change.
protocol GradientReducer: AnyObject {
    /// out[range] = the sum of every shard's gradient over `range`, in a fixed order.
    func reduce(shards: UnsafePointer<UnsafePointer<Float>?>, count: Int,
                into out: UnsafeMutablePointer<Float>, range: Range<Int>)
}

final class LocalGradientReducer: GradientReducer {
    func reduce(shards: UnsafePointer<UnsafePointer<Float>?>, count: Int,
                into out: UnsafeMutablePointer<Float>, range: Range<Int>) {
        ck_sum_arrays(shards, Int64(count), out, Int64(range.lowerBound), Int64(range.upperBound))
    }
}
