import CKernels
import Testing

/// The fused narrow block's passes (narrow_block.c) against the unfused kernels they stand for:
/// affine activation, BatchNorm and dropout one call each, under every instruction set, on row counts
/// that leave a remainder after the 16-row pattern groups.
@Suite(.serialized) struct NarrowBlockKernelTests {
    let versions = KernelVersionTests()

    struct Case {
        let rows: Int, cols: Int, perChannel: Bool, p: Float, row0: Int
    }

    /// The block's coefficients as the kernels take them, the arrays kept alive by the caller.
    struct Coefficients {
        let alpha: [Float], beta: [Float], mean: [Float], invstd: [Float], gamma: [Float], shift: [Float]

        init(_ c: Case, _ random: (Int, UInt64) -> [Float]) {
            let slots = c.perChannel ? c.cols : 1
            alpha = random(slots, 21)
            beta = random(slots, 22).map { $0 + 1.5 }
            mean = random(c.cols, 23)
            invstd = random(c.cols, 24).map { $0 + 2 }
            gamma = random(c.cols, 25).map { $0 + 1 }
            shift = random(c.cols, 26)
        }

        /// Runs `body` with the block's plan (with the whole batch's backward sums when given).
        func withPlan<T>(_ c: Case, sums: (dy: [Double], dyXhat: [Double])? = nil, _ body: (OpaquePointer) -> T) -> T {
            let all = alpha + beta + mean + invstd + gamma + shift
            let plan = UnsafeMutableRawPointer.allocate(byteCount: ck_narrow_plan_size(), alignment: 64)
            defer { plan.deallocate() }
            all.withUnsafeBufferPointer { buffer in
                let p = buffer.baseAddress!, slots = alpha.count, cols = mean.count
                var block = ck_narrow_block(alpha: p, beta: p + slots, act_per_channel: c.perChannel ? 1 : 0, mean: p + 2 * slots,
                                            invstd: p + 2 * slots + cols, gamma: p + 2 * slots + 2 * cols, shift: p + 2 * slots + 3 * cols,
                                            p: c.p, layer: 3, seed: 42, step: 7)
                let dy = sums?.dy ?? [], dyXhat = sums?.dyXhat ?? []
                dy.withUnsafeBufferPointer { d in
                    dyXhat.withUnsafeBufferPointer { x in
                        let given = sums != nil
                        ck_narrow_plan_make(OpaquePointer(plan), &block, Int64(c.cols), given ? d.baseAddress : nil, given ? x.baseAddress : nil,
                                            Int64(c.rows + 5))
                    }
                }
            }
            return body(OpaquePointer(plan))
        }
    }

    /// Every pass's outputs, fused and unfused, in one array each.
    func outputs(_ c: Case, fused: Bool) -> (values: [Float], maskedDy: [Float]) {
        let n = c.rows * c.cols, rows = Int64(c.rows), cols = Int64(c.cols)
        let z = versions.random(n, seed: UInt64(c.rows * 100 + c.cols)), dy = versions.random(n, seed: 31)
        let k = Coefficients(c, { versions.random($0, seed: $1) })
        var sum = [Double](repeating: 0, count: c.cols), sumsq = sum, sumDy = sum, sumDyXhat = sum
        var y = [Float](repeating: 0, count: n), masked = dy, da = y
        if fused {
            let row0 = Int64(c.row0)
            k.withPlan(c) { plan in
                ck_narrow_stats(plan, z, rows, &sum, &sumsq)
                ck_narrow_forward(plan, row0, z, &y, rows, nil)
                ck_narrow_backward_sums(plan, row0, z, nil, &masked, rows, nil, &sumDy, &sumDyXhat)
            }
            k.withPlan(c, sums: (sumDy, sumDyXhat)) { plan in ck_narrow_backward_input(plan, z, masked, &da, rows) }
        } else {
            var a = y, xhat = y
            ck_act_forward(CK_ACT_AFFINE, z, &a, rows, cols, k.alpha + k.beta, c.perChannel ? 1 : 0)
            ck_bn_partial_stats(a, rows, cols, &sum, &sumsq)
            ck_bn_forward(a, k.mean, k.invstd, k.gamma, k.shift, &xhat, &y, rows, cols)
            if c.p > 0 {
                let normalized = y
                ck_dropout_forward(normalized, &y, rows, cols, c.p, 42, 7, 3, Int64(c.row0))
                ck_dropout_backward(dy, &masked, rows, cols, c.p, 42, 7, 3, Int64(c.row0))
            }
            ck_bn_backward_partials(masked, xhat, rows, cols, &sumDy, &sumDyXhat)
            ck_bn_backward_input(masked, xhat, k.gamma, k.invstd, sumDy, sumDyXhat, rows + 5, &da, rows, cols)
        }
        let sums = (sum + sumsq + sumDy + sumDyXhat).map(Float.init)
        return (y + da + sums, masked)
    }

    static let cases = [Case(rows: 37, cols: 9, perChannel: false, p: 0.4, row0: 1000), Case(rows: 53, cols: 8, perChannel: true, p: 0.4, row0: 0),
                        Case(rows: 16, cols: 4, perChannel: false, p: 0, row0: 0), Case(rows: 5, cols: 5, perChannel: true, p: 0.4, row0: 17),
                        // The counters cross 2^32 (row 536,870,912 of 8 columns) inside the first 16-row group.
                        Case(rows: 40, cols: 8, perChannel: false, p: 0.4, row0: 536_870_900)]

