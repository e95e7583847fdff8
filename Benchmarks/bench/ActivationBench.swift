// `bench activations`: forward and fused backward throughput of every activation kernel, against a
// plain memcpy of the same number of bytes measured in the same run.
//
// Bytes counted: forward reads x and writes y (8 bytes per element); backward reads x and dy and
// writes dx (12 bytes per element). memcpy of n floats moves 8n bytes (read + write). Each figure is
// the median over the repeats. Options:
//   --sizes 1024x512,8192x1024   matrix shapes rows x cols (default: these two)
//   --repeats N                  timed repeats per measurement (default 25)
//   --isa scalar|avx2|avx512     force an instruction set (default: the best one)
//   --only name[,name...]        only these activations
// Prints a table, then one JSON line starting with {"bench":"activations".
import CKernels
import Foundation

enum ActivationBench {
    private struct Case {
        var label: String
        var kind: ck_activation
        var params: (Int) -> [Float]  // cols -> parameter buffer
        var perChannel: Bool
    }

    private struct Result {
        var label: String
        var rows: Int, cols: Int
        var forward: Double, backward: Double  // seconds, medians
        var copy: Double  // seconds for memcpy of rows*cols floats
    }

    private static func cases() -> [Case] {
        func scalar(_ kind: ck_activation, _ p: [Float]) -> Case {
            Case(label: String(cString: ck_act_name(kind)), kind: kind, params: { _ in p }, perChannel: false)
        }
        var list = [
            scalar(CK_ACT_AFFINE, [0.3, -0.7]),
            Case(label: "softexp(a>0)", kind: CK_ACT_SOFTEXP, params: { _ in [0.35] }, perChannel: false),
            Case(label: "softexp(a<0)", kind: CK_ACT_SOFTEXP, params: { _ in [-0.15] }, perChannel: false),
            Case(label: "srelu", kind: CK_ACT_SRELU, params: { cols in
                [Float](repeating: -0.5, count: cols) + [Float](repeating: 0.2, count: cols)
                    + [Float](repeating: 0.8, count: cols) + [Float](repeating: 1.1, count: cols)
            }, perChannel: true),
        ]
        list += [scalar(CK_ACT_BRELU, []), scalar(CK_ACT_ISRU, [0.8]), scalar(CK_ACT_SWISH, [1.3]),
                 scalar(CK_ACT_SILU, []), scalar(CK_ACT_RELU, []), scalar(CK_ACT_LEAKY_RELU, []),
                 scalar(CK_ACT_TANH, []), scalar(CK_ACT_SIGMOID, []), scalar(CK_ACT_GELU, [])]
        return list
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private static func median(repeats: Int, _ body: () -> Void) -> Double {
        body()  // warm-up
        let clock = ContinuousClock()
        var times = (0..<repeats).map { _ in seconds(clock.measure(body)) }
        times.sort()
        return times[times.count / 2]
    }

    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
    }

