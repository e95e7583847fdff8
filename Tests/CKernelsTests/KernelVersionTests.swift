import CKernels
import Foundation
import Testing

/// Every dispatched version of the BatchNorm, dropout, optimizer and reduction kernels against the
/// scalar reference, on odd sizes that leave SIMD tails. ck_isa_force applies to the calling
/// thread, so each test switches versions inside its own synchronous body.
@Suite(.serialized) struct KernelVersionTests {
    static let isas = [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512].filter { ck_isa_supported($0) != 0 }

    /// Runs `body` under every supported ISA and returns each result, the scalar one first.
    func versions<T>(_ body: () -> T) -> [T] {
        defer { ck_isa_force(ck_isa_best()) }
        return Self.isas.map { isa in
            ck_isa_force(isa)
            return body()
        }
    }

    func random(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * (1 + abs($1)) }
    }

    @Test func batchNormVersionsAgree() {
        for (rows, cols) in [(1, 1), (3, 7), (17, 33), (64, 5), (37, 9), (100, 31), (29, 100)] {
            let x = random(rows * cols, seed: UInt64(rows * 100 + cols))
            let dy = random(rows * cols, seed: 99)
            let gamma = random(cols, seed: 5).map { $0 + 1.5 }, beta = random(cols, seed: 6)
            let results = versions { () -> [Float] in
                var sum = [Double](repeating: 0, count: cols), sq = sum
                ck_bn_partial_stats(x, Int64(rows), Int64(cols), &sum, &sq)
                var mean = [Float](repeating: 0, count: cols), invstd = mean
                ck_bn_finish_stats(sum, sq, Int64(rows), Int64(cols), 1e-5, 0.1, &mean, &invstd, nil, nil)
                var xhat = [Float](repeating: 0, count: rows * cols), y = xhat, dx = xhat
                ck_bn_forward(x, mean, invstd, gamma, beta, &xhat, &y, Int64(rows), Int64(cols))
                var sdy = [Double](repeating: 0, count: cols), sdyx = sdy
                ck_bn_backward_partials(dy, xhat, Int64(rows), Int64(cols), &sdy, &sdyx)
                ck_bn_backward_input(dy, xhat, gamma, invstd, sdy, sdyx, Int64(rows), &dx, Int64(rows), Int64(cols))
                return y + dx + sdy.map(Float.init) + sdyx.map(Float.init)
            }
            for r in results.dropFirst() { #expect(close(r, results[0], 1e-4), "rows \(rows) cols \(cols)") }
        }
    }

    @Test func narrowBatchNormMatchesAPlainLoop() {
        // 37 rows x 9 channels: two 16-row pattern blocks and a 5-row remainder.
        let rows = 37, cols = 9
        let x = random(rows * cols, seed: 11)
        var sum = [Double](repeating: 0, count: cols), sq = sum
        ck_bn_partial_stats(x, Int64(rows), Int64(cols), &sum, &sq)
        for c in 0..<cols {
            let column = (0..<rows).map { Double(x[$0 * cols + c]) }
            #expect(abs(sum[c] - column.reduce(0, +)) < 1e-9)
            #expect(abs(sq[c] - column.map { $0 * $0 }.reduce(0, +)) < 1e-9)
        }
        let mean = random(cols, seed: 12), invstd = random(cols, seed: 13).map { $0 + 2 }
        let gamma = random(cols, seed: 14), beta = random(cols, seed: 15)
        var xhat = [Float](repeating: 0, count: rows * cols), y = xhat
        ck_bn_forward(x, mean, invstd, gamma, beta, &xhat, &y, Int64(rows), Int64(cols))
        for i in 0..<(rows * cols) {
            let c = i % cols
            #expect(abs(xhat[i] - (x[i] - mean[c]) * invstd[c]) < 1e-5)
            #expect(abs(y[i] - (gamma[c] * xhat[i] + beta[c])) < 1e-5)
        }
    }

    @Test func batchNormMatchesTheDefinition() {
        // One channel, rows 1, 2, 3, 6: mean 3, biased variance 3.5; PyTorch's running update uses the
        // unbiased variance 14/3.
        var sum = [0.0], sq = [0.0]
        ck_bn_partial_stats([1, 2, 3, 6], 4, 1, &sum, &sq)
        var mean: [Float] = [0], invstd: [Float] = [0], runningMean: [Float] = [0], runningVar: [Float] = [1]
        ck_bn_finish_stats(sum, sq, 4, 1, 0, 0.1, &mean, &invstd, &runningMean, &runningVar)
        #expect(mean == [3])
        #expect(abs(invstd[0] - 1 / Float(3.5).squareRoot()) < 1e-6)
        #expect(abs(runningMean[0] - 0.3) < 1e-6 && abs(runningVar[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6)
    }

    @Test func dropoutVersionsAgreeAndKeepAboutOneMinusP() {
        let rows = 257, cols = 37
        let x = random(rows * cols, seed: 1)
        let results = versions { () -> [Float] in
            var y = [Float](repeating: 0, count: rows * cols)
            ck_dropout_forward(x, &y, Int64(rows), Int64(cols), 0.4, 42, 7, 2, 1000)
            return y
        }
        for r in results.dropFirst() { #expect(r == results[0]) }
        let kept = zip(x, results[0]).filter { $0.1 != 0 }
        #expect(abs(Double(kept.count) / Double(x.count) - 0.6) < 0.02)
        #expect(kept.allSatisfy { abs($0.1 - $0.0 / 0.6) < 1e-6 })
        // The mask is a function of the global row: a shard starting at row 1000 + 100 sees the same.
        var shard = [Float](repeating: 0, count: 10 * cols)
        ck_dropout_forward(Array(x[(100 * cols)...]), &shard, 10, Int64(cols), 0.4, 42, 7, 2, 1100)
        #expect(shard == Array(results[0][(100 * cols)..<(110 * cols)]))
        #expect(ck_dropout_keep(0.4, 42, 7, 2, 1000, 3, Int64(cols)) == (results[0][3] != 0 ? 1 : 0))
    }

    @Test func optimizerVersionsAgree() {
        let n = 1001
        let grad = random(n, seed: 2), start = random(n, seed: 3)
        let results = versions { () -> [Float] in
            var p = start, m = [Float](repeating: 0, count: n), v = m, q = start, buf = m
            for t in 1...3 {
                ck_adam_step(&p, grad, &m, &v, Int64(n), 0.01, 0.9, 0.999, 1e-8, 0.01, Int64(t))
                ck_sgd_step(&q, grad, &buf, Int64(n), 0.1, 0.9, 0.01, t == 1 ? 1 : 0)
            }
            return p + q
        }
        for r in results.dropFirst() { #expect(close(r, results[0])) }
        // First Adam step moves every parameter by lr against the sign of its gradient.
        var p = start, m = [Float](repeating: 0, count: n), v = m
        ck_adam_step(&p, grad, &m, &v, Int64(n), 0.01, 0.9, 0.999, 1e-8, 0, 1)
        #expect(zip(p, zip(start, grad)).allSatisfy { abs($0 - ($1.0 - 0.01 * ($1.1 > 0 ? 1 : -1))) < 1e-5 })
    }

    /// The shard tree's definition, written out recursively: left child over the largest power of
    /// two below n leaves, right child over the rest.
    func treeReference(_ parts: [[Float]], _ i: Int) -> Float {
        if parts.count == 1 { return parts[0][i] }
        var left = 1
        while left * 2 < parts.count { left *= 2 }
        return treeReference(Array(parts[..<left]), i) + treeReference(Array(parts[left...]), i)
    }

    /// values x 2^exponent.
    func scaled(_ values: [Float], by exponent: Int) -> [Float] {
        let factor = Float(sign: .plus, exponent: exponent, significand: 1)
        return values.map { $0 * factor }
    }

    func treeSum(_ parts: [[Float]], count n: Int, begin: Int, end: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        let pointers = parts.map { p -> UnsafePointer<Float>? in
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: n)
            copy.initialize(from: p, count: n)
            return UnsafePointer(copy)
        }
        defer { pointers.forEach { $0!.deallocate() } }
        ck_tree_sum(pointers, Int64(parts.count), &out, Int64(begin), Int64(end))
        return out
    }

    @Test func treeSumFollowsTheFixedTree() {
        let n = 600  // more than one of the kernel's blocks
        for count in [1, 2, 3, 5, 6, 7, 8, 13] {
            // Magnitudes far apart, so that a different grouping changes the rounding.
            let parts = (0..<count).map { s in scaled(random(n, seed: UInt64(s)), by: 3 * (s % 5)) }
            let results = versions { treeSum(parts, count: n, begin: 3, end: 590) }
            for r in results.dropFirst() { #expect(r == results[0], "\(count) parts") }
            #expect((3..<590).allSatisfy { results[0][$0] == treeReference(parts, $0) }, "\(count) parts")
            #expect(results[0][0] == 0 && results[0][599] == 0)
        }
    }

    @Test func aGroupOfAPowerOfTwoLeavesIsASubtree() {
        let n = 300
        let parts = (0..<8).map { s in scaled(random(n, seed: UInt64(40 + s)), by: 4 * (s % 3)) }
        let whole = treeSum(parts, count: n, begin: 0, end: n)
        var sequential = parts[0]
        for p in parts.dropFirst() { for i in 0..<n { sequential[i] += p[i] } }
        #expect(whole != sequential, "the data must be able to tell two orders apart")
        for group in [1, 2, 4, 8] {
            let sums = stride(from: 0, to: 8, by: group).map { treeSum(Array(parts[$0..<($0 + group)]), count: n, begin: 0, end: n) }
            #expect(treeSum(sums, count: n, begin: 0, end: n) == whole, "groups of \(group)")
        }
        let six = Array(parts[..<6])
        let pairs = stride(from: 0, to: 6, by: 2).map { treeSum(Array(six[$0..<($0 + 2)]), count: n, begin: 0, end: n) }
        #expect(treeSum(pairs, count: n, begin: 0, end: n) == treeSum(six, count: n, begin: 0, end: n))
    }

    @Test func lossVersionsAgree() {
        for (rows, classes) in [(1, 2), (15, 2), (16, 2), (50, 2), (37, 3), (33, 1), (50, 7)] {
            let logits = random(rows * classes, seed: UInt64(rows * 10 + classes)).map { $0 * 8 }
            let labels = (0..<rows).map { Int32(($0 * 7 + 3) % classes) }
            let results = versions { () -> [Float] in
                var lp = [Float](repeating: 0, count: rows * classes), d = lp
                var correct: Int64 = 0
                let loss = ck_logsoftmax_nll(logits, labels, Int64(rows), Int64(classes), &lp, &d, 0.25, &correct)
                return lp + d + [Float(loss), Float(correct)]
            }
            for r in results.dropFirst() { #expect(close(r, results[0], 1e-5), "rows \(rows) classes \(classes)") }
        }
    }

    /// Class weights: every version agrees, weights of 1 give the unweighted bits, and a row's loss
    /// and gradient are scaled by its class's weight.
    @Test func weightedLossVersionsAgree() {
        for (rows, classes) in [(15, 2), (50, 2), (37, 3), (50, 7)] {
            let logits = random(rows * classes, seed: UInt64(rows * 10 + classes)).map { $0 * 8 }
            let labels = (0..<rows).map { Int32(($0 * 7 + 3) % classes) }
            let weights = (0..<classes).map { Float($0 + 1) * 0.75 }
            func run(_ w: [Float]?) -> [Float] {
                var d = [Float](repeating: 0, count: rows * classes)
                let loss = ck_logsoftmax_nll_weighted(logits, labels, Int64(rows), Int64(classes), w, nil, &d, 0.25, nil)
                return d + [Float(loss)]
            }
            let results = versions { run(weights) }
            for r in results.dropFirst() { #expect(close(r, results[0], 1e-5), "rows \(rows) classes \(classes)") }
            for (ones, plain) in zip(versions { run([Float](repeating: 1, count: classes)) }, versions { run(nil) }) { #expect(ones == plain) }
            let plain = run(nil), weighted = results[0]
            for r in 0..<rows {
                let w = weights[Int(labels[r])]
                for k in 0..<classes { #expect(abs(weighted[r * classes + k] - w * plain[r * classes + k]) < 1e-6) }
            }
        }
    }

    @Test func logSoftmaxNLL() {
        // Two rows, three classes; row 0 label 2, row 1 label 0.
        let logits: [Float] = [1, 2, 3, 0, 0, 0]
        var logprobs = [Float](repeating: 0, count: 6), d = logprobs
        var correct: Int64 = 0
        let loss = ck_logsoftmax_nll(logits, [2, 0], 2, 3, &logprobs, &d, 0.5, &correct)
        let lse0 = log(exp(1.0) + exp(2.0) + exp(3.0)), lse1 = log(3.0)
        #expect(abs(loss - ((lse0 - 3) + lse1)) < 1e-5)
        #expect(abs(Double(logprobs[0]) - (1 - lse0)) < 1e-6)
        #expect(correct == 2)  // row 1 is a tie: argmax takes the first class, which is the label
        #expect(abs(Double(d[2]) - 0.5 * (exp(3 - lse0) - 1)) < 1e-6)
        #expect(abs(d[3] - 0.5 * (1.0 / 3 - 1)) < 1e-6)
    }
}
