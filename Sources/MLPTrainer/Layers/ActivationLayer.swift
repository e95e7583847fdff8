import CKernels

/// A learnable activation (`a{i}.<param>`: 0-dim per layer, or [width] per channel), one of the
/// kernels' table (`ActivationSpec.kinds`), initialised to the spec's values.
final class ActivationLayer: Layer {
    let spec: ActivationSpec
    let width: Int
    /// Offset of the first parameter; parameter p of channel c is at first + p * slots + c.
    let first: Int
    private var slots: Int { spec.perChannel ? width : 1 }

    init(_ index: Int, _ spec: ActivationSpec, width: Int, layout: inout ParameterLayout) {
        self.spec = spec
        self.width = width
        let shape = spec.perChannel ? [width] : []
        first = layout.parameterCount
        for parameter in spec.kind.parameters { _ = layout.addParameter("a\(index).\(parameter.name)", shape) }
    }

    func initialize(parameters: inout [Float], buffers: inout [Float], rng: inout SplitMix64) {
        for (p, value) in spec.initialValues.enumerated() {
            for c in 0..<slots { parameters[first + p * slots + c] = value }
        }
    }

    var parameterFloors: [(range: Range<Int>, floor: Float)] {
        spec.kind.parameters.indices.compactMap { p in
            spec.kind.parameters[p].floor.map { ((first + p * slots)..<(first + (p + 1) * slots), $0) }
        }
    }

    func forward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards { apply(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, step.parameters) }
    }

    func backward(_ shards: ArraySlice<ShardWorkspace>, _ i: Int, _ step: StepContext, worker: Int) {
        for ws in shards {
            backward(input: ws.input(of: i), output: ws.outputs[i].pointer, outputGradient: ws.gradientOut.pointer,
                     inputGradient: ws.gradientIn.pointer, rows: ws.rows, step.parameters, gradient: ws.gradient.pointer)
        }
    }

    func infer(_ ws: ShardWorkspace, _ i: Int, _ model: InferenceContext) {
        apply(ws.input(of: i), into: ws.outputs[i].pointer, rows: ws.rows, model.parameters)
    }

    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, _ p: UnsafePointer<Float>) {
        ck_act_forward(spec.kind.kernel, x, y, Int64(rows), Int64(width), p + first, spec.perChannel ? 1 : 0)
    }

    /// alpha and beta when the activation is affine, a = alpha + beta * x (the fused narrow block's
    /// kernels apply it inside their passes), with whether they are per channel; nil for other kinds.
    func affineCoefficients(_ p: UnsafePointer<Float>) -> (alpha: UnsafePointer<Float>, beta: UnsafePointer<Float>, perChannel: Bool)? {
        guard spec.kind.kernel == CK_ACT_AFFINE else { return nil }
        return (p + first, p + first + slots, spec.perChannel)
    }

    /// dx from dy, the forward's input x and its output y (nil for the kinds that do not read it, see
    /// `ck_act_backward`); accumulates the parameters' gradients into `gradient`.
    func backward(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>?, outputGradient dy: UnsafePointer<Float>,
                  inputGradient dx: UnsafeMutablePointer<Float>, rows: Int, _ p: UnsafePointer<Float>,
                  gradient g: UnsafeMutablePointer<Float>) {
        ck_act_backward(spec.kind.kernel, x, y, dy, dx, Int64(rows), Int64(width), p + first, spec.perChannel ? 1 : 0, g + first)
    }
}