    @Test(arguments: cases.indices)
    func fusedPassesMatchTheUnfusedKernels(_ index: Int) {
        let c = Self.cases[index]
        let results = versions.versions { (fused: outputs(c, fused: true), unfused: outputs(c, fused: false)) }
        for r in results {
            // The masks are the same draws: the masked gradients are the same floats.
            #expect(r.fused.maskedDy == r.unfused.maskedDy, "rows \(c.rows) cols \(c.cols) row0 \(c.row0)")
            #expect(versions.close(r.fused.values, r.unfused.values, 1e-5), "rows \(c.rows) cols \(c.cols)")
            #expect(versions.close(r.fused.values, results[0].fused.values, 1e-5), "instruction sets disagree")
        }
        if c.p > 0 { #expect(results[0].fused.maskedDy.contains(0)) }
    }

    /// With an output, the masking pass also recomputes the block's output (a chained block's input)
    /// as the forward pass writes it: the same floats, and the same masked gradient and sums as without.
    @Test(arguments: cases.indices)
    func maskingPassRecomputesTheForwardOutput(_ index: Int) {
        let c = Self.cases[index]
        let n = c.rows * c.cols, rows = Int64(c.rows), row0 = Int64(c.row0)
        let z = versions.random(n, seed: 5), dy = versions.random(n, seed: 6)
        let k = Coefficients(c, { versions.random($0, seed: $1) })
        let results = versions.versions { () -> (forward: [Float], recomputed: [Float], alone: [Float], together: [Float], sums: [Double], both: [Double]) in
            var forward = [Float](repeating: 0, count: n), recomputed = forward, alone = dy, together = dy
            var sumDy = [Double](repeating: 0, count: c.cols), sumDyXhat = sumDy, bothDy = sumDy, bothDyXhat = sumDy
            k.withPlan(c) { plan in
                ck_narrow_forward(plan, row0, z, &forward, rows, nil)
                ck_narrow_backward_sums(plan, row0, z, nil, &alone, rows, nil, &sumDy, &sumDyXhat)
                ck_narrow_backward_sums(plan, row0, z, &recomputed, &together, rows, nil, &bothDy, &bothDyXhat)
            }
            return (forward, recomputed, alone, together, sumDy + sumDyXhat, bothDy + bothDyXhat)
        }
        for r in results {
            #expect(r.forward == r.recomputed && r.alone == r.together && r.sums == r.both, "rows \(c.rows) cols \(c.cols) row0 \(c.row0)")
        }
    }

    /// The keep bits the forward pass stores are the hash's draws (the unfused dropout's mask), and the
    /// masking pass that reads them masks and sums as it does hashing the mask again, under every
    /// instruction set (the last case's counters cross 2^32 inside its first group).
    @Test(arguments: cases.indices)
    func storedKeepBitsAreTheHashsDraws(_ index: Int) {
        let c = Self.cases[index]
        let n = c.rows * c.cols, rows = Int64(c.rows), cols = Int64(c.cols), row0 = Int64(c.row0)
        let z = versions.random(n, seed: 5), dy = versions.random(n, seed: 6)
        let k = Coefficients(c, { versions.random($0, seed: $1) })
        let words = Int(ck_narrow_keep_words(rows, cols))
        var kept = [Float](repeating: 0, count: n)
        ck_dropout_backward([Float](repeating: 1, count: n), &kept, rows, cols, c.p, 42, 7, 3, row0)
        let results = versions.versions { () -> (bits: [UInt16], hashed: [Float], stored: [Float], sums: [Double], storedSums: [Double]) in
            var bits = [UInt16](repeating: 0, count: words), y = [Float](repeating: 0, count: n), hashed = dy, stored = dy
            var sumDy = [Double](repeating: 0, count: c.cols), sumDyXhat = sumDy, storedDy = sumDy, storedDyXhat = sumDy
            k.withPlan(c) { plan in
                ck_narrow_forward(plan, row0, z, &y, rows, &bits)
                ck_narrow_backward_sums(plan, row0, z, nil, &hashed, rows, nil, &sumDy, &sumDyXhat)
                ck_narrow_backward_sums(plan, row0, z, nil, &stored, rows, bits, &storedDy, &storedDyXhat)
            }
            return (bits, hashed, stored, sumDy + sumDyXhat, storedDy + storedDyXhat)
        }
        let drawn = (0..<(16 * words)).map { kept[$0] != 0 }
        for r in results {
            let read = (0..<(16 * words)).map { r.bits[$0 / 16] >> ($0 % 16) & 1 == 1 }
            if c.p > 0 { #expect(read == drawn, "rows \(c.rows) cols \(c.cols) row0 \(c.row0)") }
            #expect(r.stored == r.hashed && r.storedSums == r.sums, "rows \(c.rows) cols \(c.cols) row0 \(c.row0)")
        }
        if c.p > 0 && words > 0 { #expect(drawn.contains(false) && drawn.contains(true)) }
    }
}
