/// A network's configuration and state: its flat parameter buffer, its buffers (BatchNorm's running
/// statistics), and the count of training batches BatchNorm has seen (`bn{i}.num_batches_tracked`).
public struct Model: Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public var parameters: [Float]
    public var buffers: [Float]
    public var batchesTracked: Int64 = 0

    /// Each layer's initialisation (PyTorch's defaults; activation parameters at their configured
    /// initial values), layer by layer from one generator.
    public init(config: ModelConfig, seed: UInt64) {
        self.config = config
        let network = Network(config)
        layout = network.layout
        parameters = [Float](repeating: 0, count: layout.parameterCount)
        buffers = [Float](repeating: 0, count: layout.bufferCount)
        var rng = SplitMix64(seed: seed ^ 0x1A17_5EED)
        for layer in network.layers { layer.initialize(parameters: &parameters, buffers: &buffers, rng: &rng) }
    }

    /// A model with these exact tensors (for tests and checkpoints).
    public init(config: ModelConfig, parameters: [Float], buffers: [Float], batchesTracked: Int64) {
        self.config = config
        layout = Network(config).layout
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
