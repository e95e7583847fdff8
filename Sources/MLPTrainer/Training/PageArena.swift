import Foundation

/// Memory for buffers that live and die together (the shard workspaces of a batch size), cut from
/// chunks on 2 MiB pages: Linux commonly gives transparent huge pages only to memory that asks for
/// them (`madvise` mode), and a shard's buffers are too small (12,500 rows x 8 floats at full batch
/// on 800,000 rows) to be given them one by one. The narrow blocks' passes stream their activations
/// block by block and waited on their loads; on 4 KiB pages a 16 KiB block of rows crosses four
/// pages (TLB misses, and the hardware prefetchers stop at page boundaries). BENCHMARKS.md, the
/// seed section's sixth round, has the gain. Not thread-safe: buffers are taken on one thread.
final class PageArena: @unchecked Sendable {
    private static let hugePage = 2 << 20, chunkBytes = 32 << 20, alignment = 64
    private var chunks: [UnsafeMutableRawPointer] = []
    private var used = 0, size = 0  // of the last chunk

    /// `bytes` of fresh memory, 64-byte aligned, valid while the arena lives.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let rounded = (max(bytes, 1) + Self.alignment - 1) / Self.alignment * Self.alignment
        if chunks.isEmpty || used + rounded > size { addChunk(max(rounded, Self.chunkBytes)) }
        defer { used += rounded }
        return chunks[chunks.count - 1] + used
    }

    private func addChunk(_ bytes: Int) {
        let rounded = (bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, Self.hugePage, rounded) == 0, let raw else {
            fatalError("out of memory allocating \(rounded) bytes")
        }
        #if os(Linux)
        _ = madvise(raw, rounded, Int32(MADV_HUGEPAGE))  // a hint: without it, ordinary pages
        #endif
        chunks.append(raw)
        (used, size) = (0, rounded)
    }

    deinit { for chunk in chunks { free(chunk) } }
}
