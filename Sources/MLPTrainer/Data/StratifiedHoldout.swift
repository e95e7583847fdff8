/// `--validation-fraction F`: rows held out of the training rows for validation, stratified: each
/// class gives round(F x its rows) of them (at least one when it has two rows or more), so the
/// validation set has the training set's class shares. Which rows is a pure function of the labels,
/// F and the seed (NumPy's legacy permutation per class, as `TrainTestSplit`).
public enum StratifiedHoldout {
    /// The held-out row indices, in row order.
    public static func rows(labels: [Int32], classes: Int, fraction: Double, seed: UInt32) -> [Int] {
        var byClass = [[Int]](repeating: [], count: classes)
        for (row, y) in labels.enumerated() { byClass[Int(y)].append(row) }
        var rng = MersenneTwister(seed: seed)
        var held: [Int] = []
        for rows in byClass where rows.count >= 2 {
            let count = min(max(Int((fraction * Double(rows.count)).rounded()), 1), rows.count - 1)
            held += rng.permutation(rows.count).prefix(count).map { rows[$0] }
        }
        return held.sorted()
    }
}
