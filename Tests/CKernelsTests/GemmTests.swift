import CKernels
import Testing

/// Deterministic xorshift generator, so a failure reproduces.
private struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
}

/// The instruction sets this CPU can run; a forced ISA is restored to the best one afterwards.
private func supportedISAs() -> [ck_isa] {
    [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512].filter { ck_isa_supported($0) != 0 }
}

private struct GemmCase: CustomStringConvertible {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var alpha: Float, beta: Float
    /// Extra columns beyond the minimum leading dimension of A, B and C.
    var pad: Int
    var description: String {
        "\(transA ? "T" : "N")\(transB ? "T" : "N") M=\(m) N=\(n) K=\(k) alpha=\(alpha) beta=\(beta) pad=\(pad)"
    }
}

/// Runs ck_sgemm on random data under every supported ISA and compares each element with a double
/// precision triple loop, within a bound on float rounding: K * eps * sum |alpha a b| (+ the beta term).
/// Also checks that C's padding (between N and ldc) is untouched and that beta = 0 ignores NaNs in C.
private func check(_ c: GemmCase, rng: inout Rng) {
    let (m, n, k) = (c.m, c.n, c.k)
    let aRows = c.transA ? k : m, aCols = c.transA ? m : k
    let bRows = c.transB ? n : k, bCols = c.transB ? k : n
    let lda = aCols + c.pad, ldb = bCols + c.pad, ldc = n + c.pad
    let a = (0..<max(1, aRows * lda)).map { _ in rng.float() }
    let b = (0..<max(1, bRows * ldb)).map { _ in rng.float() }
    let sentinel: Float = 12345
    var c0 = [Float](repeating: sentinel, count: max(1, m * ldc))
    for i in 0..<m {
        for j in 0..<n { c0[i * ldc + j] = c.beta == 0 ? .nan : rng.float() }
    }
    func aAt(_ i: Int, _ p: Int) -> Double { Double(c.transA ? a[p * lda + i] : a[i * lda + p]) }
    func bAt(_ p: Int, _ j: Int) -> Double { Double(c.transB ? b[j * ldb + p] : b[p * ldb + j]) }

    var expected = [Double](repeating: 0, count: m * n)
    var bound = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var dot = 0.0, mag = 0.0
            for p in 0..<k {
                let t = aAt(i, p) * bAt(p, j)
                dot += t
                mag += abs(t)
            }
            let old = c.beta == 0 ? 0 : Double(c0[i * ldc + j])
            expected[i * n + j] = Double(c.alpha) * dot + Double(c.beta) * old
            bound[i * n + j] = 1.2e-7 * Double(k + 2) * (abs(Double(c.alpha)) * mag + abs(Double(c.beta) * old)) + 1e-30
        }
    }

    for isa in supportedISAs() {
        #expect(ck_isa_force(isa) == isa)
        var out = c0
        ck_sgemm(c.transA ? 1 : 0, c.transB ? 1 : 0, Int64(m), Int64(n), Int64(k), c.alpha, a, Int64(lda),
                 b, Int64(ldb), c.beta, &out, Int64(ldc))
        var bad = 0
        for i in 0..<m {
            for j in 0..<n {
                let got = Double(out[i * ldc + j]), want = expected[i * n + j]
                if !(abs(got - want) <= bound[i * n + j]) {
                    if bad == 0 {
                        Issue.record("\(String(cString: ck_isa_name(isa))) \(c): C[\(i),\(j)] = \(got), expected \(want)")
                    }
                    bad += 1
                }
            }
            for j in n..<ldc where i * ldc + j < out.count && out[i * ldc + j] != sentinel {
                if bad == 0 { Issue.record("\(String(cString: ck_isa_name(isa))) \(c): wrote C[\(i),\(j)] past N") }
                bad += 1
            }
        }
        #expect(bad == 0, "\(String(cString: ck_isa_name(isa))) \(c): \(bad) wrong elements")
    }
    ck_isa_force(ck_isa_best())
}

/// Everything that forces an ISA (a per-thread setting) runs serially inside this suite.
@Suite(.serialized) struct GemmTests {
    static let sizes = [0, 1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 64, 65, 100]
    static let scalars: [(Float, Float)] = [(1, 0), (1, 1), (-0.5, 0), (2, 0.75), (0.25, -1)]

