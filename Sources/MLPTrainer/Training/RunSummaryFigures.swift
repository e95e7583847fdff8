extension RunSummary {
    /// The report set's probability figures, balanced accuracy and recall per class.
    mutating func record(_ figures: ProbabilityFigures, _ report: ClassificationReport) {
        testLogLoss = Self.finite(figures.loss)
        testWeightedLoss = Self.finite(figures.weightedLoss)
        testRocAuc = Self.finite(figures.auc)
        testBalancedAccuracy = report.macro.recall
        testRecallPerClass = Dictionary(uniqueKeysWithValues: report.shownClasses.map { (report.classLabels[$0], report.rows[$0].recall) })
    }

    /// The kept epoch (`earlyStopping`'s best of `history`) and its validation figures.
    mutating func recordBest(_ earlyStopping: EarlyStopping, history: [EpochRecord]) {
        guard let best = earlyStopping.best(history), let kept = history.first(where: { $0.epoch == best.epoch })?.validation else { return }
        bestEpoch = best.epoch
        bestValidationLoss = Self.finite(kept.loss)
        bestValidationAccuracy = Self.finite(kept.probabilities?.accuracy)
        bestValidationAuc = Self.finite(kept.probabilities?.auc)
        bestValidationR2 = Self.finite(kept.regression?.r2)
    }

    /// The kept epoch's validation figure for `metric`.
    public func bestValidation(_ metric: EarlyStopping.Metric) -> Double? {
        switch metric {
        case .loss: bestValidationLoss
        case .accuracy: bestValidationAccuracy
        case .auc: bestValidationAuc
        case .r2: bestValidationR2
        }
    }
}
