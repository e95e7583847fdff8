/// An estimate of the bytes one full-batch training step of a narrow BatchNorm network (the seed's:
/// Linear -> activation -> BatchNorm -> Dropout blocks, then Linear and log-softmax) reads and writes
/// in memory, from the passes each kernel makes over its rows (ARCHITECTURE.md, "Fused narrow
/// blocks"). Per row, in floats; buffers a pass has just written in the cache are not counted.
struct StepTraffic {
    var readFloats = 0, writtenFloats = 0

    /// `sizes`: inputs, hidden widths, classes. `fused`: the blocks run as chained `NarrowBlockLayer`s.
    init(sizes: [Int], fused: Bool) {
        let blocks = Array(zip(sizes.dropLast(2), sizes.dropFirst().dropLast()))
        for (b, (k, w)) in blocks.enumerated() {
            let inputGradient = b > 0 ? k : 0
            if fused {
                // Forward: x (or the previous block's z, to recompute x) -> z; backward: dy, z and x (again
                // the previous z) -> dx, masked and summed for the previous block. The last block also
                // writes its output from z, and masks and sums its dy in a pass of its own.
                let last = b == blocks.count - 1 ? 1 : 0
                readFloats += 2 * k + 2 * w + last * 3 * w
                writtenFloats += w + last * 2 * w + inputGradient
            } else {
                // Forward: Linear (the bias rows, then the product added to them), activation,
                // BatchNorm's statistics and normalisation (xhat and y), dropout. Backward: dropout,
                // BatchNorm's sums and dx, the activation, Linear's dx, dW and db.
                readFloats += (k + 4 * w) + (9 * w + k)
                writtenFloats += 6 * w + 3 * w + inputGradient
            }
        }
        // The last Linear and the loss: logits written twice, read by the loss (with the labels), which
        // writes their gradient; the backward's dx, dW and db each read it.
        let k = sizes[sizes.count - 2], c = sizes[sizes.count - 1]
        readFloats += (k + c) + (c + 1) + (c + c + k + c)
        writtenFloats += 2 * c + c + k
    }

    /// Bytes per step of `rows` rows.
    func bytes(rows: Int) -> (read: Double, written: Double) {
        (Double(readFloats * 4 * rows), Double(writtenFloats * 4 * rows))
    }
}
