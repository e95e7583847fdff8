// Activation kernels: PyTorch fixtures, every instruction set against the scalar reference on odd
// shapes, finite differences for dx and every parameter gradient, per-channel layouts.
// ck_isa_force applies to the calling thread; the suite runs serialized and each test restores
// the best instruction set when it is done.
import CKernels
import Foundation
import Testing

// MARK: - helpers

private let allKinds: [ck_activation] = (0..<CK_ACT_COUNT.rawValue).map { ck_activation(rawValue: $0) }

private func actName(_ kind: ck_activation) -> String { String(cString: ck_act_name(kind)) }

private func kind(named name: String) -> ck_activation {
    allKinds.first { actName($0) == name }!
}

private func paramNames(_ kind: ck_activation) -> [String] {
    (0..<ck_act_param_count(kind)).map { String(cString: ck_act_param_name(kind, $0)) }
}

private var supportedISAs: [ck_isa] {
    [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512].filter { ck_isa_supported($0) != 0 }
}

/// Runs body with `isa` forced, then restores the best one.
private func withISA<T>(_ isa: ck_isa, _ body: () throws -> T) rethrows -> T {
    _ = ck_isa_force(isa)
    defer { _ = ck_isa_force(ck_isa_best()) }
    return try body()
}

/// SplitMix64: deterministic test data.
private struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// Roughly normal (sum of uniforms), scaled.
    mutating func normal(_ scale: Float) -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += uniform(-1, 1) }
        return s * 0.866 * scale
    }
}

private struct Output {
    var y: [Float]
    var dx: [Float]
    var grads: [Float]
}

/// Forward and backward of `kind` with the active instruction set.
private func run(_ kind: ck_activation, x: [Float], dy: [Float], rows: Int, cols: Int, params: [Float],
                 perChannel: Bool) -> Output {
    var y = [Float](repeating: .nan, count: x.count)
    var dx = [Float](repeating: .nan, count: x.count)
    var grads = [Float](repeating: 0, count: max(params.count, 1))
    let p = params.isEmpty ? [Float(0)] : params
    ck_act_forward(kind, x, &y, Int64(rows), Int64(cols), p, perChannel ? 1 : 0)
    ck_act_backward(kind, x, y, dy, &dx, Int64(rows), Int64(cols), p, perChannel ? 1 : 0, &grads)
    return Output(y: y, dx: dx, grads: Array(grads.prefix(params.count)))
}

/// max |a - b| / max(max |b|, floor): error relative to the tensor's scale.
private func scaledError(_ a: [Float], _ b: [Float], floor: Double = 1e-30) -> Double {
    precondition(a.count == b.count)
    var err = 0.0, scale = floor
    for i in a.indices {
        let d = abs(Double(a[i]) - Double(b[i]))
        err = d.isNaN ? .infinity : max(err, d)
        scale = max(scale, abs(Double(b[i])))
    }
    return err / scale
}

/// Elementwise |a - b| <= atol + rtol |b|; returns the first failing index or nil.
private func firstMismatch(_ a: [Float], _ b: [Float], rtol: Double, atol: Double) -> Int? {
    for i in a.indices {
        let d = abs(Double(a[i]) - Double(b[i]))
        if !(d <= atol + rtol * abs(Double(b[i]))) { return i }
    }
    return nil
}

/// Representative parameters (count * (perChannel ? cols : 1) values).
private func sampleParams(_ kind: ck_activation, cols: Int, perChannel: Bool, rng: inout Rng,
                          softexpA: Float = 0.35) -> [Float] {
    let slots = perChannel ? cols : 1
    switch kind {
    case CK_ACT_AFFINE:
        return (0..<slots).map { _ in 0.3 + rng.uniform(-0.2, 0.2) } + (0..<slots).map { _ in -0.7 + rng.uniform(-0.2, 0.2) }
    case CK_ACT_SOFTEXP:
        return perChannel ? (0..<slots).map { c in [-0.1, 0, 0.2, -0.001, 0.001][c % 5] } : [softexpA]
    case CK_ACT_ISRU:
        return (0..<slots).map { _ in 0.8 + rng.uniform(-0.5, 0.5) }
    case CK_ACT_SWISH:
        return (0..<slots).map { _ in 1.3 + rng.uniform(-0.5, 0.5) }
    case CK_ACT_SRELU:
        // Even channels have crossed thresholds (t_left > t_right), as learning can leave them.
        let tLeft = (0..<slots).map { _ in rng.uniform(-0.7, 0.7) }
        let tRight = tLeft.indices.map { c in tLeft[c] + (c % 2 == 0 ? -1 : 1) * rng.uniform(0.2, 1.2) }
        return tLeft + (0..<slots).map { _ in rng.uniform(-0.3, 0.6) } + tRight + (0..<slots).map { _ in rng.uniform(0.6, 1.4) }
    default:
        return []
    }
}

