/// scikit-learn's `train_test_split(..., test_size=f, random_state=seed)` exactly: NumPy's legacy
/// RandomState(seed).permutation(n) (MT19937 + its bounded-integer Fisher-Yates), the first
/// ceil(f * n) indices for the test set and the rest for training. So `--split-seed 33` gives the
/// seed's own 1,097/275 bank-note split: the same rows in each part. (The trainer keeps each part
/// in file order; scikit-learn orders them by the permutation.)
public enum TrainTestSplit {
    public static func split(rows: Int, testFraction: Double, seed: UInt32) -> (train: [Int], test: [Int]) {
        let testCount = Int((testFraction * Double(rows)).rounded(.up))
        var rng = MersenneTwister(seed: seed)
        let permutation = rng.permutation(rows)
        return (Array(permutation[testCount...]), Array(permutation[..<testCount]))
    }
}

/// MT19937 as NumPy's legacy RandomState seeds and uses it.
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state.withUnsafeBufferPointer { $0[index] }
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        state.withUnsafeMutableBufferPointer { s in
            for i in 0..<624 {
                let next = i == 623 ? 0 : i + 1, far = i < 227 ? i + 397 : i - 227  // (i + 1, i + 397) mod 624
                let y = (s[i] & 0x8000_0000) | (s[next] & 0x7FFF_FFFF)
                s[i] = s[far] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
        }
        index = 0
    }

    /// A uniform integer in [0, max] by masked rejection (NumPy's legacy `random_interval`).
    mutating func interval(_ max: UInt32) -> UInt32 {
        if max == 0 { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16
        while true {
            let value = next() & mask
            if value <= max { return value }
        }
    }

    /// NumPy's legacy `permutation(n)`: Fisher-Yates from the last element down.
    ///
    /// The swap partners depend on the generator alone, not on the values, so they are drawn a block
    /// at a time before that block's swaps: the swaps' random reads of `values` (megabytes for a large
    /// file) then overlap instead of each waiting behind the rejection loop's mispredicted branches
    /// (the permutation was most of `train`'s load time beyond the parser). Same swaps, same order.
    mutating func permutation(_ n: Int) -> [Int] {
        var values = Array(0..<n)
        var partners = [Int](repeating: 0, count: 256)
        values.withUnsafeMutableBufferPointer { v in
            partners.withUnsafeMutableBufferPointer { j in
                var i = n - 1
                while i > 0 {
                    let block = min(i, j.count)
                    for k in 0..<block { j[k] = Int(interval(UInt32(i - k))) }
                    for k in 0..<block { v.swapAt(i - k, j[k]) }
                    i -= block
                }
            }
        }
        return values
    }
}
