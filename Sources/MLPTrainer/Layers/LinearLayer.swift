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
        for ws in shards { apply(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, step.parameters) }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards {
            // The first layer's input gradient is not needed.
            backward(input: ws.input(of: i), outputGradient: ws.gradientOut.pointer, inputGradient: i > 0 ? ws.gradientIn.pointer : nil,
                     rows: ws.rows, step.parameters, gradient: ws.gradient.pointer)
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        apply(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, model.parameters)
    }

    /// y = x W^T + b over `rows` rows.
    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, _ p: UnsafePointer<Float>) {
        ck_linear_forward(x, p + weight, p + bias, y, Int64(rows), Int64(fanIn), Int64(width))
    }

    /// dx = dy W only (`backward` without its input gradient then adds dW and db).
    func inputGradient(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, rows: Int, _ p: UnsafePointer<Float>) {
        ck_linear_backward(nil, p + weight, dy, dx, nil, nil, Int64(rows), Int64(fanIn), Int64(width))
    }

    /// dx = dy W (when `inputGradient` is given); accumulates dW and db into `gradient`.
    func backward(input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
                  rows: Int, _ p: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>) {
        ck_linear_backward(x, p + weight, dy, dx, g + weight, g + bias, Int64(rows), Int64(fanIn), Int64(width))
    }
}
