import Testing
@testable import MLPTrainer

/// The shard workspaces' memory (`PageArena`): every buffer cut from it is its own, aligned for
/// vector loads, zeroed, and writable to its end, across chunks.
@Suite struct PageArenaTests {
    @Test func buffersAreDisjointAlignedAndZeroed() {
        let arena = PageArena()
        // 3 and 1 floats (rounded up to 64 bytes), 5 million floats (more than a 32 MiB chunk:
        // a chunk of its own), then small ones again (a fresh chunk after the big one).
        let buffers = [3, 1, 5_000_000, 17, 100_000].map { Buffer<Float>(count: $0, arena: arena) }
        var ranges: [Range<UInt>] = []
        for (b, buffer) in buffers.enumerated() {
            let start = UInt(bitPattern: buffer.pointer)
            #expect(start % 64 == 0)
            #expect(buffer.array.allSatisfy { $0 == 0 })
            buffer.fill(Float(b + 1))
            ranges.append(start..<start + UInt(buffer.count * 4))
        }
        for (b, buffer) in buffers.enumerated() { #expect(buffer.array.allSatisfy { $0 == Float(b + 1) }) }
        for i in ranges.indices { for j in ranges.indices where j != i { #expect(!ranges[i].overlaps(ranges[j])) } }
    }
}
