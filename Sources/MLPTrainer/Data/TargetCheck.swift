/// Checks of the label column when classifying: a column of measurements (every row its own
/// "class") is refused beyond `maximumClasses` and noted below it, both suggesting `--task regression`; the reports show at most
/// `ClassificationReport.shownClasses` classes, so their size stays bounded.
public enum TargetCheck {
    public static let maximumClasses = 1000

    public static func check(classLabels: [String], source: String) throws {
        guard classLabels.count <= maximumClasses else {
            throw ConfigError("\(source): the label column has \(classLabels.count) distinct values; at most \(maximumClasses) classes "
                              + "(is it a continuous column? for a numeric target use --task regression, or pick the class column with --target)")
        }
    }

    /// A note when the labels look like measurements: numbers, some not whole, and many of them.
    public static func continuousNote(classLabels: [String]) -> String? {
        let numbers = classLabels.compactMap(Double.init)
        guard classLabels.count > 20, numbers.count == classLabels.count, numbers.contains(where: { $0 != $0.rounded() }) else {
            return nil
        }
        return "note: the label column has \(classLabels.count) distinct numbers, some fractional: it looks continuous, "
            + "but it is classified, each value a class: for a numeric target use --task regression (or pick the class column with --target)"
    }
}