private func sampleInput(_ count: Int, rng: inout Rng, scale: Float = 2) -> [Float] {
    (0..<count).map { _ in rng.normal(scale) }
}

private func perChannelModes(_ kind: ck_activation) -> [Bool] {
    ck_act_always_per_channel(kind) != 0 ? [true] : (ck_act_param_count(kind) > 0 ? [false, true] : [false])
}

/// Expects the per-channel run (active instruction set) to equal, channel by channel, the
/// scalar-parameter kernel run on that column alone with that channel's parameters.
private func expectChannelsMatchColumns(_ k: ck_activation, x: [Float], dy: [Float], rows: Int, cols: Int,
                                        params: [Float]) {
    let np = Int(ck_act_param_count(k))
    let out = run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: true)
    for c in 0..<cols {
        let xc = (0..<rows).map { x[$0 * cols + c] }, dyc = (0..<rows).map { dy[$0 * cols + c] }
        let pc = (0..<np).map { params[$0 * cols + c] }
        let col = run(k, x: xc, dy: dyc, rows: rows, cols: 1, params: pc, perChannel: false)
        let tag = "\(actName(k)) \(rows)x\(cols) channel \(c) [\(String(cString: ck_isa_name(ck_isa_active())))]"
        #expect(scaledError((0..<rows).map { out.y[$0 * cols + c] }, col.y) < 1e-6, "\(tag) y")
        #expect(scaledError((0..<rows).map { out.dx[$0 * cols + c] }, col.dx) < 1e-6, "\(tag) dx")
        let sumAbs = dyc.reduce(0) { $0 + Double(abs($1)) }
        #expect(scaledError((0..<np).map { out.grads[$0 * cols + c] }, col.grads, floor: 1e-2 * sumAbs) < 1e-5,
                "\(tag) dparams")
    }
}

// MARK: - fixtures

private struct Fixture {
    var name: String
    var activation: String
    var rows: Int
    var cols: Int
    var x: [Float], dy: [Float], y: [Float], dx: [Float]
    var params: [String: [Float]]
    var paramGrads: [String: [Float]]
}

private let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func loadFixture(_ name: String) throws -> Fixture {
    let data = try Data(contentsOf: fixtureDir.appendingPathComponent("activation_\(name).json"))
    let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    func tensor(_ t: Any?) throws -> (shape: [Int], data: [Float]) {
        let d = try #require(t as? [String: Any])
        let shape = try #require(d["shape"] as? [Int])
        let values = try #require(d["data"] as? [NSNumber]).map { $0.floatValue }
        return (shape, values)
    }
    func tensors(_ t: Any?) throws -> [String: [Float]] {
        let d = try #require(t as? [String: Any])
        return try d.mapValues { try tensor($0).data }
    }
    let x = try tensor(obj["x"])
    return Fixture(name: name, activation: try #require(obj["activation"] as? String),
                   rows: x.shape[0], cols: x.shape[1], x: x.data, dy: try tensor(obj["dy"]).data,
                   y: try tensor(obj["y"]).data, dx: try tensor(obj["dx"]).data,
                   params: try tensors(obj["params"]), paramGrads: try tensors(obj["param_grads"]))
}

private let fixtureNames = ["affine", "softexp_pos", "softexp_neg", "srelu", "brelu", "isru", "swish", "silu"]

@Suite(.serialized) struct ActivationTests {
    @Test func namesAndCounts() {
        #expect(CK_ACT_AFFINE.rawValue == 0)
        #expect(Set(allKinds.map(actName)).count == Int(CK_ACT_COUNT.rawValue))
        #expect(ck_act_name(CK_ACT_COUNT) == nil)
        #expect(ck_act_param_initial(CK_ACT_AFFINE, 1) == 1 && ck_act_param_floor(CK_ACT_ISRU, 0) == 1e-4)
        #expect(ck_act_param_floor(CK_ACT_AFFINE, 0) == -Float.infinity)
        #expect(paramNames(CK_ACT_AFFINE) == ["alpha", "beta"])
        #expect(paramNames(CK_ACT_SOFTEXP) == ["alpha"])
        #expect(paramNames(CK_ACT_ISRU) == ["alpha"])
        #expect(paramNames(CK_ACT_SWISH) == ["beta"])
        #expect(paramNames(CK_ACT_SRELU) == ["t_left", "a_left", "t_right", "a_right"])
        for k in [CK_ACT_BRELU, CK_ACT_SILU, CK_ACT_RELU, CK_ACT_LEAKY_RELU, CK_ACT_TANH, CK_ACT_SIGMOID, CK_ACT_GELU] {
            #expect(ck_act_param_count(k) == 0)
        }
        #expect(ck_act_param_name(CK_ACT_AFFINE, 2) == nil)
        #expect(allKinds.filter { ck_act_always_per_channel($0) != 0 } == [CK_ACT_SRELU])
    }

