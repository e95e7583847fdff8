/// The error for a training loss that became NaN or infinite, with advice that fits its likely
/// cause: non-finite input values, a network that is non-finite from the start, or steps too large.
extension TrainingRun {
    func nonFiniteLossError(_ loss: Double, epoch: Int, stepInEpoch: Int, step: UInt64) -> TrainingError {
        let what = "the training loss became \(loss.isNaN ? "NaN" : "infinite") at epoch \(epoch), step \(stepInEpoch) of the epoch (step \(step) overall)"
        let advice: String
        if train.features.contains(where: { !$0.isFinite }) {
            advice = "the training data holds NaN or infinite values (accepted by --allow-nonfinite); drop those rows (--drop-invalid-rows without --allow-nonfinite)"
        } else if step == 1 {
            advice = "the network is not finite from the start (check the --init weights or the activation's parameters)"
        } else if settings.standardize {
            advice = "lower --lr"
        } else {
            advice = "lower --lr or standardise the features (drop --no-standardize)"
        }
        return TrainingError("\(what); \(advice)")
    }
}
