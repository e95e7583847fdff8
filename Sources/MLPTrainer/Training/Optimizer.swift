import CKernels

/// The optimizer and its hyper-parameters (PyTorch's Adam and SGD semantics).
public struct OptimizerConfig: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable { case adam, sgd }
    public var kind: Kind = .adam
    public var learningRate: Float = 0.001
    public var momentum: Float = 0
    public var weightDecay: Float = 0
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public init(kind: Kind = .adam, learningRate: Float = 0.001, momentum: Float = 0, weightDecay: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }
}

/// Optimizer state over the flat parameter buffer: Adam's two moments or SGD's momentum buffer.
final class OptimizerState: @unchecked Sendable {
    let config: OptimizerConfig
    let first: Buffer<Float>
    let second: Buffer<Float>
    /// Steps taken so far (Adam's t after the next step is steps + 1).
    var steps: Int64 = 0
    /// The configured rate, or what a schedule (`LearningRateSchedule`) set for this epoch.
    var learningRate: Float

    init(config: OptimizerConfig, parameterCount: Int) {
        self.config = config
        learningRate = config.learningRate
        first = Buffer(count: parameterCount)
        second = Buffer(count: config.kind == .adam ? parameterCount : 0)
    }

    /// Applies step `steps + 1` to parameters [begin, end); callers cover the buffer in chunks, then
    /// call `finishStep`.
    func apply(parameters: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, begin: Int, end: Int) {
        let n = Int64(end - begin)
        guard n > 0 else { return }
        switch config.kind {
        case .adam:
            ck_adam_step(parameters + begin, gradient + begin, first.pointer + begin, second.pointer + begin, n,
                         learningRate, config.beta1, config.beta2, config.epsilon, config.weightDecay, steps + 1)
        case .sgd:
            ck_sgd_step(parameters + begin, gradient + begin, first.pointer + begin, n, learningRate,
                        config.momentum, config.weightDecay, steps == 0 ? 1 : 0)
        }
    }

    func finishStep() { steps += 1 }
}
