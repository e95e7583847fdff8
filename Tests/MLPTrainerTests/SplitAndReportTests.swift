import Testing
@testable import MLPTrainer

@Suite struct SplitTests {
    @Test func matchesScikitLearnTrainTestSplit() {
        // numpy.random.RandomState(33).permutation(1372) and train_test_split(range(1372),
        // test_size=0.2, random_state=33), as printed by scikit-learn 1.x / NumPy 2.x.
        let split = TrainTestSplit.split(rows: 1372, testFraction: 0.2, seed: 33)
        #expect(split.test.count == 275 && split.train.count == 1097)
        #expect(Array(split.test.prefix(12)) == [673, 1017, 940, 439, 1277, 1083, 1205, 32, 51, 1212, 605, 789])
        #expect(Array(split.train.prefix(5)) == [365, 803, 1253, 62, 823])
        #expect(Array(split.train.suffix(5)) == [1225, 658, 578, 391, 1044])
        #expect(Set(split.train + split.test) == Set(0..<1372))
    }

    @Test func splittingInPlaceKeepsEveryRowOnceInFileOrder() {
        let data = SyntheticProblem(features: 3, classes: 2, seed: 2).dataset(rows: 50)
        let held = [45, 3, 17, 0, 49]
        let (kept, heldOut) = data.split(holdingOut: held)
        func row(_ d: Dataset, _ r: Int) -> [Float] { Array(d.features[(r * 3)..<(r * 3 + 3)]) }
        #expect(kept.rows == 45 && heldOut.rows == 5)
        #expect((0..<5).map { row(heldOut, $0) } == [0, 3, 17, 45, 49].map { row(data, $0) })
        let keptRows = (0..<50).filter { !held.contains($0) }
        #expect((0..<45).map { row(kept, $0) } == keptRows.map { row(data, $0) })
        #expect(kept.labels == keptRows.map { data.labels[$0] })
        #expect(heldOut.labels == [0, 3, 17, 45, 49].map { data.labels[$0] })
    }

    @Test func mersenneTwisterReferenceOutput() {
        // The first outputs of MT19937 seeded with 5489 (the reference implementation's default).
        var mt = MersenneTwister(seed: 5489)
        #expect((0..<3).map { _ in mt.next() } == [3_499_211_612, 581_869_302, 3_890_346_734])
    }
}

@Suite struct ClassificationReportTests {
    @Test func handCheckedThreeClasses() {
        // truth:     a a a b b c
        // predicted: a a b b c c
        // a: tp 2, predicted 2, support 3 -> p 1, r 2/3; b: tp 1, predicted 2, support 2 -> p 1/2, r 1/2;
        // c: tp 1, predicted 2, support 1 -> p 1/2, r 1.
        let r = ClassificationReport(classLabels: ["a", "b", "c"], truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 2])
        #expect(r.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
        #expect(abs(r.rows[0].precision - 1) < 1e-12 && abs(r.rows[0].recall - 2.0 / 3) < 1e-12)
        #expect(abs(r.rows[0].f1 - 0.8) < 1e-12)
        #expect(abs(r.rows[1].f1 - 0.5) < 1e-12)
        #expect(abs(r.rows[2].f1 - 2.0 / 3) < 1e-12)
        #expect(abs(r.accuracy - 4.0 / 6) < 1e-12)
        #expect(abs(r.macro.precision - 2.0 / 3) < 1e-12)
        #expect(abs(r.weighted.recall - (3 * 2.0 / 3 + 2 * 0.5 + 1) / 6) < 1e-12)
        let expected = """
                          precision    recall  f1-score   support

                       a     1.0000    0.6667    0.8000         3
                       b     0.5000    0.5000    0.5000         2
                       c     0.5000    1.0000    0.6667         1

                accuracy                         0.6667         6
               macro avg     0.6667    0.7222    0.6556         6
            weighted avg     0.7500    0.6667    0.6778         6

            """
        #expect(r.text() == expected)
    }

    @Test func classNeverPredictedHasZeroPrecision() {
        let r = ClassificationReport(classLabels: ["0", "1"], truth: [0, 1, 1], predicted: [0, 0, 0])
        #expect(r.rows[1].precision == 0 && r.rows[1].recall == 0 && r.rows[1].f1 == 0)
        #expect(abs(r.rows[0].precision - 1.0 / 3) < 1e-12)
    }
}
