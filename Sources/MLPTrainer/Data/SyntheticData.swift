import Foundation

/// A synthetic classification problem that a linear model cannot solve: features are standard
/// normal, and the class of a row is the argmax over classes of a random quadratic score
/// sum_j a[k][j] * x_j^2 + b[k][j] * x_j * x_{j+1} plus a per-class offset. The scores are even in
/// x (x and -x get the same class), so no linear boundary beats chance by much. The offsets balance
/// the classes: fitted (ClassBalance) on the first `balanceRows` rows so that each class gets its
/// share (uniform, or `classWeights` normalised), for every seed. Every value is a pure function of
/// (seed, row, column), so any range of rows can be generated on its own, in any order.
public struct SyntheticProblem: Sendable {
    public let features: Int
    public let classes: Int
    public let seed: UInt64
    /// The share of rows each class is given (sums to 1).
    public let shares: [Double]
    private let a: [Double]
    private let b: [Double]
    private var offsets: [Double]

    /// Rows the class offsets are fitted on: the shares on any other rows are within about
    /// 0.5 points (one standard error at a share of one half) of the target.
    public static let balanceRows = 8192

    /// `classWeights`: one positive weight per class, the classes' shares in proportion (default: equal).
    public init(features: Int, classes: Int, seed: UInt64, classWeights: [Double]? = nil) {
        precondition(features >= 1 && classes >= 2)
        let weights = classWeights ?? [Double](repeating: 1, count: classes)
        precondition(weights.count == classes && weights.allSatisfy { $0 > 0 && $0.isFinite })
        self.features = features
        self.classes = classes
        self.seed = seed
        let total = weights.reduce(0, +)
        shares = weights.map { $0 / total }
        var a = [Double](), b = [Double]()
        for k in 0..<classes {
            for j in 0..<features {
                a.append(Self.uniform(seed, 1 << 40, UInt64(k * features + j)) * 2 - 1)
                b.append(Self.uniform(seed, 1 << 41, UInt64(k * features + j)) * 2 - 1)
            }
        }
        self.a = a
        self.b = b
        offsets = [Double](repeating: 0, count: classes)
        offsets = ClassBalance.offsets(scores: quadraticScores(rows: Self.balanceRows), classes: classes, shares: shares)
    }

    /// The features of `row` into `out` (count `features`), and its class.
    public func row(_ row: Int, into out: UnsafeMutablePointer<Float>) -> Int32 {
        for j in 0..<features { out[j] = Float(normal(row, j)) }
        var best = 0
        var bestScore = -Double.infinity
        for k in 0..<classes {
            let score = offsets[k] + quadraticScore(k, out)
            if score > bestScore { bestScore = score; best = k }
        }
        return Int32(best)
    }

    /// A regression target for the row whose features are `x` (`datagen --task regression`): class
    /// 0's quadratic score (nonlinear, even in x, standard deviation about sqrt(features)) plus
    /// normal noise of 0.3 sqrt(features), so the best R^2 is about 0.9.
    public func target(_ row: Int, features x: UnsafePointer<Float>) -> Float {
        let u1 = max(Self.uniform(seed, 6, UInt64(row)), 1e-300), u2 = Self.uniform(seed, 7, UInt64(row))
        let noise = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
        return Float(quadraticScore(0, x) + 0.3 * Double(features).squareRoot() * noise)
    }

    /// `rows` rows as a Dataset with features x1..xF and classes "0".."C-1".
    public func dataset(rows: Int) -> Dataset {
        var x = [Float](repeating: 0, count: rows * features)
        var y = [Int32](repeating: 0, count: rows)
        x.withUnsafeMutableBufferPointer { buf in
            for r in 0..<rows { y[r] = row(r, into: buf.baseAddress! + r * features) }
        }
        return Dataset(features: x, labels: y, featureNames: (1...features).map { "x\($0)" },
                       classLabels: (0..<classes).map(String.init))
    }

    /// Class k's score without its offset.
    private func quadraticScore(_ k: Int, _ x: UnsafePointer<Float>) -> Double {
        var score = 0.0
        for j in 0..<features {
            let value = Double(x[j])
            let next = Double(x[(j + 1) % features])
            score += a[k * features + j] * value * value + b[k * features + j] * value * next
        }
        return score
    }

    /// rows x classes scores of the first `rows` rows, without offsets.
    private func quadraticScores(rows: Int) -> [Double] {
        var scores = [Double](repeating: 0, count: rows * classes)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: features)
        defer { x.deallocate() }
        for r in 0..<rows {
            for j in 0..<features { x[j] = Float(normal(r, j)) }
            for k in 0..<classes { scores[r * classes + k] = quadraticScore(k, x) }
        }
        return scores
    }

    private func normal(_ row: Int, _ col: Int) -> Double {
        // Box-Muller from two counter-based uniforms.
        let counter = UInt64(row) &* UInt64(features) &+ UInt64(col)
        let u1 = max(Self.uniform(seed, 1, counter), 1e-300)
        let u2 = Self.uniform(seed, 2, counter)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// A uniform double in [0, 1) from (seed, stream, counter): SplitMix64 finalisers.
    static func uniform(_ seed: UInt64, _ stream: UInt64, _ counter: UInt64) -> Double {
        var z = seed &+ stream &* 0x9E37_79B9_7F4A_7C15
        z = mix(z) &+ counter &* 0xD1B5_4A32_D192_ED03
        return Double(mix(z) >> 11) * 0x1.0p-53
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
