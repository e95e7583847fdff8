/// Labels outside a model's classes in a file given to `predict` (README.md, "Predict"): their rows
/// are predicted but left out of the report. Where the first is, and each label's rows in the order
/// the labels first appear in the file.
public struct UnseenLabels: Sendable {
    public let path: String
    /// The first unseen label's line (nil when unknown) and 1-based column.
    public let line: Int?
    public let column: Int
    /// Each label as written in the file where it first appears, and its rows. Numerically equal
    /// labels ("2", "2.0", " 2") are one label, shown as its first appearance is written.
    public private(set) var labels: [(label: String, rows: Int)]
    /// Each label's class name (numbers in their canonical form: "2" for "2.0"), which joins the
    /// windows' counts, and its place in `labels`.
    private var index: [String: Int]

    init(path: String, line: Int?, column: Int, labels: [(className: String, written: String, rows: Int)]) {
        (self.path, self.line, self.column) = (path, line, column)
        self.labels = labels.map { ($0.written, $0.rows) }
        index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1.className, $0) })
    }

    public var rows: Int { labels.reduce(0) { $0 + $1.rows } }

    /// Adds a later window's labels: the first place stays, the rows add up per label.
    public mutating func add(_ later: UnseenLabels) {
        for (className, j) in later.index.sorted(by: { $0.value < $1.value }) {
            let (written, rows) = later.labels[j]
            if let i = index[className] { labels[i].rows += rows } else { index[className] = labels.count; labels.append((written, rows)) }
        }
    }
}
