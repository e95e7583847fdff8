/// `--class-weight balanced|none|LABEL=W,...`: how much each class's rows count in the training loss
/// (PyTorch's CrossEntropyLoss(weight=w): sum of w[y] * nll over the batch / sum of w[y]).
/// `balanced` is scikit-learn's: n_rows / (n_classes * rows of the class), on the training rows;
/// listed labels get their W and the others 1, as scikit-learn's dict form.
public enum ClassWeighting: Sendable, Equatable, Codable, CustomStringConvertible {
    case none
    case balanced
    case given([String: Double])

    public init(parsing text: String) throws {
        switch text {
        case "none": self = .none
        case "balanced": self = .balanced
        default:
            var weights: [String: Double] = [:]
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2, !pair[0].isEmpty, let w = Double(pair[1]), w > 0, w.isFinite else {
                    throw ConfigError("--class-weight takes balanced, none or LABEL=WEIGHT,... with positive weights, like 0=1,1=9; got '\(item)'")
                }
                guard weights.updateValue(w, forKey: pair[0]) == nil else { throw ConfigError("--class-weight: label '\(pair[0])' is given twice") }
            }
            self = .given(weights)
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .balanced: "balanced"
        case let .given(weights): weights.keys.sorted().map { "\($0)=\(weights[$0]!)" }.joined(separator: ",")
        }
    }

    /// The weight of each class (in `classLabels` order) for these training labels; nil for `none`.
    public func weights(labels: [Int32], classLabels: [String]) throws -> [Float]? {
        switch self {
        case .none:
            return nil
        case .balanced:
            var counts = [Int](repeating: 0, count: classLabels.count)
            for y in labels { counts[Int(y)] += 1 }
            if let empty = counts.firstIndex(of: 0) {
                throw ConfigError("--class-weight balanced: class '\(classLabels[empty])' has no training rows")
            }
            return counts.map { Float(Double(labels.count) / (Double(classLabels.count) * Double($0))) }
        case let .given(weights):
            if let unknown = weights.keys.sorted().first(where: { !classLabels.contains($0) }) {
                throw ConfigError("--class-weight: no class '\(unknown)' in the data (classes: \(classLabels.joined(separator: ", ")))")
            }
            return classLabels.map { Float(weights[$0] ?? 1) }
        }
    }
}
