import CKernels
import Foundation

/// `bench gemm [--isa scalar|avx2|avx512|all] [--repeats N] [--quick]`: GFLOP/s of ck_sgemm (median
/// of the repeats) at 1024^3 and at the trainer's Linear-layer shapes, per instruction set. By default
/// every SIMD set the CPU supports; the scalar reference is slow at 1024^3, so only on request.
/// Prints a table, then one JSON line. Anchor: numpy/OpenBLAS single-threaded, see
/// ../shared/anchors/sgemm.py (OPENBLAS_NUM_THREADS=1).
enum GemmBench {
    struct Shape {
        var group: String
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var beta: Float
        var name: String { "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k)" }
    }

    struct Result: Codable {
        var isa: String
        var group: String
        var shape: String
        var m: Int, n: Int, k: Int
        var gflops: Double
    }

    struct Report: Codable {
        var benchmark = "gemm"
        var unit = "GFLOP/s"
        var threads = 1
        var results: [Result]
    }

    /// The Linear layer's three products for `rows` samples, `inF` -> `outF` features:
    /// forward Y = X W^T, dX = dY W, dW += dY^T X.
    static func linearShapes(_ group: String, rows: Int, inF: Int, outF: Int, withDX: Bool) -> [Shape] {
        var shapes = [Shape(group: group, transA: false, transB: true, m: rows, n: outF, k: inF, beta: 1)]
        if withDX { shapes.append(Shape(group: group, transA: false, transB: false, m: rows, n: inF, k: outF, beta: 0)) }
        shapes.append(Shape(group: group, transA: true, transB: false, m: outF, n: inF, k: rows, beta: 1))
        return shapes
    }

    static func shapes(quick: Bool) -> [Shape] {
        var list = [
            Shape(group: "square", transA: false, transB: false, m: 1024, n: 1024, k: 1024, beta: 0),
            Shape(group: "square", transA: false, transB: true, m: 1024, n: 1024, k: 1024, beta: 0),
            Shape(group: "square", transA: true, transB: false, m: 1024, n: 1024, k: 1024, beta: 0),
        ]
        // Wide net 28-512-512-512-2 (the first layer needs no dX).
        for rows in quick ? [1024] : [1024, 512, 256] {
            for (index, (inF, outF)) in [(28, 512), (512, 512), (512, 2)].enumerated() {
                list += linearShapes("wide n=\(rows)", rows: rows, inF: inF, outF: outF, withDX: index > 0)
            }
        }
        // Seed net 4-8-9-5-4-2 on the bank-note set (~1100 training rows, or a quarter per shard).
        for rows in quick ? [1100] : [1100, 275] {
            for (index, (inF, outF)) in [(4, 8), (8, 9), (9, 5), (5, 4), (4, 2)].enumerated() {
                list += linearShapes("seed n=\(rows)", rows: rows, inF: inF, outF: outF, withDX: index > 0)
            }
        }
        return list
    }

    /// Median GFLOP/s over `repeats` timed runs of at least ~20 ms each (after one warm-up call).
    static func measure(_ s: Shape, repeats: Int) -> Double {
        let lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n
        let a = (0..<s.m * s.k).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 }
        let b = (0..<s.k * s.n).map { Float(($0 * 104_729) % 1000) / 1000 - 0.5 }
        var c = [Float](repeating: 0, count: s.m * s.n)
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        func call() {
            ck_sgemm(s.transA ? 1 : 0, s.transB ? 1 : 0, Int64(s.m), Int64(s.n), Int64(s.k), 1, a,
                     Int64(lda), b, Int64(ldb), s.beta, &c, Int64(s.n))
        }
        let clock = ContinuousClock()
        let once = clock.measure { call() }
        let seconds = Double(once.components.seconds) + Double(once.components.attoseconds) * 1e-18
        let calls = max(1, Int(0.02 / max(seconds, 1e-9)))
        var rates: [Double] = []
        for _ in 0..<repeats {
            let t = clock.measure { for _ in 0..<calls { call() } }
            let dt = Double(t.components.seconds) + Double(t.components.attoseconds) * 1e-18
            rates.append(flops * Double(calls) / dt / 1e9)
        }
        rates.sort()
        return rates[rates.count / 2]
    }

    static func run(arguments: [String]) {
        var isas = [CK_ISA_AVX2, CK_ISA_AVX512]
        var repeats = 7
        var quick = false
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--isa" where i + 1 < arguments.count:
                i += 1
                let all = [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512]
                isas = arguments[i] == "all" ? all : all.filter { String(cString: ck_isa_name($0)) == arguments[i] }
            case "--repeats" where i + 1 < arguments.count:
                i += 1
                repeats = max(1, Int(arguments[i]) ?? repeats)
            case "--quick":
                quick = true
            default:
                print("usage: bench gemm [--isa scalar|avx2|avx512|all] [--repeats N] [--quick]")
                return
            }
            i += 1
        }
        isas = isas.filter { ck_isa_supported($0) != 0 }
        let names = isas.map { String(cString: ck_isa_name($0)) }

        print("ck_sgemm, 1 thread, GFLOP/s (median of \(repeats))")
        print("group".padding(toLength: 14, withPad: " ", startingAt: 0)
            + "shape".padding(toLength: 20, withPad: " ", startingAt: 0)
            + names.map { $0.leftPadded(9) }.joined())
        var results: [Result] = []
        for s in shapes(quick: quick) {
            var line = s.group.padding(toLength: 14, withPad: " ", startingAt: 0)
                + s.name.padding(toLength: 20, withPad: " ", startingAt: 0)
            for (isa, name) in zip(isas, names) {
                ck_isa_force(isa)
                let g = measure(s, repeats: repeats)
                results.append(Result(isa: name, group: s.group, shape: s.name, m: s.m, n: s.n, k: s.k,
                                      gflops: (g * 10).rounded() / 10))
                line += String(format: "%9.1f", g)
            }
            print(line)
        }
        ck_isa_force(ck_isa_best())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let data = try? encoder.encode(Report(results: results)), let json = String(data: data, encoding: .utf8) {
            print(json)
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
