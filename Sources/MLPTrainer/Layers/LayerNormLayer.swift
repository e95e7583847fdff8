import CKernels

/// LayerNorm over each row's features (`ln{i}.weight`, `ln{i}.bias`, initialised to 1 and 0):
/// PyTorch's nn.LayerNorm(width). Per row, so it needs nothing from other shards.
final class LayerNormLayer: Layer {
    let width: Int
    let epsilon: Float
    let weight: Int, bias: Int

    init(_ index: Int, width: Int, epsilon: Float, layout: inout ParameterLayout) {
        self.width = width
        self.epsilon = epsilon
        weight = layout.addParameter("ln\(index).weight", [width])
        bias = layout.addParameter("ln\(index).bias", [width])
    }

    /// xhat (rows x width), then 1/std per row.
    func savedCount(rows: Int) -> Int { rows * (width + 1) }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        for c in 0..<width { parameters[weight + c] = 1 }
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        for ws in shards {
            let xhat = ws.saved[i].pointer
            ck_ln_forward(ws.input(of: i), p + weight, p + bias, epsilon, xhat, xhat + ws.capacity * width, ws.outputs[i].pointer,
                          Int64(ws.rows), Int64(width))
        }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        for ws in shards {
            let xhat = ws.saved[i].pointer, g = ws.gradient.pointer
            ck_ln_backward(ws.gradientOut.pointer, xhat, xhat + ws.capacity * width, p + weight, ws.gradientIn.pointer,
                           g + weight, g + bias, Int64(ws.rows), Int64(width))
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        let p = model.parameters
        ck_ln_forward(ws.input(of: i), p + weight, p + bias, epsilon, nil, nil, ws.outputs[i].pointer, Int64(ws.rows), Int64(width))
    }
}
