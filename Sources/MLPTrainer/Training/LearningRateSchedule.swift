import Foundation

/// `--lr-schedule`: the learning rate of each epoch, as PyTorch's schedulers give it when stepped once
/// per epoch (StepLR, CosineAnnealingLR with T_max the epochs after warm-up and eta_min 0, OneCycleLR
/// with total_steps = epochs and its defaults but cycle_momentum off, ReduceLROnPlateau's defaults on
/// the monitored loss). `--warmup-epochs N` first ramps linearly (LinearLR from lr/(N+1), N epochs),
/// then the schedule starts from lr, as SequentialLR chains them.
///
/// A pure function of the epoch and of `Plateau`, ReduceLROnPlateau's state after the monitored
/// losses of the finished epochs; a resumed run restores that state from its checkpoint (the history
/// there may be thinned, `HistoryBound`) and continues with the same rates.
public enum LearningRateSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    case constant
    case step(every: Int, gamma: Double)
    case cosine
    case onecycle
    case plateau(patience: Int, factor: Double)

    /// `constant`, `step:EVERY,GAMMA`, `cosine`, `onecycle` or `plateau:PATIENCE,FACTOR`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let arguments = parts.count > 1 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
        func numbers(_ usage: String) throws -> (Int, Double) {
            guard arguments.count == 2, let n = Int(arguments[0]), n >= 1, let x = Double(arguments[1]), x > 0, x < 1 else {
                throw ConfigError("--lr-schedule \(usage): a whole number >= 1 and a factor in (0, 1), like \(usage == "step:EVERY,GAMMA" ? "step:30,0.1" : "plateau:5,0.5"); got '\(text)'")
            }
            return (n, x)
        }
        switch parts.first ?? "" {
        case "constant" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine
        case "onecycle" where parts.count == 1: self = .onecycle
        case "step": let (n, x) = try numbers("step:EVERY,GAMMA"); self = .step(every: n, gamma: x)
        case "plateau": let (n, x) = try numbers("plateau:PATIENCE,FACTOR"); self = .plateau(patience: n, factor: x)
        default:
            throw ConfigError("unknown --lr-schedule '\(text)' (available: constant, step:EVERY,GAMMA, cosine, onecycle, plateau:PATIENCE,FACTOR)")
        }
    }

    public var description: String {
        switch self {
        case .constant: "constant"
        case let .step(every, gamma): "step:\(every),\(gamma)"
        case .cosine: "cosine"
        case .onecycle: "onecycle"
        case let .plateau(patience, factor): "plateau:\(patience),\(factor)"
        }
    }

    /// ReduceLROnPlateau's state (mode min, threshold 1e-4 relative, cooldown 0, min_lr 0, eps 1e-8)
    /// after stepping on some losses: the rate, the best loss, the epochs without improvement.
    public struct Plateau: Sendable, Equatable {
        public var rate: Double
        public var best: Double
        public var bad: Int

        public init(rate: Double, best: Double = .infinity, bad: Int = 0) {
            (self.rate, self.best, self.bad) = (rate, best, bad)
        }
    }

    /// `state` after one more monitored loss (unchanged but for `plateau`).
    public func observing(_ loss: Double, _ state: Plateau) -> Plateau {
        guard case let .plateau(patience, factor) = self else { return state }
        var next = state
        if loss < next.best * (1 - 1e-4) {
            next.best = loss
            next.bad = 0
        } else {
            next.bad += 1
        }
        if next.bad > patience {
            if next.rate - next.rate * factor > 1e-8 { next.rate *= factor }
            next.bad = 0
        }
        return next
    }

    /// The rate of `epoch` (from 1) of `epochs`, for base rate `base`; `plateau` is the state after
    /// the monitored losses of the finished epochs after the warm-up (only `plateau` reads it).
    public func learningRate(epoch: Int, of epochs: Int, base: Double, warmup: Int, plateau: Plateau) -> Double {
        if epoch <= warmup {
            let start = 1 / Double(warmup + 1)
            return base * (start + (1 - start) * Double(epoch - 1) / Double(warmup))
        }
        let t = epoch - 1 - warmup, total = epochs - warmup
        switch self {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * pow(gamma, Double(t / every))
        case .cosine:
            return base * (1 + cos(Double.pi * Double(t) / Double(max(total, 1)))) / 2
        case .onecycle:
            return Self.oneCycle(step: t, total: total, maxRate: base)
        case .plateau:
            return plateau.rate
        }
    }

    /// The same from the monitored loss of every finished epoch (`monitored[i]`: epoch i + 1's).
    public func learningRate(epoch: Int, of epochs: Int, base: Double, warmup: Int, monitored: [Double]) -> Double {
        let plateau = monitored.prefix(epoch - 1).dropFirst(warmup).reduce(Plateau(rate: base)) { observing($1, $0) }
        return learningRate(epoch: epoch, of: epochs, base: base, warmup: warmup, plateau: plateau)
    }

    /// OneCycleLR (pct_start 0.3, cosine annealing, div_factor 25, final_div_factor 1e4, two phases).
    private static func oneCycle(step: Int, total: Int, maxRate: Double) -> Double {
        let initial = maxRate / 25, minimum = initial / 1e4
        let warmEnd = 0.3 * Double(total) - 1, end = Double(total - 1)
        func anneal(_ start: Double, _ stop: Double, _ fraction: Double) -> Double { stop + (start - stop) / 2 * (cos(Double.pi * fraction) + 1) }
        let s = Double(step)
        if s <= warmEnd { return anneal(initial, maxRate, s / warmEnd) }
        return anneal(maxRate, minimum, (s - warmEnd) / (end - warmEnd))
    }
}
