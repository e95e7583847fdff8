import ArgumentParser
import MLPTrainer

/// The flags of class weights, validation with early stopping, learning-rate schedules and gradient
/// clipping (README.md, "Imbalanced data, validation and schedules").
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Class weights in the loss: balanced (n_rows / (n_classes x rows of the class)), none, or LABEL=W,... (others 1). (default: none)",
                               valueName: "balanced|none|label=w,..."))
    var classWeight: String?
    @Option(help: "Fraction of the training rows held out for validation after each epoch (stratified for classification, at random for regression); the best epoch's model is written. (default: none)")
    var validationFraction: Double?
    @Option(help: ArgumentHelp("Validate on this CSV after each epoch; the best epoch's model is written.", valueName: "path"))
    var validationData: String?
    @Option(help: ArgumentHelp("Stop after this many epochs without improvement of the validation metric (needs a validation set).", valueName: "patience"))
    var earlyStopping: Int?
    @Option(help: "The validation metric that picks the best epoch (loss: weighted by --class-weight; accuracy, auc (two classes): classification; r2: regression). (default: loss)")
    var earlyStoppingMetric: EarlyStopping.Metric?
    @Option(help: ArgumentHelp("Learning rate per epoch, as PyTorch's StepLR, CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau. (default: constant)",
                               valueName: "constant|step:EVERY,GAMMA|cosine|onecycle|plateau:PATIENCE,FACTOR"))
    var lrSchedule: String?
    @Option(help: "Epochs of linear warm-up from lr/(N+1) before the schedule. (default: 0)")
    var warmupEpochs: Int?
    @Option(help: "Clip the gradient's global 2-norm to this (torch.nn.utils.clip_grad_norm_). (default: off)")
    var clipGradNorm: Float?

    /// Sets these options on `s` (after --epochs), each checked.
    func apply(to s: inout TrainingSettings) throws {
        if let classWeight { s.classWeight = try ClassWeighting(parsing: classWeight) }
        if validationFraction != nil && validationData != nil {
            throw ConfigError("--validation-fraction and --validation-data are two validation sets; give one of them")
        }
        if let validationFraction {
            guard validationFraction > 0, validationFraction < 1 else {
                throw ConfigError("--validation-fraction must be in (0, 1), got \(validationFraction)")
            }
            s.validationFraction = validationFraction
        }
        if let validationData { s.validationData = validationData }
        if let earlyStopping {
            guard earlyStopping >= 1 else { throw ConfigError("--early-stopping must be at least 1 epoch, got \(earlyStopping)") }
            s.earlyStopping.patience = earlyStopping
        }
        if let earlyStoppingMetric { s.earlyStopping.metric = earlyStoppingMetric }
        if (earlyStopping != nil || earlyStoppingMetric != nil) && !s.validates {
            throw ConfigError("--early-stopping\(earlyStopping == nil ? "-metric" : "") needs a validation set: add --validation-fraction F or --validation-data PATH")
        }
        if let lrSchedule { s.lrSchedule = try LearningRateSchedule(parsing: lrSchedule) }
        if let warmupEpochs {
            guard warmupEpochs >= 0, warmupEpochs < s.epochs else {
                throw ConfigError("--warmup-epochs must be in 0..<\(s.epochs) (the epochs), got \(warmupEpochs)")
            }
            if warmupEpochs > 0 && s.lrSchedule == .onecycle {
                throw ConfigError("--warmup-epochs with --lr-schedule onecycle: onecycle warms up by itself (its first 30% of epochs)")
            }
            s.warmupEpochs = warmupEpochs
        }
        if let clipGradNorm {
            guard clipGradNorm > 0, clipGradNorm.isFinite else { throw ConfigError("--clip-grad-norm must be a positive number, got \(clipGradNorm)") }
            s.clipGradNorm = clipGradNorm
        }
    }
}

extension EarlyStopping.Metric: ExpressibleByArgument {}
