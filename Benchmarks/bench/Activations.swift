import ArgumentParser
import CKernels
import Foundation

/// `bench activations`: forward and fused backward throughput of every activation kernel, against
/// a plain memcpy of the same number of bytes measured in the same run.
struct Activations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GB/s of every activation kernel, forward and backward, against memcpy of the same bytes.",
        discussion: """
            Bytes counted: forward reads x and writes y (8 bytes per element); backward reads x and dy and \
            writes dx (12 bytes per element; softexp's also reads the forward's y, not counted); memcpy of n \
            floats moves 8n bytes. The backward gets the y its forward just wrote, as in training. JSON \
            fields per activation and size: activation, isa, rows, cols, forward_s, backward_s, forward_gbs, backward_gbs, \
            elements_per_s, gbs, copy_gbs, vs_copy, vs_affine (null without affine).
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Matrix shapes, rows x cols.") var sizes = "1024x512,8192x1024"
    @Option(help: "Force an instruction set: scalar, avx2, avx512 (default: the best one).") var isa: InstructionSet?
    @Option(help: "Only these activations, by name (e.g. swish,srelu).") var only: String?

    struct Case {
        var label: String
        var kind: ck_activation
        var params: (Int) -> [Float]  // cols -> parameter buffer
        var perChannel: Bool
    }

    struct Result: Encodable {
        var activation: String, isa: String
        var rows: Int, cols: Int
        var forwardS: Double, backwardS: Double
        var forwardGbs: Double, backwardGbs: Double
        var elementsPerS: Double, gbs: Double
        var copyGbs: Double, vsCopy: Double
        /// Time against affine's at the same size; null when affine was not measured (--only).
        var vsAffine: Nullable<Double>
    }

    static func cases() -> [Case] {
        func scalar(_ kind: ck_activation, _ p: [Float]) -> Case {
            Case(label: String(cString: ck_act_name(kind)), kind: kind, params: { _ in p }, perChannel: false)
        }
        let srelu = Case(label: "srelu", kind: CK_ACT_SRELU, params: { cols in
            [-0.5, 0.2, 0.8, 1.1].flatMap { [Float](repeating: $0, count: cols) }
        }, perChannel: true)
        return [
            scalar(CK_ACT_AFFINE, [0.3, -0.7]),
            Case(label: "softexp(a>0)", kind: CK_ACT_SOFTEXP, params: { _ in [0.35] }, perChannel: false),
            Case(label: "softexp(a<0)", kind: CK_ACT_SOFTEXP, params: { _ in [-0.15] }, perChannel: false),
            srelu, scalar(CK_ACT_BRELU, []), scalar(CK_ACT_ISRU, [0.8]), scalar(CK_ACT_SWISH, [1.3]),
            scalar(CK_ACT_SILU, []), scalar(CK_ACT_RELU, []), scalar(CK_ACT_LEAKY_RELU, []),
            scalar(CK_ACT_TANH, []), scalar(CK_ACT_SIGMOID, []), scalar(CK_ACT_GELU, []),
        ]
    }

    static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
    }

    func run() throws {
        let shapes = try sizes.split(separator: ",").map { text in
            let p = text.split(separator: "x").compactMap { Int($0) }
            guard p.count == 2, p.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--sizes: bad shape '\(text)'") }
            return (rows: p[0], cols: p[1])
        }
        if let isa { _ = ck_isa_force(isa.kernels) }
        let isaName = String(cString: ck_isa_name(ck_isa_active()))
        let wanted = only.map { Set($0.split(separator: ",").map(String.init)) }
        let reporter = Reporter(bench: "activations", options: options)
        reporter.line("Activation kernels, \(isaName); GB/s counts fwd: x + y, bwd: x + dy + dx; copy = memcpy of the same bytes")
        for (rows, cols) in shapes {
            let n = rows * cols
            let x = Self.alloc(n), y = Self.alloc(n), dy = Self.alloc(n), dx = Self.alloc(n)
            defer { for p in [x, y, dy, dx] { p.deallocate() } }
            var state: UInt32 = 12345
            for j in 0..<n {
                state = state &* 1_664_525 &+ 1_013_904_223
                x[j] = Float(state >> 8) / Float(1 << 24) * 6 - 3
                state = state &* 1_664_525 &+ 1_013_904_223
                dy[j] = Float(state >> 8) / Float(1 << 24) * 2 - 1
            }
            let copyGbs = 8 * Double(n) / Timing.median(Timing.perCall(options) { memcpy(y, x, n * 4) }) / 1e9
            reporter.line("\n\(rows)x\(cols) float32 (\(fixed(Double(n) * 4 / 1e6, 0)) MB per array), copy \(fixed(copyGbs, 0)) GB/s")
            reporter.line("activation     fwd GB/s  bwd GB/s  fwd+bwd Gelem/s  fwd+bwd GB/s  vs copy  time vs affine")
            var affineSeconds: Double?
            for c in Self.cases() where wanted.map({ $0.contains(c.label) || $0.contains(String(cString: ck_act_name(c.kind))) }) ?? true {
                let params = c.params(cols)
                var grads = [Float](repeating: 0, count: max(params.count, 1))
                let p = params.isEmpty ? [Float(0)] : params
                let pc: Int32 = c.perChannel ? 1 : 0
                let forward = Timing.median(Timing.perCall(options) {
                    ck_act_forward(c.kind, x, y, Int64(rows), Int64(cols), p, pc)
                })
                let backward = Timing.median(Timing.perCall(options) {
                    ck_act_backward(c.kind, x, y, dy, dx, Int64(rows), Int64(cols), p, pc, &grads)
                })
                let both = forward + backward
                if c.kind == CK_ACT_AFFINE { affineSeconds = both }
                let gbs = 20 * Double(n) / both / 1e9
                let r = Result(activation: c.label, isa: isaName, rows: rows, cols: cols, forwardS: forward, backwardS: backward,
                               forwardGbs: 8 * Double(n) / forward / 1e9, backwardGbs: 12 * Double(n) / backward / 1e9,
                               elementsPerS: Double(n) / both, gbs: gbs, copyGbs: copyGbs, vsCopy: gbs / copyGbs,
                               vsAffine: Nullable(value: affineSeconds.map { both / $0 }))
                reporter.result(r, line: c.label.rightPadded(14) + fixed(r.forwardGbs, 9) + fixed(r.backwardGbs, 10)
                    + fixed(r.elementsPerS / 1e9, 17, 2) + fixed(gbs, 14) + fixed(r.vsCopy, 8, 2) + "x" + (r.vsAffine.value.map { fixed($0, 14, 2) + "x" } ?? "-".leftPadded(15)))
            }
        }
    }
}
