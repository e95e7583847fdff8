extension Model {
    /// A hash of the parameters and buffers (FNV-1a over their bits), which processes holding the same
    /// model share: the collective's consistency check (ARCHITECTURE.md, "Several processes: MPI").
    public var replicaHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in parameters { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3 }
        for value in buffers { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3 }
        return (hash ^ UInt64(bitPattern: batchesTracked)) &* 0x100_0000_01b3
    }
}