    @Test func sampledShapesAllTransposes() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        for transA in [false, true] {
            for transB in [false, true] {
                for index in 0..<60 {
                    let (alpha, beta) = Self.scalars[index % Self.scalars.count]
                    let shape = GemmCase(transA: transA, transB: transB, m: rng.pick(Self.sizes),
                                         n: rng.pick(Self.sizes), k: rng.pick(Self.sizes),
                                         alpha: alpha, beta: beta, pad: index % 3 == 0 ? 0 : index % 7)
                    check(shape, rng: &rng)
                }
            }
        }
    }

    @Test func packedTileEdges() {
        // M and N around multiples of the register tiles (6x16, 12x32), large enough for the packed
        // path (N > 48, M > 8, K > 16, and K * N > 16384 when B is transposed).
        var rng = Rng(state: 42)
        for m in [11, 12, 13, 23, 24, 25] {
            for n in [49, 63, 64, 65, 95, 97] {
                let t = rng.next()
                check(GemmCase(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: 261,
                               alpha: 1, beta: t & 4 != 0 ? 0 : 0.5, pad: Int(t % 5)),
                      rng: &rng)
            }
        }
    }

    @Test func largerThanOneBlock() {
        // Crosses the KC and MC block boundaries, so K slices accumulate into C.
        var rng = Rng(state: 7)
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            check(GemmCase(transA: transA, transB: transB, m: 257, n: 129, k: 300, alpha: 1, beta: 0, pad: 3),
                  rng: &rng)
            check(GemmCase(transA: transA, transB: transB, m: 200, n: 70, k: 600, alpha: 0.5, beta: 1, pad: 0),
                  rng: &rng)
        }
    }

    @Test func trainerShapes() {
        // The Linear layers' three products at the wide and seed networks' sizes.
        var rng = Rng(state: 11)
        for (rows, inF, outF) in [(256, 28, 512), (256, 512, 2), (300, 4, 8), (275, 9, 5), (1100, 4, 2)] {
            check(GemmCase(transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, beta: 1, pad: 0), rng: &rng)
            check(GemmCase(transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1, beta: 0, pad: 0), rng: &rng)
            check(GemmCase(transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1, beta: 1, pad: 0), rng: &rng)
        }
    }

    @Test func narrowWeightGradients() {
        // dW = dY^T X of narrow layers (the outer-product kernel: M, N <= 12, one of them <= 8, long
        // K), with the vector along M or along N, every broadcast count, odd K and leading dimensions.
        var rng = Rng(state: 23)
        for m in 1...13 {
            for n in 1...13 {
                let (alpha, beta) = Self.scalars[(m * 13 + n) % Self.scalars.count]
                check(GemmCase(transA: true, transB: false, m: m, n: n, k: [64, 67, 275][(m + n) % 3],
                               alpha: alpha, beta: beta, pad: (m * n) % 3), rng: &rng)
            }
        }
    }

    @Test func zeroAlphaAndEmptyK() {
        // alpha = 0 or K = 0 leaves beta * C (and zeros for beta = 0, NaNs in C ignored).
        var rng = Rng(state: 5)
        for (alpha, beta) in [(Float(0), Float(0)), (0, 2), (1, 0), (1, -1)] {
            check(GemmCase(transA: false, transB: false, m: 9, n: 20, k: 0, alpha: alpha, beta: beta, pad: 2), rng: &rng)
            check(GemmCase(transA: true, transB: true, m: 9, n: 20, k: 5, alpha: alpha, beta: beta, pad: 1), rng: &rng)
        }
        // With alpha = 0, A and B are not read: NaNs there do not reach C.
        let nans = [Float](repeating: .nan, count: 40 * 40)
        for isa in supportedISAs() {
            ck_isa_force(isa)
            var c = (0..<30 * 40).map { Float($0) }
            ck_sgemm(0, 1, 30, 40, 40, 0, nans, 40, nans, 40, 0.5, &c, 40)
            #expect(c == (0..<30 * 40).map { Float($0) * 0.5 }, "\(String(cString: ck_isa_name(isa)))")
        }
        ck_isa_force(ck_isa_best())
    }

    @Test func linearForwardAndBackward() {
        var rng = Rng(state: 99)
        for isa in supportedISAs() {
            ck_isa_force(isa)
            let name = String(cString: ck_isa_name(isa))
            for (n, inF, outF) in [(1, 1, 1), (37, 4, 8), (64, 28, 33), (130, 9, 2), (19, 65, 17)] {
                let x = (0..<n * inF).map { _ in rng.float() }
                let w = (0..<outF * inF).map { _ in rng.float() }
                let bias = (0..<outF).map { _ in rng.float() }
                let dy = (0..<n * outF).map { _ in rng.float() }
                let dw0 = (0..<outF * inF).map { _ in rng.float() }
                let db0 = (0..<outF).map { _ in rng.float() }
                let tol = { (k: Int) in Float(k + 2) * 2e-6 * Float(max(k, 1)) }

                for useBias in [true, false] {
                    var y = [Float](repeating: .nan, count: n * outF)
                    ck_linear_forward(x, w, useBias ? bias : nil, &y, Int64(n), Int64(inF), Int64(outF))
                    var worst: Float = 0
                    for r in 0..<n {
                        for o in 0..<outF {
                            var s = Double(useBias ? bias[o] : 0)
                            for i in 0..<inF { s += Double(x[r * inF + i]) * Double(w[o * inF + i]) }
                            worst = max(worst, abs(y[r * outF + o] - Float(s)))
                        }
                    }
                    #expect(worst <= tol(inF), "\(name) forward n=\(n) in=\(inF) out=\(outF) bias=\(useBias)")
                }

                var dx = [Float](repeating: .nan, count: n * inF)
                var dw = dw0, db = db0
                ck_linear_backward(x, w, dy, &dx, &dw, &db, Int64(n), Int64(inF), Int64(outF))
                var worstDx: Float = 0, worstDw: Float = 0, worstDb: Float = 0
                for r in 0..<n {
                    for i in 0..<inF {
                        var s = 0.0
                        for o in 0..<outF { s += Double(dy[r * outF + o]) * Double(w[o * inF + i]) }
                        worstDx = max(worstDx, abs(dx[r * inF + i] - Float(s)))
                    }
                }
                for o in 0..<outF {
                    var sb = Double(db0[o])
                    for r in 0..<n { sb += Double(dy[r * outF + o]) }
                    worstDb = max(worstDb, abs(db[o] - Float(sb)))
                    for i in 0..<inF {
                        var s = Double(dw0[o * inF + i])
                        for r in 0..<n { s += Double(dy[r * outF + o]) * Double(x[r * inF + i]) }
                        worstDw = max(worstDw, abs(dw[o * inF + i] - Float(s)))
                    }
                }
                #expect(worstDx <= tol(outF), "\(name) dX n=\(n) in=\(inF) out=\(outF)")
                #expect(worstDw <= tol(n), "\(name) dW n=\(n) in=\(inF) out=\(outF)")
                #expect(worstDb <= tol(n), "\(name) db n=\(n) in=\(inF) out=\(outF)")

                // dX may be NULL and db may be NULL: only dW accumulates.
                var dw2 = dw0
                ck_linear_backward(x, w, dy, nil, &dw2, nil, Int64(n), Int64(inF), Int64(outF))
                #expect(dw2 == dw, "\(name) dW without dX/db n=\(n)")
                // dW NULL: only dX.
                var dx2 = [Float](repeating: .nan, count: n * inF)
                ck_linear_backward(nil, w, dy, &dx2, nil, nil, Int64(n), Int64(inF), Int64(outF))
                #expect(dx2 == dx, "\(name) dX alone n=\(n)")
            }
        }
        ck_isa_force(ck_isa_best())
    }

    /// The narrow products (at most 16 columns, at most 16 products a value: the seed's forward and
    /// input-gradient products) on AVX-512 add each value's products in order over k in one fused
    /// multiply-add chain (8 columns, through AVX2's 8 lanes: even and odd k in two chains, then added),
    /// then the bias in one rounding: exactly that, in every row (the row kernels keep the tile kernels'
    /// arithmetic, so trained models keep their bytes).
    @Test func narrowProductsSumInOrder() {
        guard ck_isa_supported(CK_ISA_AVX512) != 0 else { return }
        ck_isa_force(CK_ISA_AVX512)
        var rng = Rng(state: 41)
        let n = 37
        for k in 1...16 {
            for width in [1, 2, 4, 5, 8, 9, 12, 16] {
                let x = (0..<n * k).map { _ in rng.float() }, w = (0..<width * k).map { _ in rng.float() }
                let bias = (0..<width).map { _ in rng.float() }, dy = (0..<n * width).map { _ in rng.float() }
                var y = [Float](repeating: .nan, count: n * width), expected = y
                ck_linear_forward(x, w, bias, &y, Int64(n), Int64(k), Int64(width))
                for r in 0..<n {
                    for o in 0..<width {
                        expected[r * width + o] = Self.chain(k, split: width == 8) { (x[r * k + $0], w[o * k + $0]) } + bias[o]
                    }
                }
                #expect(y == expected, "forward k=\(k) width=\(width)")
                // dX = dY W: K = width products for each of k columns.
                var dx = [Float](repeating: .nan, count: n * k), expectedDx = dx
                ck_linear_backward(nil, w, dy, &dx, nil, nil, Int64(n), Int64(k), Int64(width))
                for r in 0..<n {
                    for i in 0..<k {
                        expectedDx[r * k + i] = Self.chain(width, split: k == 8) { (dy[r * width + $0], w[$0 * k + i]) }
                    }
                }
                #expect(dx == expectedDx, "input gradient k=\(k) width=\(width)")
            }
        }
        ck_isa_force(ck_isa_best())
    }

    /// The sum of `count` products in one fused multiply-add chain; `split`: even and odd terms in two
    /// chains, then added.
    static func chain(_ count: Int, split: Bool, _ term: (Int) -> (Float, Float)) -> Float {
        var even: Float = 0, odd: Float = 0
        for k in 0..<count {
            let (a, b) = term(k)
            if split && k % 2 == 1 { odd.addProduct(a, b) } else { even.addProduct(a, b) }
        }
        return split ? even + odd : even
    }
}
