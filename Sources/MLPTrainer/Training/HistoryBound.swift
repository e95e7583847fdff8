/// The epochs a run keeps in its history (the checkpoint, metrics.csv, the report's curves): every
/// epoch up to `capacity` epochs, then an evenly spaced subset, so these stay bounded however many
/// epochs run (README.md, "What the trainer guarantees"). Kept: the first and the latest epoch, the
/// best validation epoch (early stopping and the written model read it), and every epoch divisible
/// by the stride, the smallest power of two that leaves at most `capacity` of those. A pure function
/// of the history, applied after every epoch, so a resumed run keeps the epochs an uninterrupted
/// one keeps.
enum HistoryBound {
    static let capacity = 2_000

    /// The smallest power of two `s` with at most `capacity` multiples of `s` in 1...latest.
    static func stride(latest: Int, capacity: Int) -> Int {
        var s = 1
        while latest / s > capacity { s *= 2 }
        return s
    }

    /// `history` (in epoch order) thinned to the epochs kept, when it holds more than `capacity`.
    static func thinned(_ history: [EpochRecord], bestEpoch: Int?, capacity: Int = capacity) -> [EpochRecord] {
        guard history.count > capacity, let latest = history.last?.epoch else { return history }
        let s = stride(latest: latest, capacity: capacity)
        return history.filter { $0.epoch % s == 0 || $0.epoch == 1 || $0.epoch == latest || $0.epoch == bestEpoch }
    }
}
