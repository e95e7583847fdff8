import CKernels
import Testing
@testable import MLPTrainer

/// ARCHITECTURE.md, "Several processes: MPI": the processes' subtree sums, added along the shard tree,
/// give the bits of `ck_tree_sum` over all shards for any contiguous split of the shards.
@Suite struct ShardTreeTests {
    @Test func aBlockIsCoveredByItsMaximalSubtrees() {
        #expect(ShardTree(leaves: 8).cover(4..<8) == [4..<8])
        #expect(ShardTree(leaves: 12).cover(8..<12) == [8..<12])
        #expect(ShardTree(leaves: 6).cover(0..<3) == [0..<2, 2..<3])
        #expect(ShardTree(leaves: 6).cover(3..<6) == [3..<4, 4..<6])
        #expect(ShardTree(leaves: 7).cover(0..<7) == [0..<7])
    }

    /// Floats of magnitudes far apart, so that another order of the additions rounds differently.
    private func shards(_ count: Int, length: Int) -> [[Float]] {
        var rng = SplitMix64(seed: 7)
        return (0..<count).map { s in
            (0..<length).map { _ in Float(Double(rng.next() % 2_000_001) / 1e6 - 1) * Float(1 << (3 * (s % 5))) }
        }
    }

    private func treeSum(_ parts: ArraySlice<[Float]>, length: Int) -> [Float] {
        var out = [Float](repeating: 0, count: length)
        let pointers = parts.map { part in part.withUnsafeBufferPointer { UnsafePointer<Float>?($0.baseAddress!) } }
        withExtendedLifetime(parts) { ck_tree_sum(pointers, Int64(parts.count), &out, 0, Int64(length)) }
        return out
    }

    /// out[range] from every process's subtree sums, as the collective adds them.
    private func sumOfCovers(_ parts: [[Float]], processes: Int, length: Int, range: Range<Int>) -> [Float] {
        let tree = ShardTree(leaves: parts.count)
        let nodes = (0..<processes).flatMap { p in tree.cover((parts.count * p / processes)..<(parts.count * (p + 1) / processes)) }
        let sums = nodes.map { treeSum(parts[$0], length: length) }
        var out = [Float](repeating: 0, count: length)
        let pointers = sums.map { sum in sum.withUnsafeBufferPointer { $0.baseAddress! } }
        withExtendedLifetime(sums) { tree.sum(nodes, pointers, into: &out, range, zero: 0, ck_tree_sum) }
        return out
    }

    @Test func theProcessesSubtreeSumsGiveTheBitsOfOneProcess() {
        let length = 300
        for count in 1...13 {
            let parts = shards(count, length: length)
            let whole = treeSum(parts[...], length: length)
            for processes in 1...count {
                #expect(sumOfCovers(parts, processes: processes, length: length, range: 0..<length) == whole,
                        "\(count) shards over \(processes) processes")
            }
        }
        // Part of the range only: the rest of `out` is left alone.
        let parts = shards(6, length: length)
        let part = sumOfCovers(parts, processes: 2, length: length, range: 100..<200)
        #expect(Array(part[100..<200]) == Array(treeSum(parts[...], length: length)[100..<200]))
        #expect(part[0] == 0 && part[299] == 0)
    }

    @Test func addingTheProcessesBlockSumsInOrderWouldRoundDifferently() {
        // The test above can fail: 6 shards over 2 processes, each block (3 shards, not a subtree)
        // summed alone and then added, round differently from the tree.
        let length = 300
        let parts = shards(6, length: length)
        let blocks = [treeSum(parts[0..<3], length: length), treeSum(parts[3..<6], length: length)]
        #expect(zip(blocks[0], blocks[1]).map { $0 + $1 } != treeSum(parts[...], length: length))
    }
}
