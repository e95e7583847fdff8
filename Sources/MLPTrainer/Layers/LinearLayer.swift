import CKernels

/// Linear (`fc{i}.weight` [out, in], `fc{i}.bias` [out]): y = x W^T + b. PyTorch's initialisation:
/// weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
final class LinearLayer: Layer {
    let fanIn: Int
    let width: Int
    let weight: Int, bias: Int

    init(_ index: Int, fanIn: Int, width: Int, layout: inout ParameterLayout) {
        self.fanIn = fanIn
        self.width = width
        weight = layout.addParameter("fc\(index).weight", [width, fanIn])
        bias = layout.addParameter("fc\(index).bias", [width])
    }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        let bound = 1 / Float(fanIn).squareRoot()
        for i in 0..<(width * fanIn) { parameters[weight + i] = rng.uniform(-bound, bound) }
        for i in 0..<width { parameters[bias + i] = rng.uniform(-bound, bound) }
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards { apply(ws, i, step.parameters) }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        let p = step.parameters
        for ws in shards {
            let g = ws.gradient.pointer
            // The first layer's input gradient is not needed.
            ck_linear_backward(ws.input(of: i), p + weight, ws.gradientOut.pointer, i > 0 ? ws.gradientIn.pointer : nil,
                               g + weight, g + bias, Int64(ws.rows), Int64(fanIn), Int64(width))
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) { apply(ws, i, model.parameters) }

    private func apply(_ ws: ShardWorkspace, _ i: Int, _ p: UnsafePointer<Float>) {
        ck_linear_forward(ws.input(of: i), p + weight, p + bias, ws.outputs[i].pointer, Int64(ws.rows), Int64(fanIn), Int64(width))
    }
}