    static func run(arguments: [String]) {
        var sizes = [(1024, 512), (8192, 1024)]
        var repeats = 25
        var only: Set<String>? = nil
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch a {
            case "--sizes":
                sizes = value.split(separator: ",").compactMap { s in
                    let p = s.split(separator: "x").compactMap { Int($0) }
                    return p.count == 2 ? (p[0], p[1]) : nil
                }
                i += 1
            case "--repeats": repeats = max(1, Int(value) ?? repeats); i += 1
            case "--isa":
                let isa: ck_isa = value == "scalar" ? CK_ISA_SCALAR : value == "avx2" ? CK_ISA_AVX2 : CK_ISA_AVX512
                _ = ck_isa_force(isa)
                i += 1
            case "--only": only = Set(value.split(separator: ",").map(String.init)); i += 1
            default: break
            }
            i += 1
        }
        let isaName = String(cString: ck_isa_name(ck_isa_active()))
        var results: [Result] = []
        for (rows, cols) in sizes {
            let n = rows * cols
            let x = alloc(n), y = alloc(n), dy = alloc(n), dx = alloc(n)
            defer { for p in [x, y, dy, dx] { p.deallocate() } }
            var state: UInt32 = 12345
            for j in 0..<n {
                state = state &* 1_664_525 &+ 1_013_904_223
                x[j] = Float(state >> 8) / Float(1 << 24) * 6 - 3
                state = state &* 1_664_525 &+ 1_013_904_223
                dy[j] = Float(state >> 8) / Float(1 << 24) * 2 - 1
            }
            let copy = median(repeats: repeats) { memcpy(y, x, n * 4) }
            for c in cases() where only == nil || only!.contains(c.label) || only!.contains(String(cString: ck_act_name(c.kind))) {
                let params = c.params(cols)
                var grads = [Float](repeating: 0, count: max(params.count, 1))
                let p = params.isEmpty ? [Float(0)] : params
                let pc: Int32 = c.perChannel ? 1 : 0
                let fwd = p.withUnsafeBufferPointer { pp in
                    median(repeats: repeats) { ck_act_forward(c.kind, x, y, Int64(rows), Int64(cols), pp.baseAddress, pc) }
                }
                let bwd = p.withUnsafeBufferPointer { pp in
                    grads.withUnsafeMutableBufferPointer { gp in
                        median(repeats: repeats) {
                            ck_act_backward(c.kind, x, dy, dx, Int64(rows), Int64(cols), pp.baseAddress, pc, gp.baseAddress)
                        }
                    }
                }
                results.append(Result(label: c.label, rows: rows, cols: cols, forward: fwd, backward: bwd, copy: copy))
            }
        }
        printTable(results, isa: isaName)
        printJSON(results, isa: isaName)
    }

    private static func printTable(_ results: [Result], isa: String) {
        func f(_ v: Double, _ width: Int, _ digits: Int = 1) -> String {
            let s = String(format: "%.\(digits)f", v)
            return String(repeating: " ", count: max(0, width - s.count)) + s
        }
        func l(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        print("Activation kernels, \(isa); GB/s counts fwd: x + y, bwd: x + dy + dx; copy = memcpy of the same bytes")
        var lastSize = ""
        for r in results {
            let size = "\(r.rows)x\(r.cols)"
            let n = Double(r.rows * r.cols)
            let copyGBs = 8 * n / r.copy / 1e9
            if size != lastSize {
                lastSize = size
                print("\n\(size) float32 (\(f(n * 4 / 1e6, 0)) MB per array), copy \(f(copyGBs, 0)) GB/s")
                print("activation     fwd GB/s  bwd GB/s  fwd+bwd Gelem/s  fwd+bwd GB/s  vs copy  time vs affine")
            }
            let both = r.forward + r.backward
            let gbs = 20 * n / both / 1e9
            let affine = results.first { $0.label == "affine" && $0.rows == r.rows && $0.cols == r.cols }
            let vsAffine = affine.map { both / ($0.forward + $0.backward) } ?? .nan
            print(l(r.label, 14) + f(8 * n / r.forward / 1e9, 9) + f(12 * n / r.backward / 1e9, 10)
                  + f(n / both / 1e9, 17, 2) + f(gbs, 14) + f(gbs / copyGBs, 8, 2) + "x" + f(vsAffine, 14, 2) + "x")
        }
        print("")
    }

    private static func printJSON(_ results: [Result], isa: String) {
        var items: [[String: Any]] = []
        for r in results {
            let n = Double(r.rows * r.cols)
            let copyGBs = 8 * n / r.copy / 1e9
            let both = r.forward + r.backward
            items.append([
                "activation": r.label, "rows": r.rows, "cols": r.cols,
                "forward_s": r.forward, "backward_s": r.backward,
                "forward_gbs": 8 * n / r.forward / 1e9, "backward_gbs": 12 * n / r.backward / 1e9,
                "elements_per_s": n / both, "gbs": 20 * n / both / 1e9,
                "copy_gbs": copyGBs, "vs_copy": 20 * n / both / 1e9 / copyGBs,
            ])
        }
        let obj: [String: Any] = ["bench": "activations", "isa": isa, "results": items]
        if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]),
           let s = String(data: data, encoding: .utf8) {
            print(s)
        }
    }
}
