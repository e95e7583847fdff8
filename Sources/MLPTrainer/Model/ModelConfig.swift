/// The network's shape: hidden blocks Linear -> [norm] -> activation -> [norm] -> [Dropout] (the
/// norm on one side of the activation, by `norm.position`), then a final Linear -> log-softmax, or
/// for regression a final Linear to one output (`classes` is then 1). `Network` turns it into a
/// list of layers.
public struct ModelConfig: Sendable, Equatable {
    public var inputs: Int
    public var hidden: [Int]
    public var classes: Int
    public var activation: ActivationSpec
    public var norm: Normalization
    public var dropout: Float
    /// BatchNorm's and LayerNorm's epsilon, and BatchNorm's running-statistics momentum (PyTorch's).
    public var normEpsilon: Float = 1e-5
    public var bnMomentum: Float = 0.1
    public var task = LearningTask.classification

    public init(inputs: Int, hidden: [Int], classes: Int, activation: ActivationSpec, norm: Normalization, dropout: Float) {
        self.inputs = inputs
        self.hidden = hidden
        self.classes = classes
        self.activation = activation
        self.norm = norm
        self.dropout = dropout
    }

    /// inputs, hidden..., classes.
    public var sizes: [Int] { [inputs] + hidden + [classes] }
}
