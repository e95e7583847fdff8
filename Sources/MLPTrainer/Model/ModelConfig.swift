/// The network's shape: hidden blocks Linear -> activation -> [BatchNorm1d] -> [Dropout], then a
/// final Linear -> log-softmax.
public struct ModelConfig: Sendable, Equatable {
    public var inputs: Int
    public var hidden: [Int]
    public var classes: Int
    public var activation: ActivationSpec
    public var batchNorm: Bool
    public var dropout: Float
    public var bnEpsilon: Float = 1e-5
    public var bnMomentum: Float = 0.1

    public init(inputs: Int, hidden: [Int], classes: Int, activation: ActivationSpec, batchNorm: Bool, dropout: Float) {
        self.inputs = inputs
        self.hidden = hidden
        self.classes = classes
        self.activation = activation
        self.batchNorm = batchNorm
        self.dropout = dropout
    }

    /// inputs, hidden..., classes.
    public var sizes: [Int] { [inputs] + hidden + [classes] }
    /// Number of Linear layers (hidden blocks + output).
    public var linearCount: Int { hidden.count + 1 }
}
