/// How the columns of a tabular file become the model's inputs (README, "String columns and blanks"),
/// decided on the training file and stored with the model (`column_encoding` in the safetensors
/// metadata, as JSON), so `predict` applies exactly the same transformation, by column name.
///
/// Inputs, column after column in this order:
/// - a numeric column: its value (a missing one becomes `fill`, the training split's median), then,
///   when the column had missing values in training, `<name>_na`: 1 for a missing value, else 0;
/// - a categorical column: one-hot, `<name>=<category>` per category (most frequent first, ties in
///   order of first appearance; "" is the missing value, named `<name>=<missing>`), then
///   `<name>=<other>` when rarer categories were folded (`--max-categories`). A category not seen
///   in training is `<other>` when there is one, else no input is hot.
/// The standardisation, when on, then applies to every input.
public struct ColumnEncoding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case numeric, categorical }

    public struct Column: Codable, Sendable, Equatable {
        public var name: String
        public var kind: Kind
        /// Numeric: the value of a missing field (nil until fitted on the training split).
        public var fill: Float?
        /// Numeric: a 0/1 missing-value input follows the value.
        public var indicator: Bool
        /// Categorical: the one-hot slots' categories; "" is the missing value.
        public var categories: [String]
        /// Categorical: a last slot for folded and unseen categories.
        public var other: Bool

        public init(numeric name: String, indicator: Bool) {
            self.name = name
            kind = .numeric
            self.indicator = indicator
            categories = []
            other = false
        }

        public init(categorical name: String, categories: [String], other: Bool) {
            self.name = name
            kind = .categorical
            indicator = false
            self.categories = categories
            self.other = other
        }

        public var inputNames: [String] {
            switch kind {
            case .numeric: return indicator ? [name, name + "_na"] : [name]
            case .categorical:
                return categories.map { name + "=" + ($0.isEmpty ? "<missing>" : $0) } + (other ? [name + "=<other>"] : [])
            }
        }

        public var width: Int { kind == .numeric ? (indicator ? 2 : 1) : categories.count + (other ? 1 : 0) }
    }

    /// The feature columns, in the order of the model's inputs.
    public var columns: [Column]
    /// The training file's label column.
    public var target: String?
    /// Field texts that are missing values, besides the empty field.
    public var naValues: [String]

    enum CodingKeys: String, CodingKey {
        case columns, target
        case naValues = "na_values"
    }

    public init(columns: [Column], target: String?, naValues: [String]) {
        self.columns = columns
        self.target = target
        self.naValues = naValues
    }

    public var inputNames: [String] { columns.flatMap(\.inputNames) }
    public var inputCount: Int { columns.reduce(0) { $0 + $1.width } }
    /// The first input of each column.
    public var offsets: [Int] {
        var at = 0
        return columns.map { c in defer { at += c.width }; return at }
    }
}
