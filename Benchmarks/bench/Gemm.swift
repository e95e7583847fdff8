import ArgumentParser
import CKernels

/// `bench gemm`: GFLOP/s of ck_sgemm, 1 thread, at 1024^3 and at the trainer's Linear-layer shapes.
struct Gemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GFLOP/s of the GEMM kernel, 1 thread, per instruction set (anchor: numpy/OpenBLAS, ../shared/anchors/sgemm.py).",
        discussion: "JSON fields per shape and instruction set: isa, group, shape, m, n, k, gflops, runs_gflops.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Instruction sets: avx2, avx512, scalar (slow at 1024^3), all (default: every SIMD set the CPU has).",
            transform: Gemm.instructionSets)
    var isa: [InstructionSet] = [.avx2, .avx512]
    @Flag(help: "One row count per network instead of three.") var quick = false

    struct Shape {
        var group: String
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var beta: Float
        var name: String { "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k)" }
    }

    struct Result: Encodable {
        var isa: String, group: String, shape: String
        var m: Int, n: Int, k: Int
        var gflops: Double
        var runsGflops: [Double]
    }

    static func instructionSets(_ text: String) throws -> [InstructionSet] {
        if text == "all" { return InstructionSet.allCases }
        return try text.split(separator: ",").map {
            guard let set = InstructionSet(rawValue: String($0)) else { throw ValidationError("--isa: unknown instruction set '\($0)'") }
            return set
        }
    }

    /// The Linear layer's three products for `rows` samples, `inF` -> `outF` features:
    /// forward Y = X W^T, dX = dY W, dW += dY^T X.
    static func linearShapes(_ group: String, rows: Int, inF: Int, outF: Int, withDX: Bool) -> [Shape] {
        var shapes = [Shape(group: group, transA: false, transB: true, m: rows, n: outF, k: inF, beta: 1)]
        if withDX { shapes.append(Shape(group: group, transA: false, transB: false, m: rows, n: inF, k: outF, beta: 0)) }
        shapes.append(Shape(group: group, transA: true, transB: false, m: outF, n: inF, k: rows, beta: 1))
        return shapes
    }

    func shapes() -> [Shape] {
        var list = [(false, false), (false, true), (true, false)].map {
            Shape(group: "square", transA: $0.0, transB: $0.1, m: 1024, n: 1024, k: 1024, beta: 0)
        }
        // Wide net 28-512-512-512-2 (the first layer needs no dX).
        for rows in quick ? [1024] : [1024, 512, 256] {
            for (index, (inF, outF)) in [(28, 512), (512, 512), (512, 2)].enumerated() {
                list += Self.linearShapes("wide n=\(rows)", rows: rows, inF: inF, outF: outF, withDX: index > 0)
            }
        }
        // Seed net 4-8-9-5-4-2 on the bank-note set (~1100 training rows, or a quarter per shard).
        for rows in quick ? [1100] : [1100, 275] {
            for (index, (inF, outF)) in [(4, 8), (8, 9), (9, 5), (5, 4), (4, 2)].enumerated() {
                list += Self.linearShapes("seed n=\(rows)", rows: rows, inF: inF, outF: outF, withDX: index > 0)
            }
        }
        return list
    }

    /// GFLOP/s of each timed run.
    func measure(_ s: Shape) -> [Double] {
        let lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n
        let a = (0..<s.m * s.k).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 }
        let b = (0..<s.k * s.n).map { Float(($0 * 104_729) % 1000) / 1000 - 0.5 }
        var c = [Float](repeating: 0, count: s.m * s.n)
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        return Timing.perCall(options) {
            ck_sgemm(s.transA ? 1 : 0, s.transB ? 1 : 0, Int64(s.m), Int64(s.n), Int64(s.k), 1, a,
                     Int64(lda), b, Int64(ldb), s.beta, &c, Int64(s.n))
        }.map { flops / $0 / 1e9 }
    }

    func run() throws {
        let isas = isa.map(\.kernels).filter { ck_isa_supported($0) != 0 }
        let names = isas.map { String(cString: ck_isa_name($0)) }
        let reporter = Reporter(bench: "gemm", options: options)
        reporter.line("ck_sgemm, 1 thread, GFLOP/s (median of \(options.repeats))")
        reporter.line("group".rightPadded(14) + "shape".rightPadded(20) + names.map { $0.leftPadded(9) }.joined())
        for s in shapes() {
            var text = s.group.rightPadded(14) + s.name.rightPadded(20)
            for (isa, name) in zip(isas, names) {
                ck_isa_force(isa)
                let runs = measure(s)
                reporter.record(Result(isa: name, group: s.group, shape: s.name, m: s.m, n: s.n, k: s.k,
                                       gflops: Timing.median(runs), runsGflops: runs))
                text += fixed(Timing.median(runs), 9)
            }
            reporter.line(text)
        }
        ck_isa_force(ck_isa_best())
    }
}
