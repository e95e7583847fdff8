/// The shard-tree sum's fixed pairwise tree over `leaves` shards (ARCHITECTURE.md, "Determinism";
/// `ck_tree_sum` builds the same): a node over n > 1 leaves has a left child over the largest power of
/// two below n leaves and a right child over the rest. A process that computes a contiguous block of
/// shards contributes the sums of the maximal subtrees inside its block (its `cover`); the covers of all
/// processes partition the leaves, and `sum` adds their sums along the tree, giving the bits of one
/// process summing every shard. A block of 2^k shards starting at a multiple of 2^k is one subtree.
struct ShardTree {
    let leaves: Int

    typealias Kernel<T> = (UnsafePointer<UnsafePointer<T>?>?, Int64, UnsafeMutablePointer<T>?, Int64, Int64) -> Void

    var root: Range<Int> { 0..<leaves }

    /// The two children of a node over more than one leaf.
    static func children(of node: Range<Int>) -> (left: Range<Int>, right: Range<Int>)? {
        guard node.count > 1 else { return nil }
        var left = 1
        while left * 2 < node.count { left *= 2 }
        return (node.lowerBound..<(node.lowerBound + left), (node.lowerBound + left)..<node.upperBound)
    }

    /// The maximal subtrees inside `block`, left to right.
    func cover(_ block: Range<Int>) -> [Range<Int>] {
        func visit(_ node: Range<Int>) -> [Range<Int>] {
            if block.lowerBound <= node.lowerBound && node.upperBound <= block.upperBound { return node.isEmpty ? [] : [node] }
            guard node.overlaps(block), let (left, right) = Self.children(of: node) else { return [] }
            return visit(left) + visit(right)
        }
        return visit(root)
    }

    /// out[range] = the sum over all leaves, given the sums (`values`, indexed like `out`) of the
    /// subtrees `nodes`, which partition the leaves. `kernel` is `ck_tree_sum` or `ck_tree_sum_f64`:
    /// over two parts it is one addition.
    func sum<T>(_ nodes: [Range<Int>], _ values: [UnsafePointer<T>], into out: UnsafeMutablePointer<T>, _ range: Range<Int>,
                zero: T, _ kernel: Kernel<T>) {
        let partials = Dictionary(uniqueKeysWithValues: zip(nodes, values.map { $0 + range.lowerBound }))
        var scratch: [Buffer<T>] = []
        func value(_ node: Range<Int>, into target: UnsafeMutablePointer<T>?) -> UnsafePointer<T> {
            if let partial = partials[node] { return partial }
            guard let (left, right) = Self.children(of: node) else { preconditionFailure("the nodes do not partition the leaves") }
            let parts = [UnsafePointer<T>?(value(left, into: nil)), value(right, into: nil)]
            let into = target ?? {
                scratch.append(Buffer(count: range.count, zero: zero))
                return scratch.last!.pointer
            }()
            parts.withUnsafeBufferPointer { kernel($0.baseAddress, 2, into, 0, Int64(range.count)) }
            return UnsafePointer(into)
        }
        let result = value(root, into: out + range.lowerBound)
        if result != UnsafePointer(out + range.lowerBound) { (out + range.lowerBound).update(from: result, count: range.count) }
        withExtendedLifetime(scratch) {}
    }
}
