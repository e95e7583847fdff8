/// The errors for a run that diverged (a training loss, the weights or the trained model's outputs
/// became NaN or infinite), with advice that fits the likely cause: non-finite input values, a
/// network that is non-finite from the start, softexp's exponentials compounding, or steps too large.
extension TrainingRun {
    func nonFiniteLossError(_ loss: Double, epoch: Int, stepInEpoch: Int, step: UInt64) -> TrainingError {
        let what = "the training loss became \(loss.isNaN ? "NaN" : "infinite") at epoch \(epoch), step \(stepInEpoch) of the epoch (step \(step) overall)"
        return TrainingError("\(what); \(divergenceAdvice(firstStep: step == 1))")
    }

    /// The loss of a step is computed before its update: an update can overflow the weights (or
    /// BatchNorm's running statistics) while the step's own loss was finite.
    func nonFiniteWeightsError(_ tensors: [String], epoch: Int, stepInEpoch: Int? = nil, step: UInt64) -> TrainingError {
        let when = stepInEpoch.map { "after step \($0) of epoch \(epoch)" } ?? "at the end of epoch \(epoch)"
        return TrainingError("NaN or infinite values in \(tensors.joined(separator: ", ")) \(when) (step \(step) overall); "
                             + divergenceAdvice(firstStep: false))
    }

    /// The model to be written gives a non-finite loss on finite data (e.g. the last step's update
    /// overflowed its outputs, or BatchNorm's running statistics do in evaluation mode).
    func nonFiniteModelError(_ loss: Double, epoch: Int, set: String) -> TrainingError {
        TrainingError("the trained model's \(set) loss is \(loss.isNaN ? "NaN" : "infinite") after epoch \(epoch) (its outputs are not finite on some rows); "
                      + divergenceAdvice(firstStep: false))
    }

    private func divergenceAdvice(firstStep: Bool) -> String {
        if train.features.contains(where: { !$0.isFinite }) {
            return "the training data holds NaN or infinite values (accepted by --allow-nonfinite); drop those rows (--drop-invalid-rows without --allow-nonfinite)"
        }
        if firstStep { return "the network is not finite from the start (check the --init weights or the activation's parameters)" }
        var remedies = ["lower --lr"]
        // Adam's steps do not grow with the gradient, so clipping it only helps SGD.
        if settings.optimizer.kind == .sgd && settings.clipGradNorm == nil { remedies.append("clip the gradients (--clip-grad-norm 1)") }
        if !settings.standardize { remedies.append("standardise the features (drop --no-standardize)") }
        if settings.activation.kind.name == "softexp" && settings.norm.kind == .none {
            // exp(a x) of exp(a x) ...: without normalisation between the blocks a > 0 overflows float
            // within a few steps of growth (PyTorch's float64 too, a step later).
            remedies.append("normalise the blocks (--norm batch or --norm layer; softexp with alpha > 0 stacks exponentials)")
        }
        return remedies.count == 1 ? remedies[0] : remedies.dropLast().joined(separator: ", ") + " or " + remedies.last!
    }
}
