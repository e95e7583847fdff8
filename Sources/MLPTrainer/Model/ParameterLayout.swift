/// Where each named tensor lives in the model's flat buffers (DESIGN.md decision 1): learnable
/// parameters in one Float array (and every gradient in an array of the same length), BatchNorm's
/// running statistics in a second array of buffers.
public struct ParameterLayout: Sendable {
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// Offsets of one hidden block's tensors (and the output layer's, which has only fc).
    public struct Block: Sendable {
        public var weight = 0, bias = 0
        public var activation = 0, activationCount = 0
        public var bnWeight = 0, bnBias = 0
        public var runningMean = 0, runningVar = 0
    }

    public private(set) var parameters: [Tensor] = []
    public private(set) var buffers: [Tensor] = []
    public private(set) var blocks: [Block] = []
    public private(set) var parameterCount = 0
    public private(set) var bufferCount = 0

    public init(_ config: ModelConfig) {
        let sizes = config.sizes
        for layer in 0..<config.linearCount {
            let i = layer + 1, fanIn = sizes[layer], width = sizes[layer + 1]
            var block = Block()
            block.weight = addParameter("fc\(i).weight", [width, fanIn])
            block.bias = addParameter("fc\(i).bias", [width])
            if layer < config.hidden.count {
                let act = config.activation
                let shape = act.perChannel ? [width] : []
                for (p, param) in act.kind.parameters.enumerated() {
                    let offset = addParameter("a\(i).\(param.name)", shape)
                    if p == 0 { block.activation = offset }
                }
                block.activationCount = act.kind.parameters.count * (act.perChannel ? width : 1)
                if config.batchNorm {
                    block.bnWeight = addParameter("bn\(i).weight", [width])
                    block.bnBias = addParameter("bn\(i).bias", [width])
                    block.runningMean = addBuffer("bn\(i).running_mean", [width])
                    block.runningVar = addBuffer("bn\(i).running_var", [width])
                }
            }
            blocks.append(block)
        }
    }

    public func parameter(named name: String) -> Tensor? { parameters.first { $0.name == name } }
    public func buffer(named name: String) -> Tensor? { buffers.first { $0.name == name } }

    private mutating func addParameter(_ name: String, _ shape: [Int]) -> Int {
        let tensor = Tensor(name: name, shape: shape, offset: parameterCount)
        parameters.append(tensor)
        parameterCount += tensor.count
        return tensor.offset
    }

    private mutating func addBuffer(_ name: String, _ shape: [Int]) -> Int {
        let tensor = Tensor(name: name, shape: shape, offset: bufferCount)
        buffers.append(tensor)
        bufferCount += tensor.count
        return tensor.offset
    }
}
