/// A labelled table in memory: row-major float32 features and a class index per row.
public struct Dataset: Sendable {
    /// rows x featureCount, row-major.
    public var features: [Float]
    /// Class index of each row, into `classLabels`.
    public var labels: [Int32]
    public var featureNames: [String]
    /// The class names, sorted as scikit-learn's LabelEncoder sorts them (numerically when every
    /// label is a number, else as strings); index i is class i.
    public var classLabels: [String]
    /// How the file's columns became these features, for a file with string columns or blanks.
    public var encoding: ColumnEncoding?

    public var rows: Int { labels.count }
    public var featureCount: Int { featureNames.count }
    public var classCount: Int { classLabels.count }

    public init(features: [Float], labels: [Int32], featureNames: [String], classLabels: [String]) {
        precondition(features.count == labels.count * featureNames.count, "features must be rows x featureCount")
        self.features = features
        self.labels = labels
        self.featureNames = featureNames
        self.classLabels = classLabels
    }

    /// Splits off the rows in `held` (row indices) as a second data set; both keep the file's row
    /// order. The kept rows are compacted in place in one sequential pass and only the held rows
    /// are copied, so peak memory is the data set plus the held part, not twice the data set.
    public consuming func split(holdingOut held: [Int]) -> (kept: Dataset, held: Dataset) {
        let f = featureCount, n = rows
        var isHeld = [Bool](repeating: false, count: n)
        for r in held { isHeld[r] = true }
        var heldFeatures = [Float](), heldLabels = [Int32]()
        heldFeatures.reserveCapacity(held.count * f)
        heldLabels.reserveCapacity(held.count)
        var kept = 0
        features.withUnsafeMutableBufferPointer { x in
            labels.withUnsafeMutableBufferPointer { y in
                for r in 0..<n {
                    let source = UnsafeBufferPointer(rebasing: x[(r * f)..<((r + 1) * f)])
                    if isHeld[r] {
                        heldFeatures.append(contentsOf: source)
                        heldLabels.append(y[r])
                    } else {
                        if kept != r {
                            (x.baseAddress! + kept * f).update(from: source.baseAddress!, count: f)
                            y[kept] = y[r]
                        }
                        kept += 1
                    }
                }
            }
        }
        features.removeLast((n - kept) * f)
        labels.removeLast(n - kept)
        var heldOut = Dataset(features: heldFeatures, labels: heldLabels, featureNames: featureNames, classLabels: classLabels)
        heldOut.encoding = encoding
        return (self, heldOut)
    }
}
