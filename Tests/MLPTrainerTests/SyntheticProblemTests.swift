import Foundation
import Testing
@testable import MLPTrainer

/// The synthetic problem behind `datagen` and `train`'s built-in data: every seed balances its
/// classes (or gives them the asked-for shares), on rows other than the ones the offsets were fitted on.
@Suite struct SyntheticProblemTests {
    /// Class shares of `count` rows starting far beyond the balancing sample.
    static func shares(_ problem: SyntheticProblem, count: Int = 4000) -> [Double] {
        var x = [Float](repeating: 0, count: problem.features)
        var counts = [Int](repeating: 0, count: problem.classes)
        for r in 1_000_000..<1_000_000 + count {
            counts[Int(x.withUnsafeMutableBufferPointer { problem.row(r, into: $0.baseAddress!) })] += 1
        }
        return counts.map { Double($0) / Double(count) }
    }

    /// Seeds 1-50, each at a class count (2-10) and a feature count (2-64) that cycle through their ranges.
    @Test(arguments: 1...50)
    func everyClassGetsItsUniformShare(seed: Int) {
        let classes = 2 + seed % 9
        let features = [2, 3, 4, 5, 8, 16, 28, 64][seed % 8]
        let problem = SyntheticProblem(features: features, classes: classes, seed: UInt64(seed))
        let shares = Self.shares(problem)
        #expect(shares.allSatisfy { abs($0 - 1 / Double(classes)) <= 0.05 }, "\(features) features, \(classes) classes: \(shares)")
    }

    @Test func theIssuesDegenerateSeedIsBalanced() {
        // Before the offsets, seed 2 with 4 features and 2 classes labelled every row 1.
        for seed in 1...5 {
            let shares = Self.shares(SyntheticProblem(features: 4, classes: 2, seed: UInt64(seed)))
            #expect(abs(shares[0] - 0.5) <= 0.05, "seed \(seed): \(shares)")
        }
    }

    @Test func classWeightsSetTheShares() {
        let problem = SyntheticProblem(features: 6, classes: 3, seed: 7, classWeights: [1, 1, 8])
        #expect(problem.shares == [0.1, 0.1, 0.8])
        let shares = Self.shares(problem)
        #expect(zip(shares, problem.shares).allSatisfy { abs($0 - $1) <= 0.02 }, "\(shares)")
    }

    @Test func balancingFindsOffsetsForGivenScores() {
        // Class 1 always scores 3 to 4 more than class 0 (a different margin on every row): without
        // offsets it wins every row.
        var scores: [Double] = []
        for r in 0..<1000 {
            let base = Double(r % 97)
            scores += [base, base + 3 + Double(r * 7919 % 1000) / 1000]
        }
        #expect(ClassBalance.shares(scores: scores, classes: 2, offsets: [0, 0]) == [0, 1])
        let offsets = ClassBalance.offsets(scores: scores, classes: 2, shares: [0.3, 0.7])
        let shares = ClassBalance.shares(scores: scores, classes: 2, offsets: offsets)
        #expect(abs(shares[0] - 0.3) <= 0.002, "\(shares)")
    }
}
