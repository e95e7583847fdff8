import Foundation
import MLPTrainer

/// Training progress: on a terminal one live line (epoch, bar, loss, samples/s, ETA) redrawn at
/// most ten times a second; otherwise a plain line per logged epoch; nothing with --quiet. A process
/// an MPI launcher started writes log lines: Open MPI gives its stdout a pseudo-terminal wherever
/// mpirun's own output goes, usually a batch job's log file.
final class Progress {
    private let quiet: Bool
    /// Epoch lines show the test R^2 instead of accuracies.
    private let regression: Bool
    private let live: Bool
    private let epochs: Int
    private let logEvery: Int
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var rowsSeen = 0
    private var lastRowsDone = 0
    private var lineOpen = false
    /// The latest epoch when it fell between logged ones: printed by `finish` so that a run that
    /// stops early (or is interrupted) still shows its last epoch.
    private var unlogged: EpochRecord?

    init(quiet: Bool, regression: Bool, epochs: Int, logEvery: Int) {
        self.quiet = quiet
        self.regression = regression
        live = isatty(STDOUT_FILENO) != 0 && !MPIWorld.startedByLauncher
        self.epochs = epochs
        self.logEvery = logEvery
    }

    func step(epoch: Int, rowsDone: Int, rowsPerEpoch: Int, loss: Double) {
        rowsSeen += rowsDone >= lastRowsDone ? rowsDone - lastRowsDone : rowsDone
        lastRowsDone = rowsDone == rowsPerEpoch ? 0 : rowsDone
        guard live, !quiet, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(started)
        let fraction = (Double(epoch - 1) + Double(rowsDone) / Double(rowsPerEpoch)) / Double(epochs)
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = Double(rowsSeen) / max(elapsed, 1e-9)
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let line = String(format: "epoch %d/%d [%@] loss %.4f  %.0f samples/s  ETA %@", epoch, epochs, bar, loss, rate, Self.clock(eta))
        FileHandle.standardOutput.write(Data("\r\u{1B}[K\(line)".utf8))
        lineOpen = true
    }

    func epoch(_ record: EpochRecord) {
        guard !quiet, !live else { return }
        guard record.epoch == 1 || record.epoch % logEvery == 0 || record.epoch == epochs else {
            unlogged = record
            return
        }
        unlogged = nil
        log(record)
    }

    private func log(_ record: EpochRecord) {
        var line = String(format: "epoch %4d  train loss %.4f", record.epoch, record.trainLoss)
        if !regression { line += String(format: "  acc %.4f", record.trainAccuracy) }
        if let testLoss = record.testLoss, let r2 = record.testRegression?.r2 {
            line += String(format: "  test loss %.4f  R^2 %.4f", testLoss, r2)
        } else if let testLoss = record.testLoss, let testAccuracy = record.testAccuracy {
            line += String(format: "  test loss %.4f  acc %.4f", testLoss, testAccuracy)
        }
        if let validation = record.validation {
            line += String(format: "  val loss %.4f", validation.loss)
            if let accuracy = validation.probabilities?.accuracy { line += String(format: "  acc %.4f", accuracy) }
            if let r2 = validation.regression?.r2 { line += String(format: "  R^2 %.4f", r2) }
        }
        clearLine()
        print(line)
    }

    func finish() {
        clearLine()
        if let record = unlogged { log(record) }
        unlogged = nil
    }

    private func clearLine() {
        if lineOpen {
            FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
            lineOpen = false
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
