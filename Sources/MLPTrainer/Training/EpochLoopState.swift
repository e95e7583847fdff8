import Foundation

/// Where a run's epoch loop stands (`TrainingRun.run`): the epoch being trained and its batches
/// already done, its running sums, the history, the best validation epoch's model so far, and the
/// time spent evaluating and writing checkpoints. A resumed run starts from its `TrainingState`.
struct EpochLoopState {
    var epoch: Int
    /// Mini-batches of `epoch` already trained (a run resumed mid-epoch skips them).
    var batchesDone: Int
    /// The epoch's train loss x weight, weight (rows when unweighted) and correct rows so far.
    var lossSum: Double
    var weightSum: Double
    var correct: Int
    /// The finished epochs, thinned beyond `HistoryBound.capacity`.
    var history: [EpochRecord]
    /// The plateau schedule's state after the finished epochs.
    var plateau: LearningRateSchedule.Plateau
    var bestModel: Model?
    var stoppedEarly: Bool
    var interrupted = false
    /// Set when a loss or the weights became non-finite: the run ends there (`TrainingRun.run`).
    var divergence: TrainingError?
    var evalSeconds = 0.0
    var checkpointSeconds = 0.0
    var lastSave = Date()

    init(resuming resume: TrainingState?, earlyStopping: EarlyStopping, plateau: LearningRateSchedule.Plateau) {
        self.plateau = plateau
        epoch = (resume?.epochsCompleted ?? 0) + 1
        batchesDone = resume?.batchesInEpoch ?? 0
        lossSum = resume?.epochLossSum ?? 0
        weightSum = resume?.epochWeightSum ?? 0
        correct = resume?.epochCorrect ?? 0
        history = resume?.history ?? []
        bestModel = resume?.bestModel
        stoppedEarly = earlyStopping.shouldStop(history)
    }

    mutating func add(_ step: Engine.StepResult) {
        lossSum += step.loss * step.weight
        weightSum += step.weight
        correct += step.correct
    }

    /// Records the finished epoch and moves to the next.
    mutating func finish(_ record: EpochRecord, earlyStopping: EarlyStopping) {
        history.append(record)
        stoppedEarly = earlyStopping.shouldStop(history)
        epoch += 1
        (lossSum, weightSum, correct) = (0, 0, 0)
    }
}
