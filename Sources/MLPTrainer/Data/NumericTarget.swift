/// Regression's target column (README.md, "Regression"): the loader reads it as label texts, and
/// each must be a number; `values` turns the class indices back into the numbers.
enum NumericTarget {
    /// Throws for the first label that is not a finite number, naming the line where it first
    /// appears (`firstLine(class)`) and the target column.
    static func check(_ dataset: Dataset, path: String, options: CSVOptions, firstLine: (Int) -> Int?) throws {
        guard let c = dataset.classLabels.firstIndex(where: { Double($0)?.isFinite != true }) else { return }
        let line = firstLine(c).map { ":\($0)" } ?? ""
        let (column, name) = try CSVLayout.target(path: path, options: options)
        throw DataError("\(path)\(line):\(column + 1): target \"\(dataset.classLabels[c])\" in column '\(name)' is not a number "
                        + "(--task regression needs a numeric target)")
    }
}

extension Dataset {
    /// Each row's target as a number (its class label's value), for regression; nil when a label
    /// is not a number.
    public var targetValues: [Double]? {
        let values = classLabels.compactMap(Double.init)
        guard values.count == classLabels.count else { return nil }
        return labels.map { values[Int($0)] }
    }
}
