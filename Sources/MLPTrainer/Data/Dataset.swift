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

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let f = featureCount
        var x = [Float](repeating: 0, count: indices.count * f)
        var y = [Int32](repeating: 0, count: indices.count)
        features.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                for (i, r) in indices.enumerated() {
                    for j in 0..<f { dst[i * f + j] = src[r * f + j] }
                    y[i] = labels[r]
                }
            }
        }
        return Dataset(features: x, labels: y, featureNames: featureNames, classLabels: classLabels)
    }
}
