import ArgumentParser
import CKernels
import Foundation

/// `bench activations`: forward and fused backward throughput of every activation kernel, against
/// affine's and a plain memcpy's of the same number of bytes, timed in turns with each.
struct Activations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GB/s of every activation kernel, forward and backward, against affine and memcpy of the same bytes.",
        discussion: """
            Bytes counted: forward reads x and writes y (8 bytes per element); backward reads x and dy and \
            writes dx (12 bytes per element; softexp's also reads the forward's y, not counted); memcpy of n \
            floats moves 8n bytes. The backward gets the y its forward just wrote, as in training. Each \
            activation is timed in --repeat rounds; a round times its forward, its backward, affine's forward \
            and backward and the copy one after the other, so the ratios are taken round by round and their \
            median reported (the machine's speed drifts between rounds: affine and copy are memory-bound and \
            move with other processes' traffic, so a ratio to figures timed at another moment says little). \
            The GB/s columns are medians of each kernel's own times. JSON fields per activation and size: \
            activation, isa, rows, cols, forward_s, backward_s, forward_gbs, backward_gbs, elements_per_s, gbs, \
            copy_gbs, affine_s (affine's forward + backward, median over the same rounds), pairs (rounds), \
            vs_copy (median over rounds of the activation's GB/s against the copy's), vs_affine (median \
            over rounds of the activation's forward + backward time against affine's).
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Matrix shapes, rows x cols.") var sizes = "1024x512,8192x1024"
    @Option(help: "Force an instruction set: scalar, avx2, avx512 (default: the best one).") var isa: InstructionSet?
    @Option(help: "Only these activations, by name (e.g. swish,srelu); affine is timed beside each anyway.") var only: String?

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
        var copyGbs: Double, affineS: Double, pairs: Int
        var vsCopy: Double, vsAffine: Double
    }

    static func scalarCase(_ kind: ck_activation, _ p: [Float]) -> Case {
        Case(label: String(cString: ck_act_name(kind)), kind: kind, params: { _ in p }, perChannel: false)
    }

    /// The yardstick every case is timed beside.
    static var affine: Case { scalarCase(CK_ACT_AFFINE, [0.3, -0.7]) }

    static func cases() -> [Case] {
        let srelu = Case(label: "srelu", kind: CK_ACT_SRELU, params: { cols in
            [-0.5, 0.2, 0.8, 1.1].flatMap { [Float](repeating: $0, count: cols) }
        }, perChannel: true)
        return [
            affine,
            Case(label: "softexp(a>0)", kind: CK_ACT_SOFTEXP, params: { _ in [0.35] }, perChannel: false),
            Case(label: "softexp(a<0)", kind: CK_ACT_SOFTEXP, params: { _ in [-0.15] }, perChannel: false),
            srelu, scalarCase(CK_ACT_BRELU, []), scalarCase(CK_ACT_ISRU, [0.8]), scalarCase(CK_ACT_SWISH, [1.3]),
            scalarCase(CK_ACT_SILU, []), scalarCase(CK_ACT_RELU, []), scalarCase(CK_ACT_LEAKY_RELU, []),
            scalarCase(CK_ACT_TANH, []), scalarCase(CK_ACT_SIGMOID, []), scalarCase(CK_ACT_GELU, []),
        ]
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
        reporter.line("Activation kernels, \(isaName); GB/s counts fwd: x + y, bwd: x + dy + dx; copy = memcpy of the same bytes.")
        reporter.line("Ratios: medians over \(options.repeats) rounds, each timing the activation, affine and the copy in turn.")
        for (rows, cols) in shapes {
            let arrays = Arrays(rows: rows, cols: cols)
            defer { arrays.deallocate() }
            reporter.line("\n\(rows)x\(cols) float32 (\(fixed(Double(rows * cols) * 4 / 1e6, 0)) MB per array)")
            reporter.line("activation     fwd GB/s  bwd GB/s  fwd+bwd Gelem/s  fwd+bwd GB/s  copy GB/s  vs copy  time vs affine")
            for c in Self.cases() where wanted.map({ $0.contains(c.label) || $0.contains(String(cString: ck_act_name(c.kind))) }) ?? true {
                let r = measure(c, arrays, isa: isaName)
                reporter.result(r, line: c.label.rightPadded(14) + fixed(r.forwardGbs, 9) + fixed(r.backwardGbs, 10)
                    + fixed(r.elementsPerS / 1e9, 17, 2) + fixed(r.gbs, 14) + fixed(r.copyGbs, 11)
                    + fixed(r.vsCopy, 8, 2) + "x" + fixed(r.vsAffine, 15, 2) + "x")
            }
        }
    }

    /// The bench's arrays: x uniform in [-3, 3) and dy in [-1, 1) (a fixed LCG); y and dx are written.
    struct Arrays {
        let rows: Int, cols: Int
        let x, y, dy, dx: UnsafeMutablePointer<Float>

        init(rows: Int, cols: Int) {
            self.rows = rows
            self.cols = cols
            let n = rows * cols
            func alloc() -> UnsafeMutablePointer<Float> {
                UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
            }
            (x, y, dy, dx) = (alloc(), alloc(), alloc(), alloc())
            var state: UInt32 = 12345
            for j in 0..<n {
                state = state &* 1_664_525 &+ 1_013_904_223
                x[j] = Float(state >> 8) / Float(1 << 24) * 6 - 3
                state = state &* 1_664_525 &+ 1_013_904_223
                dy[j] = Float(state >> 8) / Float(1 << 24) * 2 - 1
            }
        }

        func deallocate() { for p in [x, y, dy, dx] { p.deallocate() } }

        /// One forward and one backward call of `c`, as closures (the backward gets the y its forward wrote).
        func calls(_ c: Case) -> (forward: () -> Void, backward: () -> Void) {
            let params = c.params(cols)
            let p = params.isEmpty ? [Float(0)] : params
            var grads = [Float](repeating: 0, count: p.count)
            let pc: Int32 = c.perChannel ? 1 : 0
            let (x, y, dy, dx, rows, cols) = (x, y, dy, dx, Int64(rows), Int64(cols))
            return ({ ck_act_forward(c.kind, x, y, rows, cols, p, pc) },
                    { ck_act_backward(c.kind, x, y, dy, dx, rows, cols, p, pc, &grads) })
        }
    }

    /// Times `c` in rounds with affine and a copy of the same bytes beside it. A round runs copy, c,
    /// copy, affine: each kernel's forward follows the same copy, whose traffic leaves the caches in a
    /// state that changes affine's forward time by up to 1.5x (affine timed right after the copy and
    /// again after c's backward came out 1.2-1.4x "against itself"). The copy writes dx, which nothing reads; each forward
    /// runs before its backward, so the backward reads its own y.
    func measure(_ c: Case, _ a: Arrays, isa: String) -> Result {
        let n = a.rows * a.cols
        let (f, b) = a.calls(c), (af, ab) = a.calls(Self.affine)
        let (x, dx) = (a.x, a.dx)
        let copy = { _ = memcpy(dx, x, n * 4) }
        let t = Timing.interleaved(options, [copy, f, b, copy, af, ab])
        let both = zip(t[1], t[2]).map(+), affine = zip(t[4], t[5]).map(+), copies = zip(t[0], t[3]).map { ($0 + $1) / 2 }
        let (forward, backward, copyS) = (Timing.median(t[1]), Timing.median(t[2]), Timing.median(copies))
        let seconds = Timing.median(both)
        return Result(activation: c.label, isa: isa, rows: a.rows, cols: a.cols, forwardS: forward, backwardS: backward,
                      forwardGbs: 8 * Double(n) / forward / 1e9, backwardGbs: 12 * Double(n) / backward / 1e9,
                      elementsPerS: Double(n) / seconds, gbs: 20 * Double(n) / seconds / 1e9,
                      copyGbs: 8 * Double(n) / copyS / 1e9, affineS: Timing.median(affine), pairs: both.count,
                      // 20 bytes an element in `both` against the copy's 8 in the same round.
                      vsCopy: Timing.median(zip(copies, both).map { 2.5 * $0 / $1 }),
                      vsAffine: Timing.median(zip(both, affine).map(/)))
    }
}
