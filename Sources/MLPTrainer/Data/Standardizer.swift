/// Per-feature standardisation x' = (x - mean) / std, fitted on the training split (population std,
/// as scikit-learn's StandardScaler; a constant feature gets std 1) and stored with the model.
public struct Standardizer: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    public init(fitting data: Dataset) {
        let f = data.featureCount, n = data.rows
        var sum = [Double](repeating: 0, count: f), sumSquares = [Double](repeating: 0, count: f)
        data.features.withUnsafeBufferPointer { x in
            sum.withUnsafeMutableBufferPointer { s in
                sumSquares.withUnsafeMutableBufferPointer { q in
                    for r in 0..<n {
                        let row = x.baseAddress! + r * f
                        for j in 0..<f {
                            let v = Double(row[j])
                            s[j] += v
                            q[j] += v * v
                        }
                    }
                }
            }
        }
        mean = sum.map { Float($0 / Double(max(n, 1))) }
        std = (0..<f).map { j in
            let m = sum[j] / Double(max(n, 1))
            let variance = max(sumSquares[j] / Double(max(n, 1)) - m * m, 0)
            let s = variance.squareRoot()
            return s > 1e-12 ? Float(s) : 1
        }
    }

    /// Standardises every row of `data` in place.
    public func apply(to data: inout Dataset) {
        let f = data.featureCount, rows = data.rows
        let scale = std.map { 1 / $0 }
        data.features.withUnsafeMutableBufferPointer { x in
            mean.withUnsafeBufferPointer { m in
                scale.withUnsafeBufferPointer { s in
                    for r in 0..<rows {
                        let row = x.baseAddress! + r * f
                        for j in 0..<f { row[j] = (row[j] - m[j]) * s[j] }
                    }
                }
            }
        }
    }
}
