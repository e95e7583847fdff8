extension RunSummary {
    /// The report set's probability figures, balanced accuracy and recall per class; with a validation
    /// set (`earlyStopping` given), the kept epoch and its validation figures.
    mutating func record(_ figures: ProbabilityFigures, _ report: ClassificationReport, history: [EpochRecord],
                         earlyStopping: EarlyStopping?) {
        testLogLoss = Self.finite(figures.loss)
        testWeightedLoss = Self.finite(figures.weightedLoss)
        testRocAuc = Self.finite(figures.auc)
        testBalancedAccuracy = report.macro.recall
        testRecallPerClass = Dictionary(uniqueKeysWithValues: report.shownClasses.map { (report.classLabels[$0], report.rows[$0].recall) })
        guard let best = earlyStopping?.best(history), let kept = history.first(where: { $0.epoch == best.epoch })?.validation else { return }
        bestEpoch = best.epoch
        bestValidationLoss = Self.finite(EarlyStopping.Metric.loss.value(kept))
        bestValidationAccuracy = Self.finite(kept.accuracy)
        bestValidationAuc = Self.finite(kept.auc)
    }

    /// The kept epoch's validation figure for `metric`.
    public func bestValidation(_ metric: EarlyStopping.Metric) -> Double? {
        switch metric {
        case .loss: bestValidationLoss
        case .accuracy: bestValidationAccuracy
        case .auc: bestValidationAuc
        }
    }
}
