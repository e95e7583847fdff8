/// A network's configuration and state: its flat parameter buffer, BatchNorm running statistics,
/// and the count of training batches BatchNorm has seen (`bn{i}.num_batches_tracked`).
public struct Model: Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public var parameters: [Float]
    public var buffers: [Float]
    public var batchesTracked: Int64 = 0

    /// PyTorch's default initialisation: Linear weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// BatchNorm weight 1 and bias 0, running mean 0 and variance 1; activation parameters at their
    /// configured initial values.
    public init(config: ModelConfig, seed: UInt64) {
        self.config = config
        layout = ParameterLayout(config)
        parameters = [Float](repeating: 0, count: layout.parameterCount)
        buffers = [Float](repeating: 0, count: layout.bufferCount)
        var rng = SplitMix64(seed: seed ^ 0x1A17_5EED)
        let sizes = config.sizes
        for (layer, block) in layout.blocks.enumerated() {
            let fanIn = sizes[layer], width = sizes[layer + 1]
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<(width * fanIn) { parameters[block.weight + i] = rng.uniform(-bound, bound) }
            for i in 0..<width { parameters[block.bias + i] = rng.uniform(-bound, bound) }
            guard layer < config.hidden.count else { continue }
            let act = config.activation
            let slots = act.perChannel ? width : 1
            for (p, value) in act.initialValues.enumerated() {
                for c in 0..<slots { parameters[block.activation + p * slots + c] = value }
            }
            if config.batchNorm {
                for c in 0..<width {
                    parameters[block.bnWeight + c] = 1
                    buffers[block.runningVar + c] = 1
                }
            }
        }
    }

    /// A model with these exact tensors (for tests and checkpoints).
    public init(config: ModelConfig, parameters: [Float], buffers: [Float], batchesTracked: Int64) {
        self.config = config
        layout = ParameterLayout(config)
        precondition(parameters.count == layout.parameterCount && buffers.count == layout.bufferCount)
        self.parameters = parameters
        self.buffers = buffers
        self.batchesTracked = batchesTracked
    }
}

/// SplitMix64: a small, fast, seedable generator for initialisation and shuffling.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) * 0x1.0p-24
    }
}
