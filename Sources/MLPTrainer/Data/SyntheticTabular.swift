import Foundation

/// String columns and blanks for synthetic files (`datagen --categorical N --missing F`): pure
/// functions of (seed, row, column), like the numeric features, so blocks of rows can be written in
/// any order.
extension SyntheticProblem {
    /// How `category` draws a column's values (`datagen --category-frequency`).
    public enum CategoryFrequency: String, Sendable, CaseIterable {
        /// Each class has one value of its own, which two rows in three take; the others are uniform.
        case uniform
        /// Value k about as often as 1/(k + 1) (a long tail, as product or postcode columns), and
        /// every value belongs to one class (k mod classes), which two rows in three draw from: the
        /// label is in every value, the rare ones too (what one-hot's "other" slot folds away).
        case zipf
    }

    /// Categorical column `column`'s value in a row of class `label`: `"v<k>"`, k < `cardinality`,
    /// drawn as `frequency` says.
    public func category(row: Int, column: Int, label: Int32, cardinality: Int, frequency: CategoryFrequency = .uniform) -> String {
        let counter = UInt64(row) &* 1_000_003 &+ UInt64(column)
        if frequency == .zipf {
            let u = Self.uniform(seed, 4, counter)
            guard Self.uniform(seed, 3, counter) < 2.0 / 3, Int(label) < cardinality else { return "v\(Self.zipfRank(u, cardinality))" }
            let own = (cardinality - Int(label) + classes - 1) / classes  // values k = label (mod classes)
            return "v\(Int(label) + classes * Self.zipfRank(u, own))"
        }
        let k: Int
        if Self.uniform(seed, 3, counter) < 2.0 / 3 {
            k = (Int(label) * 7 + column * 3) % cardinality
        } else {
            k = Int(Self.uniform(seed, 4, counter) * Double(cardinality))
        }
        return "v\(k)"
    }

    /// A rank below `count` with frequency about 1/(rank + 1) (a continuous Zipf law, s = 1) from a
    /// uniform `u` in [0, 1).
    static func zipfRank(_ u: Double, _ count: Int) -> Int {
        min(count - 1, Int(pow(Double(count + 1), u)) - 1)
    }

    /// Whether feature field `column` (numeric columns first, then categorical ones) of `row` is blank,
    /// with probability `fraction`.
    public func isBlank(row: Int, column: Int, fraction: Double) -> Bool {
        fraction > 0 && Self.uniform(seed, 5, UInt64(row) &* 1_000_003 &+ UInt64(column)) < fraction
    }
}