    /// y, dx and every parameter gradient against PyTorch, for every instruction set.
    @Test(arguments: fixtureNames) func matchesPyTorchFixture(_ name: String) throws {
        let f = try loadFixture(name)
        let k = kind(named: f.activation.hasPrefix("softexp") ? "softexp" : f.activation)
        let names = paramNames(k)
        #expect(Set(names) == Set(f.params.keys), "\(name): parameter names")
        let perChannel = ck_act_always_per_channel(k) != 0
        if perChannel {
            for n in names { #expect(f.params[n]!.count == f.cols, "\(name).\(n) is per channel") }
        }
        let params = names.flatMap { f.params[$0]! }
        let expectedGrads = names.map { f.paramGrads[$0]! }
        for isa in supportedISAs {
            let out = withISA(isa) { run(k, x: f.x, dy: f.dy, rows: f.rows, cols: f.cols, params: params, perChannel: perChannel) }
            let tag = "\(name) [\(String(cString: ck_isa_name(isa)))]"
            #expect(scaledError(out.y, f.y) < 1e-5, "\(tag) y")
            #expect(scaledError(out.dx, f.dx) < 1e-5, "\(tag) dx")
            #expect(firstMismatch(out.y, f.y, rtol: 1e-5, atol: 1e-6) == nil, "\(tag) y elementwise")
            #expect(firstMismatch(out.dx, f.dx, rtol: 1e-5, atol: 1e-6) == nil, "\(tag) dx elementwise")
            let slots = perChannel ? f.cols : 1
            for (p, expected) in expectedGrads.enumerated() {
                let got = Array(out.grads[(p * slots)..<((p + 1) * slots)])
                // A gradient is a sum of 407 float terms: compare at the scale of their magnitudes.
                let sumAbs = f.dy.reduce(0) { $0 + Double(abs($1)) }
                let err = zip(got, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
                let scale = max(expected.map { abs(Double($0)) }.max() ?? 0, 1e-3 * sumAbs)
                #expect(err / scale < 1e-5, "\(tag) d\(names[p]): \(got) vs \(expected)")
            }
        }
    }

    /// Every SIMD version against the scalar reference on shapes that leave SIMD tails.
    @Test(arguments: allKinds) func simdMatchesScalarOnOddShapes(_ k: ck_activation) {
        var rng = Rng(state: 42 + UInt64(k.rawValue))
        let transcendental = ![CK_ACT_AFFINE, CK_ACT_SRELU, CK_ACT_BRELU, CK_ACT_RELU, CK_ACT_LEAKY_RELU].contains(k)
        let tol = transcendental ? 2e-6 : 1e-6  // few-ulp elementary functions vs libm
        for perChannel in perChannelModes(k) {
            for cols in [1, 3, 7, 8, 17, 33] {
                for rows in [1, 5, 13] {
                    let n = rows * cols
                    let x = sampleInput(n, rng: &rng), dy = sampleInput(n, rng: &rng, scale: 1)
                    let params = sampleParams(k, cols: cols, perChannel: perChannel, rng: &rng,
                                              softexpA: [0.35, -0.15, 0, 0.002][(rows + cols) % 4])
                    let ref = withISA(CK_ISA_SCALAR) { run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel) }
                    for isa in supportedISAs where isa != CK_ISA_SCALAR {
                        let out = withISA(isa) { run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel) }
                        let tag = "\(actName(k)) \(rows)x\(cols) perChannel=\(perChannel) [\(String(cString: ck_isa_name(isa)))]"
                        #expect(scaledError(out.y, ref.y) < tol, "\(tag) y")
                        #expect(scaledError(out.dx, ref.dx) < tol, "\(tag) dx")
                        // Gradients are sums in a different order: scale by the sum of |dy| per slot.
                        let sumAbs = dy.reduce(0) { $0 + Double(abs($1)) }
                        #expect(scaledError(out.grads, ref.grads, floor: 1e-2 * sumAbs / Double(perChannel ? cols : 1)) < 2e-5,
                                "\(tag) dparams \(out.grads) vs \(ref.grads)")
                    }
                }
            }
        }
    }

    /// dx and every parameter gradient against central differences (in double) of the scalar forward,
    /// with L = sum dy * y.
    @Test(arguments: allKinds) func gradientsMatchFiniteDifferences(_ k: ck_activation) {
        var rng = Rng(state: 7 + UInt64(k.rawValue))
        let rows = 9, cols = 7, n = rows * cols
        let softexpValues: [Float] = k == CK_ACT_SOFTEXP ? [0.35, -0.15, 0, 0.004, -0.004, 1.2] : [0.35]
        for perChannel in perChannelModes(k) {
            for a in softexpValues where !(perChannel && a != softexpValues[0]) {
                let params = sampleParams(k, cols: cols, perChannel: perChannel, rng: &rng, softexpA: a)
                var x = sampleInput(n, rng: &rng)
                // Keep away from kinks (relu-likes at 0, srelu at its thresholds).
                for i in 0..<n {
                    let c = i % cols
                    var kinks: [Float] = [0]
                    if k == CK_ACT_SRELU { kinks = [params[c], params[2 * cols + c]] }
                    for t in kinks where abs(x[i] - t) < 0.05 { x[i] = t + (x[i] >= t ? 0.05 : -0.05) }
                }
                let dy = sampleInput(n, rng: &rng, scale: 1)
                let forward = { (x: [Float], params: [Float]) -> [Float] in
                    withISA(CK_ISA_SCALAR) { run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel).y }
                }
                let loss = { (y: [Float]) -> Double in zip(y, dy).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
                let h: Float = 1e-2
                let yPlus = forward(x.map { $0 + h }, params), yMinus = forward(x.map { $0 - h }, params)
                let fdDx = (0..<n).map { i in Float(Double(dy[i]) * (Double(yPlus[i]) - Double(yMinus[i])) / (2 * Double(h))) }
                for isa in supportedISAs {
                    let out = withISA(isa) { run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel) }
                    let tag = "\(actName(k)) a=\(a) perChannel=\(perChannel) [\(String(cString: ck_isa_name(isa)))]"
                    #expect(scaledError(out.dx, fdDx) < 1e-3, "\(tag) dx vs finite differences")
                    for j in params.indices {
                        // Richardson extrapolation of central differences with steps h and h/2
                        // cancels the h^2 term (softexp's higher derivatives in a are large).
                        func central(_ hp: Float) -> (value: Double, noise: Double) {
                            var pp = params, pm = params
                            pp[j] += hp
                            pm[j] -= hp
                            let yp = forward(x, pp), ym = forward(x, pm)
                            let step = Double(pp[j] - pm[j])
                            // Rounding of the float forward, amplified by 1/(2 hp), bounds the noise.
                            let magnitude = zip(yp, dy).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                            return ((loss(yp) - loss(ym)) / step, 2 * 1.2e-7 * magnitude / step)
                        }
                        var fd: Double, noise: Double
                        if k == CK_ACT_SOFTEXP && abs(params[j]) < 0.02 {
                            // Softexp is C^1 but not C^2 in a at a = 0 (the branches' second
                            // derivatives differ), so a central difference across 0 is only O(h):
                            // use the one-sided second-order formula on a's own side instead.
                            let a0 = params[j], hp: Float = a0 < 0 ? -2e-3 : 2e-3
                            func lossAt(_ v: Float) -> Double { var q = params; q[j] = v; return loss(forward(x, q)) }
                            fd = (-3 * lossAt(a0) + 4 * lossAt(a0 + hp) - lossAt(a0 + 2 * hp)) / (2 * Double(hp))
                            noise = 4 * central(abs(hp)).noise
                        } else {
                            let coarse = central(8e-3), fine = central(4e-3)
                            fd = (4 * fine.value - coarse.value) / 3
                            noise = (4 * fine.noise + coarse.noise) / 3
                        }
                        #expect(abs(Double(out.grads[j]) - fd) <= 2e-3 * abs(fd) + noise + 1e-6,
                                "\(tag) d\(paramNames(k)[j / (perChannel ? cols : 1)])[\(j)]: \(out.grads[j]) vs \(fd) (noise \(noise))")
                    }
                }
            }
        }
    }

    /// The vector elementary functions (vecmath.h) through the activations: a dense sweep of x
    /// against double-precision references, y and dx (dy = 1), in float ulps of max(|reference|, 1)
    /// (relative error above 1, absolute below, where the formulas themselves cancel, e.g. silu' near
    /// its zero or gelu's tail). Worst cases measured with AVX2: sigmoid 1.7 / 0.8, tanh 2.2 / 2.9
    /// (dx 1.7 since tanh's backward is e / ((1 + e)/2)^2), silu 2.9 / 2.1, gelu 8.7 / 1.9, softexp
    /// 5.0 / 4.1 ulp (y / dx); with AVX-512 (table-based exp and log, issue 16): sigmoid 0.7 / 0.5,
    /// tanh 1.7 / 1.4, silu 1.8 / 1.5, gelu 7.6 / 1.8, softexp 2.5 / 1.4 (a > 0), 4.7 / 0.5 (a < 0:
    /// ln(u) with the rounding of u added back, issue 16).
    @Test func transcendentalsAgainstDoubleReferences() {
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }
        let a1 = Double(Float(0.35)), a2 = Double(Float(-0.15))
        func softexpT(_ x: Double) -> Double { Double(Float(0.35) * Float(x)) }
        func softexpU(_ x: Double) -> Double { Double(1 - Float(-0.15) * (Float(x) + Float(-0.15))) }
        let cases: [(kind: ck_activation, a: Float, range: ClosedRange<Float>, bound: Double,
                     y: (Double) -> Double, dx: (Double) -> Double)] = [
            (CK_ACT_SIGMOID, 0, -20...20, 3, sigmoid, { sigmoid($0) * (1 - sigmoid($0)) }),
            (CK_ACT_TANH, 0, -20...20, 4, tanh, { 1 - tanh($0) * tanh($0) }),
            (CK_ACT_SILU, 0, -20...20, 4, { $0 * sigmoid($0) }, { sigmoid($0) * (1 + $0 * (1 - sigmoid($0))) }),
            (CK_ACT_GELU, 0, -20...20, 12, { $0 * phi($0) }, { phi($0) + $0 * exp(-$0 * $0 / 2) / (2 * Double.pi).squareRoot() }),
            // softexp's arguments a x and 1 - a (x + a) as the kernels round them in float (exp
            // turns the rounding of a x into |a x| ulps), and a as the float it is.
            (CK_ACT_SOFTEXP, 0.35, -20...20, 8, { expm1(softexpT($0)) / a1 + a1 }, { exp(softexpT($0)) }),
            (CK_ACT_SOFTEXP, -0.15, -6...20, 8, { -log(softexpU($0)) / a2 }, { 1 / softexpU($0) }),
        ]
        let n = 200_003
        for c in cases {
            let x = (0..<n).map { c.range.lowerBound + (c.range.upperBound - c.range.lowerBound) * Float($0) / Float(n - 1) }
            let dy = [Float](repeating: 1, count: n)
            for isa in supportedISAs {
                let out = withISA(isa) { run(c.kind, x: x, dy: dy, rows: 1, cols: n, params: [c.a], perChannel: false) }
                func worst(_ got: [Float], _ reference: (Double) -> Double) -> (ulps: Double, at: Float) {
                    var result = (ulps: 0.0, at: Float(0))
                    for i in 0..<n {
                        let r = reference(Double(x[i]))
                        let ulps = abs(Double(got[i]) - r) / Double(Float(max(abs(r), 1)).ulp)
                        if !(ulps <= result.ulps) { result = (ulps, x[i]) }
                    }
                    return result
                }
                let tag = "\(actName(c.kind)) a=\(c.a) [\(String(cString: ck_isa_name(isa)))]"
                let y = worst(out.y, c.y), dx = worst(out.dx, c.dx)
                #expect(y.ulps <= c.bound, "\(tag) y: \(y.ulps) ulp at x = \(y.at)")
                #expect(dx.ulps <= c.bound, "\(tag) dx: \(dx.ulps) ulp at x = \(dx.at)")
            }
        }
    }

    /// swish against double-precision references over the range that matters, b of both signs, y,
    /// dx and dy/db (one b per channel, so each element's dy/db is its own gradient slot), in ulps of
    /// max(|reference|, 1); its forward is x e/(1 + e) in one division since issue 16. Worst
    /// measured, b = 1.3 (AVX-512 / AVX2 / scalar): y 1.5 / 2.7 / 1.5, dx 1.5 / 2.0 / 1.5.
    @Test func swishAgainstDoubleReferences() {
        func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
        let n = 100_003
        let x = (0..<n).map { -30 + 60 * Float($0) / Float(n - 1) }
        let dy = [Float](repeating: 1, count: n)
        for b: Float in [1.3, -0.7, 0.05, 4] {
            for isa in supportedISAs {
                let out = withISA(isa) {
                    run(CK_ACT_SWISH, x: x, dy: dy, rows: 1, cols: n, params: [Float](repeating: b, count: n), perChannel: true)
                }
                var worst = (y: 0.0, dx: 0.0, db: 0.0)
                for i in 0..<n {
                    let xi = Double(x[i]), z = Double(b) * xi, s = sigmoid(z), m = sigmoid(-z)
                    func ulps(_ got: Float, _ r: Double) -> Double { abs(Double(got) - r) / Double(Float(max(abs(r), 1)).ulp) }
                    worst.y = max(worst.y, ulps(out.y[i], xi * s))
                    worst.dx = max(worst.dx, ulps(out.dx[i], s + z * s * m))
                    worst.db = max(worst.db, ulps(out.grads[i], xi * xi * s * m))
                }
                let tag = "swish b=\(b) [\(String(cString: ck_isa_name(isa)))]"
                #expect(worst.y <= 4 && worst.dx <= 4 && worst.db <= 8, "\(tag): \(worst)")
            }
        }
    }

    /// gelu's backward takes Phi(x) as y/x (issue 16): at and around x = 0, where that quotient is
    /// 0/0 or of subnormals, dx is Phi(0) = 1/2; NaN stays NaN.
    @Test func geluBackwardNearZero() {
        let x: [Float] = [0, -0.0, 1e-30, -1e-30, .leastNonzeroMagnitude, -1e-40, 1e-7, .nan]
        for isa in supportedISAs {
            let out = withISA(isa) { run(CK_ACT_GELU, x: x, dy: [Float](repeating: 1, count: x.count), rows: 1, cols: x.count, params: [], perChannel: false) }
            for i in x.indices.dropLast() {
                #expect(abs(out.dx[i] - 0.5) <= 2 * Float(0.5).ulp, "[\(String(cString: ck_isa_name(isa)))] dx at \(x[i]): \(out.dx[i])")
            }
            #expect(out.dx.last!.isNaN)
        }
    }

    /// At a = 0 soft exponential is the identity and dy/da = x^2/2 + 1, so a can leave 0.
    @Test func softexpAtZero() {
        var rng = Rng(state: 3)
        let rows = 5, cols = 19, n = rows * cols
        let x = sampleInput(n, rng: &rng), dy = sampleInput(n, rng: &rng, scale: 1)
        let expected = zip(x, dy).reduce(0.0) { $0 + Double($1.1) * (Double($1.0) * Double($1.0) / 2 + 1) }
        for isa in supportedISAs {
            for perChannel in [false, true] {
                let params = [Float](repeating: 0, count: perChannel ? cols : 1)
                let out = withISA(isa) { run(CK_ACT_SOFTEXP, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel) }
                #expect(out.y == x)
                #expect(out.dx == dy)
                let total = out.grads.reduce(0.0) { $0 + Double($1) }
                #expect(abs(total - expected) <= 1e-5 * max(1, abs(expected)), "\(total) vs \(expected)")
                if perChannel {
                    for c in 0..<cols {
                        let e = (0..<rows).reduce(0.0) { s, r in
                            let i = r * cols + c
                            return s + Double(dy[i]) * (Double(x[i]) * Double(x[i]) / 2 + 1)
                        }
                        #expect(abs(Double(out.grads[c]) - e) <= 1e-5 * max(1, abs(e)))
                    }
                }
            }
        }
    }

    /// Soft exponential with a > 0 where e^(a x) nears float's overflow but y is finite: dx and the
    /// parameter gradient are finite and right (against double precision), also where dy = 0 (a
    /// dropped unit). dy/da alone, ~ e^t t/a^2, overflows there, so it must be scaled by dy first,
    /// as PyTorch's autograd does (float32 autograd is finite at t = 84 and 86 with dy = 1e-3).
    @Test func softexpGradientNearOverflow() {
        let a: Float = 0.3
        let ts: [Float] = [70, 80, 84, 85, 86, 86.5, 87, 84, 86, 40, 86, 85, 1, 83, 87, 86, 84]
        let dys: [Float] = [1e-3, -2e-3, 1e-3, 0, -5e-4, 1e-3, 1e-4, 0, 1e-3, 0.5, 0, -1e-3, 1, 2e-3, -1e-4, 3e-4, -1e-3]
        let x = ts.map { $0 / a }
        var dalpha = 0.0, magnitude = 0.0
        for (xi, dy) in zip(x, dys) {
            let t = Double(a * xi), e = exp(t), term = Double(dy) * (1 + (e * (t - 1) + 1) / (Double(a) * Double(a)))
            (dalpha, magnitude) = (dalpha + term, magnitude + abs(term))
        }
        for isa in supportedISAs {
            for perChannel in [false, true] {
                let params = [Float](repeating: a, count: perChannel ? x.count : 1)
                let out = withISA(isa) { run(CK_ACT_SOFTEXP, x: x, dy: dys, rows: 1, cols: x.count, params: params, perChannel: perChannel) }
                let tag = "[\(String(cString: ck_isa_name(isa)))] perChannel=\(perChannel)"
                for i in x.indices {
                    let e = exp(Double(a * x[i])), y = (e - 1) / Double(a) + Double(a), dx = Double(dys[i]) * e
                    #expect(abs(Double(out.y[i]) - y) <= 1e-5 * y, "\(tag) y at t = \(ts[i]): \(out.y[i]) vs \(y)")
                    #expect(abs(Double(out.dx[i]) - dx) <= 1e-5 * abs(dx), "\(tag) dx at t = \(ts[i]): \(out.dx[i]) vs \(dx)")
                }
                let got = out.grads.reduce(0.0) { $0 + Double($1) }
                #expect(abs(got - dalpha) <= 1e-5 * magnitude, "\(tag) dalpha \(got) vs \(dalpha)")
            }
        }
    }

    /// Soft exponential with a = 1 (y = e^x, dx = e^x dy) over every float x in [88, 88.75]: y and dx
    /// are finite and right wherever e^x is below float's largest value, and +inf from just above it
    /// (~88.72), on every instruction set alike, as in PyTorch. (AVX2's expm1 used to overflow from
    /// ~88.38, where its 2^n - 1 reached 2^128.)
    @Test func softexpOverflowsWhereFloatDoes() {
        var x: [Float] = []
        var v: Float = 88
        while v <= 88.75 { x.append(v); v = v.nextUp }
        let dy = [Float](repeating: 1, count: x.count), largest = Double(Float.greatestFiniteMagnitude)
        for isa in supportedISAs {
            let out = withISA(isa) { run(CK_ACT_SOFTEXP, x: x, dy: dy, rows: 1, cols: x.count, params: [1], perChannel: false) }
            let tag = "[\(String(cString: ck_isa_name(isa)))]"
            for (name, got) in [("y", out.y), ("dx", out.dx)] {
                // Near the threshold itself the kernels' last ulp decides: a margin of ~3 ulp either side.
                let wrong = x.indices.first { i in
                    let e = exp(Double(x[i]))
                    if e < largest * (1 - 0x1p-22) { return !(abs(Double(got[i]) - e) <= 3 * Double(Float(e).ulp)) }
                    return e > largest * (1 + 0x1p-22) && got[i] != .infinity
                }
                #expect(wrong == nil, "\(tag) \(name) at x = \(wrong.map { x[$0] } ?? 0): \(wrong.map { got[$0] } ?? 0) vs \(wrong.map { exp(Double(x[$0])) } ?? 0)")
            }
        }
    }

    /// Soft exponential with a < 0 outside its domain (1 - a (x + a) <= min): finite, saturated
    /// output, zero dx and zero parameter gradient there.
    @Test func softexpNegativeDomain() {
        let a: Float = -0.5
        let x: [Float] = [-10, -3.5, -2.6, -1000, 0.5, 3]  // domain edge at x + a = 1/a: x = -1.5
        let dy: [Float] = [1, 1, 1, 1, 1, 1]
        let floorY = -log(Double(CK_ACT_SOFTEXP_MIN_LOG_ARG)) / Double(a)
        for isa in supportedISAs {
            let out = withISA(isa) { run(CK_ACT_SOFTEXP, x: x, dy: dy, rows: 1, cols: x.count, params: [a], perChannel: false) }
            for i in 0..<4 {
                #expect(abs(Double(out.y[i]) - floorY) < 1e-4 * abs(floorY), "y[\(i)] = \(out.y[i])")
                #expect(out.dx[i] == 0)
            }
            #expect(out.y.allSatisfy { $0.isFinite } && out.dx.allSatisfy { $0.isFinite })
            let inside = run(CK_ACT_SOFTEXP, x: Array(x[4...]), dy: Array(dy[4...]), rows: 1, cols: 2, params: [a], perChannel: false)
            #expect(abs(out.grads[0] - inside.grads[0]) <= 1e-5 * abs(inside.grads[0]))
        }
    }

    /// Per-channel results equal the scalar-parameter kernel run on each column with that channel's
    /// parameters; and equal per_channel = 0 when every channel has the same parameters.
    @Test(arguments: allKinds.filter { ck_act_param_count($0) > 0 }) func perChannelLayout(_ k: ck_activation) {
        var rng = Rng(state: 11 + UInt64(k.rawValue))
        let rows = 11, cols = 21, n = rows * cols, np = Int(ck_act_param_count(k))
        let x = sampleInput(n, rng: &rng), dy = sampleInput(n, rng: &rng, scale: 1)
        let params = sampleParams(k, cols: cols, perChannel: true, rng: &rng)
        for isa in supportedISAs {
            _ = ck_isa_force(isa)
            defer { _ = ck_isa_force(ck_isa_best()) }
            expectChannelsMatchColumns(k, x: x, dy: dy, rows: rows, cols: cols, params: params)
            // Same parameters in every channel: per-channel gradients sum to the scalar ones.
            let shared = (0..<np).map { params[$0 * cols] }
            let broadcast = (0..<np).flatMap { p in [Float](repeating: shared[p], count: cols) }
            let pcOut = run(k, x: x, dy: dy, rows: rows, cols: cols, params: broadcast, perChannel: true)
            let scalarOut = run(k, x: x, dy: dy, rows: rows, cols: cols, params: shared, perChannel: false)
            #expect(scaledError(pcOut.y, scalarOut.y) < 1e-6)
            #expect(scaledError(pcOut.dx, scalarOut.dx) < 1e-6)
            let sumAbs = dy.reduce(0) { $0 + Double(abs($1)) }
            for p in 0..<np {
                let total = pcOut.grads[(p * cols)..<((p + 1) * cols)].reduce(0.0) { $0 + Double($1) }
                #expect(abs(total - Double(scalarOut.grads[p])) <= 1e-5 * max(sumAbs * 1e-2, abs(total)))
            }

        }
    }

    /// The per-channel kernels work by panels of 1,024 columns: widths across a panel's edge, and
    /// neither a multiple of a vector nor of a band of rows, on one row and on a few.
    @Test(arguments: allKinds.filter { ck_act_param_count($0) > 0 }) func perChannelAcrossPanels(_ k: ck_activation) {
        var rng = Rng(state: 23 + UInt64(k.rawValue))
        for (rows, cols) in [(1, 1041), (6, 2063), (3, 1024)] {
            let x = sampleInput(rows * cols, rng: &rng), dy = sampleInput(rows * cols, rng: &rng, scale: 1)
            let params = sampleParams(k, cols: cols, perChannel: true, rng: &rng)
            for isa in supportedISAs {
                withISA(isa) { expectChannelsMatchColumns(k, x: x, dy: dy, rows: rows, cols: cols, params: params) }
            }
        }
    }

    /// Parameter gradients accumulate (+=); dx may alias dy and y may alias x; y may be NULL but for softexp and gelu.
    @Test(arguments: allKinds) func accumulatesAndAliases(_ k: ck_activation) {
        var rng = Rng(state: 5 + UInt64(k.rawValue))
        let rows = 6, cols = 13, n = rows * cols
        let perChannel = ck_act_always_per_channel(k) != 0
        let x = sampleInput(n, rng: &rng), dy = sampleInput(n, rng: &rng, scale: 1)
        let params = sampleParams(k, cols: cols, perChannel: perChannel, rng: &rng)
        let p = params.isEmpty ? [Float(0)] : params
        for isa in supportedISAs {
            _ = ck_isa_force(isa)
            defer { _ = ck_isa_force(ck_isa_best()) }
            let ref = run(k, x: x, dy: dy, rows: rows, cols: cols, params: params, perChannel: perChannel)
            var inplace = x
            inplace.withUnsafeMutableBufferPointer { b in
                ck_act_forward(k, b.baseAddress, b.baseAddress, Int64(rows), Int64(cols), p, perChannel ? 1 : 0)
            }
            #expect(inplace == ref.y)
            var g = [Float](repeating: 1, count: p.count)
            var d = dy
            d.withUnsafeMutableBufferPointer { b in
                ck_act_backward(k, x, ref.y, b.baseAddress, b.baseAddress, Int64(rows), Int64(cols), p, perChannel ? 1 : 0, &g)
            }
            #expect(d == ref.dx)
            if k != CK_ACT_SOFTEXP && k != CK_ACT_GELU {  // only softexp and gelu read y: the others take NULL
                var withoutY = [Float](repeating: .nan, count: n), unused = [Float](repeating: 0, count: p.count)
                ck_act_backward(k, x, nil, dy, &withoutY, Int64(rows), Int64(cols), p, perChannel ? 1 : 0, &unused)
                #expect(withoutY == ref.dx)
            }
            // Per-channel gradients are added into dparams once per block of rows: rounding may differ.
            for i in params.indices { #expect(abs(g[i] - (1 + ref.grads[i])) <= 1e-6 * (1 + abs(ref.grads[i]))) }

        }
    }
}
