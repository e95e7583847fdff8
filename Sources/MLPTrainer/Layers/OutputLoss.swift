/// The loss after the last layer (`Network.loss`): classification's log-softmax + NLL or
/// regression's squared error or Huber loss. Both reduce to the mean over the whole batch.
protocol OutputLoss: Sendable {
    /// Training: the shard's summed loss and correct rows into the workspace, and d(mean
    /// loss)/d(outputs) into `gradientOut` (the last layer's backward reads it).
    func forwardBackward(_ ws: ShardWorkspace, outputs: UnsafePointer<Float>, batch: LossBatch)
    /// Evaluation: the block's summed loss and correct rows; when asked, per row what the caller
    /// reads (log-probabilities, or the standardised prediction) and the predicted class.
    func evaluate(_ ws: ShardWorkspace, outputs: UnsafePointer<Float>, rowOutputs: UnsafeMutablePointer<Float>?,
                  predictions: UnsafeMutablePointer<Int32>?) -> (loss: Double, correct: Int64)
}

/// What the training loss needs of the whole batch: its rows, and for classification the class
/// weights (`--class-weight`; nil: all 1) and the batch's total weight (its rows when unweighted).
struct LossBatch {
    let rows: Int
    let classWeights: UnsafePointer<Float>?
    let totalWeight: Double
}
