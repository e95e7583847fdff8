/// String columns and blanks for synthetic files (`datagen --categorical N --missing F`): pure
/// functions of (seed, row, column), like the numeric features, so blocks of rows can be written in
/// any order.
extension SyntheticProblem {
    /// Categorical column `column`'s value in a row of class `label`: `"v<k>"`, k < `cardinality`.
    /// Two rows in three take their class's own category (so the column matters for the label), the
    /// others a uniform one.
    public func category(row: Int, column: Int, label: Int32, cardinality: Int) -> String {
        let counter = UInt64(row) &* 1_000_003 &+ UInt64(column)
        let k: Int
        if Self.uniform(seed, 3, counter) < 2.0 / 3 {
            k = (Int(label) * 7 + column * 3) % cardinality
        } else {
            k = Int(Self.uniform(seed, 4, counter) * Double(cardinality))
        }
        return "v\(k)"
    }

    /// Whether feature field `column` (numeric columns first, then categorical ones) of `row` is blank,
    /// with probability `fraction`.
    public func isBlank(row: Int, column: Int, fraction: Double) -> Bool {
        fraction > 0 && Self.uniform(seed, 5, UInt64(row) &* 1_000_003 &+ UInt64(column)) < fraction
    }
}
