import Foundation

/// Per-class precision, recall, F1 and support, accuracy, macro and weighted averages, and the
/// confusion matrix, printed in scikit-learn's `classification_report` layout.
public struct ClassificationReport: Sendable {
    public struct Row: Sendable { public var precision, recall, f1: Double; public var support: Int }

    public let classLabels: [String]
    /// confusion[true][predicted]
    public let confusion: [[Int]]
    public let rows: [Row]
    public let accuracy: Double
    public let macro: Row
    public let weighted: Row

    public init(classLabels: [String], truth: [Int32], predicted: [Int32]) {
        precondition(truth.count == predicted.count)
        let k = classLabels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, predicted) { confusion[Int(t)][Int(p)] += 1 }
        self.classLabels = classLabels
        self.confusion = confusion
        // scikit-learn's zero_division default: a 0/0 ratio counts as 0.
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let rows = (0..<k).map { c in
            let tp = confusion[c][c]
            let predictedCount = (0..<k).reduce(0) { $0 + confusion[$1][c] }
            let support = confusion[c].reduce(0, +)
            let precision = ratio(tp, predictedCount), recall = ratio(tp, support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return Row(precision: precision, recall: recall, f1: f1, support: support)
        }
        self.rows = rows
        let total = truth.count
        accuracy = ratio((0..<k).reduce(0) { $0 + confusion[$1][$1] }, total)
        let n = Double(max(k, 1))
        macro = Row(precision: rows.map(\.precision).reduce(0, +) / n, recall: rows.map(\.recall).reduce(0, +) / n,
                    f1: rows.map(\.f1).reduce(0, +) / n, support: total)
        func weightedMean(_ value: (Row) -> Double) -> Double {
            total == 0 ? 0 : rows.map { value($0) * Double($0.support) }.reduce(0, +) / Double(total)
        }
        weighted = Row(precision: weightedMean(\.precision), recall: weightedMean(\.recall), f1: weightedMean(\.f1), support: total)
    }

    /// The printed reports (text, HTML, heat map) show at most this many classes: those with the
    /// most support, in class order. The averages and accuracy still cover every class.
    public static let shownLimit = 20

    /// Indices of the classes the printed reports show (see `shownLimit`).
    public var shownClasses: [Int] {
        guard classLabels.count > Self.shownLimit else { return Array(classLabels.indices) }
        return classLabels.indices.sorted { (rows[$0].support, $1) > (rows[$1].support, $0) }.prefix(Self.shownLimit).sorted()
    }

    /// "(N classes with less support not shown)", or nil when every class is shown.
    public var hiddenClassesNote: String? {
        let hidden = classLabels.count - shownClasses.count
        return hidden > 0 ? "(\(hidden) classes with less support not shown)" : nil
    }

    /// The report as scikit-learn prints it with `digits`.
    public func text(digits: Int = 4) -> String {
        let width = max(classLabels.map(\.count).max() ?? 0, "weighted avg".count, digits)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func number(_ v: Double) -> String { pad(String(format: "%.\(digits)f", v), 9) }
        func line(_ name: String, _ r: Row) -> String {
            pad(name, width) + " " + " " + number(r.precision) + " " + number(r.recall) + " " + number(r.f1)
                + " " + pad(String(r.support), 9) + "\n"
        }
        var out = pad("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + pad($0, 9) }.joined() + "\n\n"
        for c in shownClasses { out += line(classLabels[c], rows[c]) }
        if let hiddenClassesNote { out += hiddenClassesNote + "\n" }
        out += "\n"
        out += pad("accuracy", width) + " " + " " + pad("", 9) + " " + pad("", 9) + " " + number(accuracy) + " "
            + pad(String(weighted.support), 9) + "\n"
        out += line("macro avg", macro)
        out += line("weighted avg", weighted)
        return out
    }

    /// The confusion matrix with true classes as rows and predicted classes as columns.
    public func confusionText() -> String {
        let shown = shownClasses
        let classLabels = shown.map { self.classLabels[$0] }
        let confusion = shown.map { t in shown.map { self.confusion[t][$0] } }
        let cells = confusion.flatMap { $0.map(String.init) } + classLabels
        let w = max(cells.map(\.count).max() ?? 1, 4)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        let nameWidth = max(classLabels.map(\.count).max() ?? 0, "true\\pred".count)
        func padName(_ s: String) -> String { s + String(repeating: " ", count: max(0, nameWidth - s.count)) }
        var out = padName("true\\pred") + " " + classLabels.map(pad).joined(separator: " ") + "\n"
        for (label, row) in zip(classLabels, confusion) {
            out += padName(label) + " " + row.map { pad(String($0)) }.joined(separator: " ") + "\n"
        }
        return out + (hiddenClassesNote.map { $0 + "\n" } ?? "")
    }
}
