/// Offsets that give argmax classes chosen shares: row r's class is argmax_k (scores[r][k] + c[k]),
/// and `offsets` picks c so that, on the given rows, class k wins a fraction shares[k] of them.
///
/// Coordinate ascent (each class in turn gets the offset that gives it exactly its share against the
/// others' current offsets) until every share is within `tolerance` or the rounds run out. Pure
/// arithmetic on its inputs, so the offsets are a function of the scores alone.
public enum ClassBalance {
    /// `scores` is rows x classes, row-major; `shares` sums to 1. The offsets have mean 0.
    public static func offsets(scores: [Double], classes: Int, shares: [Double], tolerance: Double = 0.002,
                               rounds: Int = 200) -> [Double] {
        precondition(classes >= 2 && shares.count == classes && scores.count % classes == 0)
        let rows = scores.count / classes
        var offsets = [Double](repeating: 0, count: classes)
        guard rows >= 2 else { return offsets }
        var margins = [Double](repeating: 0, count: rows)
        for _ in 0..<rounds {
            for k in 0..<classes {
                // Row r goes to k when margins[r] + c[k] > 0: put the share's boundary between two margins.
                for r in 0..<rows {
                    var rival = -Double.infinity
                    for j in 0..<classes where j != k { rival = max(rival, scores[r * classes + j] + offsets[j]) }
                    margins[r] = scores[r * classes + k] - rival
                }
                margins.sort(by: >)
                let wins = min(max(Int((shares[k] * Double(rows)).rounded()), 1), rows - 1)
                offsets[k] = -(margins[wins - 1] + margins[wins]) / 2
            }
            let achieved = self.shares(scores: scores, classes: classes, offsets: offsets)
            if zip(achieved, shares).allSatisfy({ abs($0 - $1) <= tolerance }) { break }
        }
        let mean = offsets.reduce(0, +) / Double(classes)
        return offsets.map { $0 - mean }
    }

    /// The fraction of rows each class wins with these offsets.
    public static func shares(scores: [Double], classes: Int, offsets: [Double]) -> [Double] {
        let rows = scores.count / classes
        var counts = [Int](repeating: 0, count: classes)
        for r in 0..<rows {
            var best = 0
            for k in 1..<classes where scores[r * classes + k] + offsets[k] > scores[r * classes + best] + offsets[best] {
                best = k
            }
            counts[best] += 1
        }
        return counts.map { Double($0) / Double(max(rows, 1)) }
    }
}
