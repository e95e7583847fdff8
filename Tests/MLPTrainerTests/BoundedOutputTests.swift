import Foundation
@testable import MLPTrainer
import Testing

/// Output sizes stay bounded in the number of classes and of epochs, and a label column that looks
/// continuous is noted or refused (README, "What the trainer guarantees").
@Suite struct BoundedOutputTests {
    static func report(classes k: Int) -> ClassificationReport {
        // Class c has c + 1 rows, all predicted right.
        let truth = (0..<k).flatMap { c in [Int32](repeating: Int32(c), count: c + 1) }
        return ClassificationReport(classLabels: (0..<k).map { "class\($0)" }, truth: truth, predicted: truth)
    }

    @Test func reportsShowTheTwentyClassesWithMostSupport() {
        let report = Self.report(classes: 500)
        #expect(report.shownClasses == Array(480..<500))
        let text = report.text()
        #expect(text.split(separator: "\n").count < 30 && text.contains("(480 classes with less support not shown)"))
        #expect(text.contains("class499") && !text.contains("class479 "))
        #expect(report.confusionText().split(separator: "\n").count == 22)
        #expect(ReportWriter.confusionSVG(report).count < 200_000)
        #expect(ReportWriter.reportTable(report).components(separatedBy: "<tr>").count < 30)
        #expect(Self.report(classes: 20).hiddenClassesNote == nil)
    }

    @Test func curvesHaveAtMostAThousandPoints() {
        let history = (1...5000).map { EpochRecord(epoch: $0, trainLoss: 1 / Double($0), trainAccuracy: 0.5, testLoss: nil, testAccuracy: nil,
                                                   activationParameters: [("a1.alpha", Float($0))]) }
        let plotted = ReportWriter.plotted(history)
        #expect(plotted.count == 1000 && plotted.first?.epoch == 1 && plotted.last?.epoch == 5000)
        #expect(ReportWriter.lossSVG(history).count < 150_000)
        #expect(ReportWriter.activationParametersSVG(history).count < 150_000)
    }

    static func data(labels: [String]) throws -> String {
        try TrainCommandTests.writeCSV("x,y\n" + labels.enumerated().map { "\($0.offset % 7),\($0.element)" }.joined(separator: "\n") + "\n")
    }

