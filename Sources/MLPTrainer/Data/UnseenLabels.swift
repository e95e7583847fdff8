/// Labels outside a model's classes in a file given to `predict` (README.md, "Predict"): their rows
/// are predicted but left out of the report. Where the first is, and each label's rows in the order
/// the labels first appear in the file.
public struct UnseenLabels: Sendable {
    public let path: String
    /// The first unseen label's line (nil when unknown) and 1-based column.
    public let line: Int?
    public let column: Int
    public private(set) var labels: [(label: String, rows: Int)]
    private var index: [String: Int]

    init(path: String, line: Int?, column: Int, labels: [(label: String, rows: Int)]) {
        (self.path, self.line, self.column, self.labels) = (path, line, column, labels)
        index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1.label, $0) })
    }

    public var rows: Int { labels.reduce(0) { $0 + $1.rows } }

    /// Adds a later window's labels: the first place stays, the rows add up per label.
    public mutating func add(_ later: UnseenLabels) {
        for (label, rows) in later.labels {
            if let i = index[label] { labels[i].rows += rows } else { index[label] = labels.count; labels.append((label, rows)) }
        }
    }
}
