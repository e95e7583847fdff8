import CKernels

/// The loss after the last layer: log-softmax + mean negative log-likelihood over the whole batch.
struct LogSoftmaxLoss: OutputLoss {
    let classes: Int

    /// Training: the shard's summed (class-weighted) loss and correct rows, and d(mean loss)/d(logits)
    /// into `gradientOut` (the last layer's backward reads it). The mean divides by the batch's total
    /// weight (its rows when unweighted), PyTorch's CrossEntropyLoss(weight=) mean.
    func forwardBackward(_ ws: ShardWorkspace, outputs logits: UnsafePointer<Float>, batch: LossBatch) {
        let scale = batch.classWeights == nil ? 1 / Float(batch.rows) : Float(1 / batch.totalWeight)
        ws.correct = 0
        ws.loss = ck_logsoftmax_nll_weighted(logits, ws.labelsIn, Int64(ws.rows), Int64(classes), batch.classWeights, nil,
                                             ws.gradientOut.pointer, scale, &ws.correct)
    }

    /// Evaluation: the summed loss and correct rows, and when asked the log-probabilities and each
    /// row's predicted class (the first largest logit).
    func evaluate(_ ws: ShardWorkspace, outputs logits: UnsafePointer<Float>, rowOutputs logProbabilities: UnsafeMutablePointer<Float>?,
                  predictions: UnsafeMutablePointer<Int32>?) -> (loss: Double, correct: Int64) {
        var correct: Int64 = 0
        let loss = ck_logsoftmax_nll(logits, ws.labelsIn, Int64(ws.rows), Int64(classes), logProbabilities, nil, 0, &correct)
        guard let predictions else { return (loss, correct) }
        for r in 0..<ws.rows {
            let z = logits + r * classes
            var best = 0
            for c in 1..<classes where z[c] > z[best] { best = c }
            predictions[r] = Int32(best)
        }
        return (loss, correct)
    }
}
