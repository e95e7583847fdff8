/// Regression's loss on the one output unit against the standardised target (`ws.targetsIn`),
/// as PyTorch's `MSELoss()` and `HuberLoss(delta=1)` compute it: per row d = output - target,
/// loss d^2 or (|d| < 1 ? d^2 / 2 : |d| - 1/2), mean over the batch. One float per row: the
/// network's layers dominate the step, so plain Swift is enough here.
struct RegressionOutputLoss: OutputLoss {
    let kind: RegressionLoss

    func forwardBackward(_ ws: ShardWorkspace, outputs: UnsafePointer<Float>, batch: LossBatch) {
        let targets = ws.targetsIn!, gradient = ws.gradientOut.pointer
        // PyTorch's backward multiplies by its double factor (2/N or 1/N) rounded to float.
        let scale = Float((kind == .mse ? 2 : 1) / Double(batch.rows))
        var sum = 0.0
        for r in 0..<ws.rows {
            let d = outputs[r] - targets[r]
            sum += loss(d)
            gradient[r] = slope(d) * scale
        }
        ws.loss = sum
        ws.correct = 0
    }

    func evaluate(_ ws: ShardWorkspace, outputs: UnsafePointer<Float>, rowOutputs: UnsafeMutablePointer<Float>?,
                  predictions: UnsafeMutablePointer<Int32>?) -> (loss: Double, correct: Int64) {
        rowOutputs?.update(from: outputs, count: ws.rows)
        predictions?.update(repeating: 0, count: ws.rows)
        // Without targets (`predict` on new rows) there is no loss.
        guard let targets = ws.targetsIn else { return (0, 0) }
        var sum = 0.0
        for r in 0..<ws.rows { sum += loss(outputs[r] - targets[r]) }
        return (sum, 0)
    }

    private func loss(_ d: Float) -> Double {
        let x = Double(d)
        switch kind {
        case .mse: return x * x
        case .huber: return abs(x) < 1 ? 0.5 * x * x : abs(x) - 0.5
        }
    }

    /// d(loss)/d(d), before the batch mean: 2d is folded into the scale for MSE.
    private func slope(_ d: Float) -> Float {
        switch kind {
        case .mse: return d
        case .huber: return min(max(d, -1), 1)
        }
    }
}