    @Test func aContinuousLookingTargetIsNoted() throws {
        let path = try Self.data(labels: (0..<200).map { String(format: "%.2f", Double($0 % 40) * 0.37) })
        let out = TrainCommandTests.temporaryPath("continuous")
        defer { for p in [path, out] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", path, "--epochs", "1", "--test-fraction", "0", "--out", out])
        #expect(r.status == 0 && r.stdout.contains("note: the label column has 40 distinct numbers, some fractional: it looks continuous"),
                "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("(20 classes with less support not shown)"))
    }

    @Test func moreThanAThousandClassesAreRefused() throws {
        let path = try Self.data(labels: (0..<1001).map { "c\($0)" } + ["c0"])
        let out = TrainCommandTests.temporaryPath("classes")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try TrainCommandTests.run(["--data", path, "--epochs", "1", "--test-fraction", "0", "--out", out])
        #expect(r.status != 0 && r.stderr.contains("the label column has 1001 distinct values; at most 1000 classes"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

extension BoundedOutputTests {
    @Test(arguments: [
        (["--hidden", "100000,100000"], "training the network 2-100000-100000-2 needs"),
        (["--hidden", "4000000000,4000000000"], "training the network 2-4000000000-4000000000-2 needs more than 2^63 bytes"),
        (["--data", "synthetic:99999999999x99999"], "--data synthetic:99999999999x99999 needs 40000000.0 GB of memory"),
        (["--data", "synthetic:99999999999x99999999999"], "needs more than 2^63 bytes of memory"),
        (["--data", "synthetic:999999999x9999"], "--data synthetic:999999999x9999 needs 40000.0 GB of memory"),
    ]) func hugeSizesAreOneErrorSayingHowMuch(_ flags: [String], _ message: String) throws {
        let out = TrainCommandTests.temporaryPath("huge")
        let r = try TrainCommandTests.run(["--data", "synthetic:100x2"] + flags + ["--epochs", "1", "--out", out])
        #expect(r.status == 1 && r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func datagenRefusesAHugeFeatureCount() throws {
        let process = Process()
        process.executableURL = TemporaryFileTests.datagen
        process.arguments = ["--rows", "10", "--features", "100000000000", "--out", TrainCommandTests.temporaryPath("gen")]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0 && stderr.contains("--features 100000000000 --classes 2 needs"), "\(stderr)")
    }
}

extension BoundedOutputTests {
    static func record(_ epoch: Int, validationLoss: Double? = nil) -> EpochRecord {
        EpochRecord(epoch: epoch, trainLoss: 1, trainAccuracy: 0.5, testLoss: nil, testAccuracy: nil, activationParameters: [],
                    validation: validationLoss.map { .classification(ProbabilityFigures(loss: $0, weightedLoss: nil, accuracy: 0.5, auc: nil)) })
    }

    @Test func theHistoryStaysBoundedEvenlySpacedAndKeepsTheBestEpoch() {
        var history: [EpochRecord] = []
        let stopping = EarlyStopping()
        for epoch in 1...100_000 {
            // The validation loss is best at epoch 12,345 (not a multiple of the final stride).
            history.append(Self.record(epoch, validationLoss: epoch == 12_345 ? 0.1 : 1))
            history = HistoryBound.thinned(history, bestEpoch: stopping.best(history)?.epoch, capacity: 100)
            #expect(history.count <= 103)
        }
        let epochs = history.map(\.epoch)
        #expect(epochs.first == 1 && epochs.last == 100_000 && epochs.contains(12_345))
        #expect(stopping.best(history)?.epoch == 12_345)
        // Stride 1,024: 97 multiples, plus the first, the best and the last epoch.
        #expect(epochs.filter { $0 % 1024 == 0 }.count == 97 && epochs.count == 100)
        #expect(HistoryBound.stride(latest: 100_000, capacity: 100) == 1024)
    }

    /// A run whose history is thinned (capacity 6 for 40 epochs), with the plateau schedule (whose
    /// state the checkpoint carries), stopped mid-epoch and resumed: the same model and metrics.csv.
    @Test(arguments: [27, 61]) func aThinnedHistoryResumesToTheUninterruptedRun(stopAfterSteps: Int) throws {
        var s = ResumeAndSignalTests().settings()
        s.epochs = 40
        s.lrSchedule = .plateau(patience: 1, factor: 0.5)
        var control = TrainingControl()
        control.historyCapacity = 6
        let whole = try TrainingRun(settings: s).run(control: control)
        #expect(whole.history.count <= 9 && whole.history.last?.epoch == 40 && whole.summary.epochs == 40)
        #expect(Set(whole.history.compactMap(\.learningRate)).count > 1, "the plateau schedule must lower the rate")
        var saved: TrainingState?
        var steps = 0
        control.onStep = { _, _, _, _ in steps += 1 }
        control.shouldStop = { steps >= stopAfterSteps }
        control.saveState = { saved = $0 }
        #expect(try TrainingRun(settings: s).run(control: control).interrupted)
        let path = TrainCommandTests.temporaryPath("thinned") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved!.save(to: path)
        var resumeControl = TrainingControl()
        resumeControl.historyCapacity = 6
        resumeControl.resume = try TrainingState.load(path: path)
        #expect(resumeControl.resume?.plateau == saved?.plateau && saved?.plateau != nil)
        let resumed = try TrainingRun(settings: s).run(control: resumeControl)
        #expect(try ResumeAndSignalTests().modelBytes(resumed) == ResumeAndSignalTests().modelBytes(whole))
        #expect(RunWriter.metricsCSV(resumed.history, task: .classification) == RunWriter.metricsCSV(whole.history, task: .classification))
    }
}
