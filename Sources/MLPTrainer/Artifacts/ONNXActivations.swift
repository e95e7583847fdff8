import CKernels
import Foundation

/// Every activation as standard ONNX operators, with the formulas of the kernels (CKernels.h):
/// learnable parameters are the initializers `a{i}.{parameter}` (0-dim per layer, [width] per
/// channel), which broadcast over the rows; derived values (a - 1, 1/a) are computed in the graph
/// from them, as the kernels do.
extension ONNXGraphBuilder {
    /// Applies hidden block `block`'s activation to `x` ([N, width]); the last node and its output are
    /// named `a{block}`. `parameters` holds each learnable parameter's values, by name.
    mutating func activation(_ spec: ActivationSpec, _ x: String, block: Int, width: Int,
                             parameters: [String: [Float]]) throws -> String {
        let out = "a\(block)"
        func p(_ name: String) -> String { "\(out).\(name)" }
        switch spec.kind.name {
        case "relu": return node("Relu", [x], out)
        case "leaky_relu": return node("LeakyRelu", [x], out, attributes: [Self.attribute("alpha", float: CK_ACT_LEAKY_SLOPE)])
        case "sigmoid": return node("Sigmoid", [x], out)
        case "tanh": return node("Tanh", [x], out)
        case "affine":  // alpha + beta x
            return node("Add", [p("alpha"), node("Mul", [p("beta"), x], "\(out).beta_x")], out)
        case "silu":  // x sigmoid(x)
            return node("Mul", [x, node("Sigmoid", [x], "\(out).sigmoid")], out)
        case "swish":  // x sigmoid(beta x)
            let z = node("Mul", [p("beta"), x], "\(out).beta_x")
            return node("Mul", [x, node("Sigmoid", [z], "\(out).sigmoid")], out)
        case "gelu":  // exact: x (1 + erf(x / sqrt 2)) / 2
            let e = node("Erf", [node("Mul", [x, scalar("sqrt_half", 0.70710678118654752)], "\(out).x_over_sqrt2")], "\(out).erf")
            let half = scalar("half", 0.5)
            let cdf = node("Add", [node("Mul", [e, half], "\(out).half_erf"), half], "\(out).cdf")
            return node("Mul", [x, cdf], out)
        case "isru":  // x / sqrt(1 + alpha x^2)
            let ax2 = node("Mul", [node("Mul", [p("alpha"), x], "\(out).alpha_x"), x], "\(out).alpha_x2")
            let root = node("Sqrt", [node("Add", [ax2, scalar("one", 1)], "\(out).one_plus")], "\(out).sqrt")
            return node("Div", [x, root], out)
        case "srelu":  // x + (a_l - 1) min(x - t_l, 0) + (a_r - 1) max(x - t_r, 0)
            let zero = scalar("zero", 0), one = scalar("one", 1)
            let left = node("Min", [node("Sub", [x, p("t_left")], "\(out).x_minus_t_left"), zero], "\(out).left_excess")
            let right = node("Max", [node("Sub", [x, p("t_right")], "\(out).x_minus_t_right"), zero], "\(out).right_excess")
            let leftTerm = node("Mul", [node("Sub", [p("a_left"), one], "\(out).a_left_minus_one"), left], "\(out).left_term")
            let rightTerm = node("Mul", [node("Sub", [p("a_right"), one], "\(out).a_right_minus_one"), right], "\(out).right_term")
            return node("Add", [node("Add", [x, leftTerm], "\(out).with_left"), rightTerm], out)
        case "brelu":  // relu on even channels, -relu(-x) on odd ones: s relu(s x), s = +1, -1, +1, ...
            let signs = initializer("\(out).signs", (0..<width).map { $0 % 2 == 0 ? 1 : -1 }, shape: [width],
                                    doc: "+1 on even channels, -1 on odd ones")
            let flipped = node("Relu", [node("Mul", [x, signs], "\(out).flip")], "\(out).relu")
            return node("Mul", [flipped, signs], out)
        case "softexp":
            return softexp(x, alpha: p("alpha"), values: parameters["alpha"] ?? [], out: out)
        default:
            throw ArtifactError("model.onnx: no ONNX form for the activation '\(spec.kind.name)'")
        }
    }

    /// Soft exponential, by the sign of alpha (a per-channel alpha of mixed signs selects per channel):
    /// a > 0: a + expm1(a x) / a;  a = 0: a + x;  a < 0: -ln(max(1 - a (x + a), CK_ACT_SOFTEXP_MIN_LOG_ARG)) / a.
    private mutating func softexp(_ x: String, alpha a: String, values: [Float], out: String) -> String {
        let hasPositive = values.contains { $0 > 0 }, hasZero = values.contains { $0 == 0 }, hasNegative = values.contains { $0 < 0 }
        var result: String?
        if hasPositive || hasZero {  // a + expm1(a x) / a, or a + x where a = 0 (as the kernel)
            var inner = x
            if hasPositive {
                let expm1OverAlpha = node("Mul", [expm1(node("Mul", [a, x], "\(out).alpha_x"), out),
                                                  node("Reciprocal", [a], "\(out).inverse_alpha")], "\(out).expm1_over_alpha")
                inner = hasZero ? node("Where", [node("Equal", [a, scalar("zero", 0)], "\(out).alpha_is_zero"), x, expm1OverAlpha],
                                       "\(out).growth") : expm1OverAlpha
            }
            result = node("Add", [a, inner], hasNegative ? "\(out).nonnegative" : out)
        }
        if hasNegative {
            let negative = softexpNegative(x, alpha: a, out: result == nil ? out : "\(out).negative", prefix: out)
            result = result.map { node("Where", [node("Less", [a, scalar("zero", 0)], "\(out).alpha_is_negative"), negative, $0], out) } ?? negative
        }
        return result!
    }

    /// -ln(u)/a with u = 1 - a (x + a), as the kernel: for |w| = |a (x + a)| <= 1/4 as
    /// (x + a) (-ln(1 - w) / w) (no cancellation, no division by a tiny a), beyond with u clamped below.
    private mutating func softexpNegative(_ x: String, alpha a: String, out: String, prefix: String) -> String {
        let xa = node("Add", [x, a], "\(prefix).x_plus_alpha")
        let w = node("Mul", [a, xa], "\(prefix).w")
        let u = node("Sub", [scalar("one", 1), w], "\(prefix).u")
        let near = node("Mul", [xa, logRatio(u, prefix)], "\(prefix).small_w_form")
        let clamped = node("Max", [u, scalar("softexp_min_log_arg", CK_ACT_SOFTEXP_MIN_LOG_ARG)], "\(prefix).u_clamped")
        let minusInverse = node("Neg", [node("Reciprocal", [a], "\(prefix).inverse_alpha_negative")], "\(prefix).minus_inverse_alpha")
        let far = node("Mul", [node("Log", [clamped], "\(prefix).log_u_clamped"), minusInverse], "\(prefix).large_w_form")
        let small = node("LessOrEqual", [node("Abs", [w], "\(prefix).abs_w"), scalar("quarter", 0.25)], "\(prefix).small_w")
        return node("Where", [small, near, far], out)
    }
}
