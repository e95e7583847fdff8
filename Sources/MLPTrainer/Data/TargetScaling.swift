/// The regression target's standardisation t' = (t - mean) / std, fitted on the training rows
/// (population std, as the features' `Standardizer`; a constant target gets std 1). The network
/// learns t'; predictions are scaled back to the target's units. Stored with the model
/// (`target_mean`, `target_std`).
public struct TargetScaling: Sendable, Equatable {
    public var mean: Float
    public var std: Float

    public init(mean: Float, std: Float) {
        self.mean = mean
        self.std = std
    }

    /// Two passes in double: the mean, then the mean squared deviation from it.
    public init(fitting values: [Double]) {
        let n = Double(max(values.count, 1))
        let m = values.reduce(0, +) / n
        let s = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        mean = Float(m)
        std = s > 1e-12 ? Float(s) : 1
    }

    public func standardized(_ values: [Double]) -> [Float] {
        values.map { (Float($0) - mean) / std }
    }

    /// Network outputs in the target's units.
    public func original(_ outputs: [Float]) -> [Float] {
        outputs.map { $0 * std + mean }
    }
}
