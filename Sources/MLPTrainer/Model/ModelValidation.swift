/// Checks a model file's fields against each other and against its tensors before anything is
/// allocated from them, so a crafted or mismatched file is one clear error, never a trap, an
/// out-of-bounds read or a huge allocation (README, "What the trainer guarantees").
public enum ModelValidation {
    /// Learnable parameters of the network (the flat buffer's length), or nil when the count
    /// overflows.
    public static func parameterCount(_ config: ModelConfig) -> Int? {
        guard config.inputs >= 1, config.classes >= 1, config.hidden.allSatisfy({ $0 >= 1 }) else { return nil }
        let sizes = config.sizes
        let activation = config.activation.kind.parameters.count
        // Per output unit: the bias, the norm's weight and bias (BatchNorm or LayerNorm), per-channel activation parameters.
        let perWidth = 1 + (config.norm.kind == .none ? 0 : 2) + (config.activation.perChannel ? activation : 0)
        var total = 0
        for layer in 0...config.hidden.count {
            let hidden = layer < config.hidden.count
            let width = sizes[layer + 1]
            let scalars = hidden && !config.activation.perChannel ? activation : 0
            guard let weights = checkedProduct([width, sizes[layer]]), let rest = checkedProduct([width, hidden ? perWidth : 1]),
                  let sum = checkedSum([total, weights, rest, scalars]) else { return nil }
            total = sum
        }
        return total
    }

    /// The product of `dimensions`, or nil when one is negative or the product overflows.
    public static func checkedProduct(_ dimensions: [Int]) -> Int? {
        var product = 1
        for d in dimensions {
            guard d >= 0 else { return nil }
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            product = p
        }
        return product
    }

    /// The sum of `terms`, or nil when it overflows.
    public static func checkedSum(_ terms: [Int]) -> Int? {
        var sum = 0
        for t in terms {
            let (s, overflow) = sum.addingReportingOverflow(t)
            if overflow { return nil }
            sum = s
        }
        return sum
    }

    /// The metadata's network against the tensors' total size: a file cannot describe more
    /// parameters than it holds.
    static func checkNetwork(_ config: ModelConfig, tensorBytes: Int, source: String) throws {
        guard config.inputs >= 1 else { throw ArtifactError("\(source): metadata 'inputs' is \(config.inputs); must be at least 1") }
        let outputs = config.task.isRegression ? "exactly 1 for regression" : "at least 2"
        guard config.task.isRegression ? config.classes == 1 : config.classes >= 2 else {
            throw ArtifactError("\(source): metadata 'classes' is \(config.classes); must be \(outputs)")
        }
        guard !config.hidden.isEmpty, config.hidden.allSatisfy({ $0 >= 1 }) else {
            throw ArtifactError("\(source): metadata 'hidden' must list positive widths, got \(config.hidden)")
        }
        guard config.dropout >= 0, config.dropout < 1 else { throw ArtifactError("\(source): metadata 'dropout' \(config.dropout) is not in [0, 1)") }
        guard let count = parameterCount(config), count <= tensorBytes / 4 else {
            throw ArtifactError("\(source): metadata describes a network (\(config.sizes.map(String.init).joined(separator: "-"))) larger than the file's tensors")
        }
    }

    /// Class labels, feature names and standardisation against the network's shape.
    static func checkDescription(_ checkpoint: Checkpoint, source: String) throws {
        let config = checkpoint.model.config
        if let t = checkpoint.targetScaling, !(t.mean.isFinite && t.std.isFinite && t.std > 0) {
            throw ArtifactError("\(source): the target's standardisation (mean \(t.mean), std \(t.std)) needs a finite mean and a positive finite std")
        }
        guard checkpoint.classLabels.count == (config.task.isRegression ? 0 : config.classes) else {
            throw ArtifactError("\(source): metadata lists \(checkpoint.classLabels.count) class labels for a network with \(config.classes) outputs")
        }
        guard Set(checkpoint.classLabels).count == checkpoint.classLabels.count else {
            throw ArtifactError("\(source): metadata 'class_labels' has a label twice")
        }
        guard checkpoint.featureNames.count == config.inputs else {
            throw ArtifactError("\(source): metadata lists \(checkpoint.featureNames.count) feature names for a network with \(config.inputs) inputs")
        }
        if let m = checkpoint.featureMedians {
            guard checkpoint.encoding == nil else {
                throw ArtifactError("\(source): metadata has both 'feature_medians' and 'column_encoding' (which holds the medians)")
            }
            guard m.count == config.inputs, m.allSatisfy(\.isFinite) else {
                throw ArtifactError("\(source): metadata 'feature_medians' needs \(config.inputs) finite values, has \(m)")
            }
        }
        guard let s = checkpoint.standardizer else { return }
        for (name, values) in [("standardize_mean", s.mean), ("standardize_std", s.std)] where values.count != config.inputs {
            throw ArtifactError("\(source): metadata '\(name)' has \(values.count) values for \(config.inputs) features")
        }
        if let j = s.mean.indices.first(where: { !s.mean[$0].isFinite || !(s.std[$0].isFinite && s.std[$0] > 0) }) {
            throw ArtifactError("\(source): feature \(j + 1)'s standardisation (mean \(s.mean[j]), std \(s.std[j])) needs a finite mean and a positive finite std")
        }
    }

    /// Names of the tensors holding a NaN or an infinity (the model loads, but its outputs may be NaN).
    public static func nonFiniteTensors(_ model: Model) -> [String] {
        let layout = model.layout
        let parameters = layout.parameters.filter { t in model.parameters[t.offset..<(t.offset + t.count)].contains { !$0.isFinite } }
        let buffers = layout.buffers.filter { t in model.buffers[t.offset..<(t.offset + t.count)].contains { !$0.isFinite } }
        return (parameters + buffers).map(\.name)
    }
}
