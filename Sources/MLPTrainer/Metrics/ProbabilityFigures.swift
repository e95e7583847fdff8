import Foundation

/// What a model's probabilities on a labelled set say beyond its predictions: the log loss (mean
/// negative log-likelihood, scikit-learn's `log_loss` without its clipping), the same with the
/// training's class weights (PyTorch's CrossEntropyLoss(weight=)), accuracy and, for two classes,
/// scikit-learn's `roc_auc_score` of the second class's probability. Sums run in row order, so the
/// figures are a function of the rows' log-probabilities alone.
public struct ProbabilityFigures: Sendable, Equatable {
    public var loss: Double
    /// nil without class weights.
    public var weightedLoss: Double?
    public var accuracy: Double
    /// nil unless there are two classes, both present.
    public var auc: Double?

    /// `logProbabilities` is rows x classes, row-major.
    public init(logProbabilities: [Float], labels: [Int32], classes: Int, classWeights: [Float]?) {
        let rows = labels.count
        var loss = 0.0, weighted = 0.0, totalWeight = 0.0, correct = 0
        for (r, y) in labels.enumerated() {
            let row = logProbabilities[(r * classes)..<((r + 1) * classes)]
            let nll = -Double(row[row.startIndex + Int(y)])
            loss += nll
            let w = Double(classWeights?[Int(y)] ?? 1)
            weighted += w * nll
            totalWeight += w
            var predicted = row.startIndex
            for k in row.indices where row[k] > row[predicted] { predicted = k }
            if predicted == row.startIndex + Int(y) { correct += 1 }
        }
        self.loss = rows > 0 ? loss / Double(rows) : 0
        weightedLoss = classWeights == nil || totalWeight == 0 ? nil : weighted / totalWeight
        accuracy = rows > 0 ? Double(correct) / Double(rows) : 0
        auc = classes == 2
            ? Self.rocAUC(scores: (0..<rows).map { exp(Double(logProbabilities[2 * $0 + 1])) }, positive: labels.map { $0 == 1 }) : nil
    }

    public init(loss: Double, weightedLoss: Double?, accuracy: Double, auc: Double?) {
        (self.loss, self.weightedLoss, self.accuracy, self.auc) = (loss, weightedLoss, accuracy, auc)
    }

    /// The area under the ROC curve: the Mann-Whitney statistic with tied scores sharing their mean
    /// rank (equal to scikit-learn's trapezoidal `roc_auc_score`); nil when one class is absent.
    public static func rocAUC(scores: [Double], positive: [Bool]) -> Double? {
        let positives = positive.filter { $0 }.count, negatives = positive.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let meanRank = Double(i + j + 2) / 2
            for k in i...j where positive[order[k]] { rankSum += meanRank }
            i = j + 1
        }
        return (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }
}
