/// Where each named tensor lives in the model's flat buffers (ARCHITECTURE.md, "Engine"): learnable
/// parameters in one Float array (and every gradient in an array of the same length), non-learned
/// state (BatchNorm's running statistics) in a second array, and step counters
/// (`bn{i}.num_batches_tracked`) by name. Layers register their tensors here as the network is built.
public struct ParameterLayout: Sendable {
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var parameters: [Tensor] = []
    public private(set) var buffers: [Tensor] = []
    /// Int64 tensors that count training batches (all hold the model's `batchesTracked`).
    public private(set) var counters: [String] = []
    public private(set) var parameterCount = 0
    public private(set) var bufferCount = 0

    public func parameter(named name: String) -> Tensor? { parameters.first { $0.name == name } }
    public func buffer(named name: String) -> Tensor? { buffers.first { $0.name == name } }

    /// Registers a learnable tensor; returns its offset in the parameter buffer.
    mutating func addParameter(_ name: String, _ shape: [Int]) -> Int {
        let tensor = Tensor(name: name, shape: shape, offset: parameterCount)
        parameters.append(tensor)
        parameterCount += tensor.count
        return tensor.offset
    }

    /// Registers a non-learned tensor; returns its offset in the buffer array.
    mutating func addBuffer(_ name: String, _ shape: [Int]) -> Int {
        let tensor = Tensor(name: name, shape: shape, offset: bufferCount)
        buffers.append(tensor)
        bufferCount += tensor.count
        return tensor.offset
    }

    mutating func addCounter(_ name: String) { counters.append(name) }
}
