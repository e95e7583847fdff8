import ArgumentParser
import CommandLineSupport
import Foundation
import MLPTrainer

@main
struct Train: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a multilayer perceptron with learnable activations on a CSV file, on every core.",
        discussion: """
            Writes model.safetensors (loadable by PyTorch), model.onnx, metrics.csv, \
            classification_report.txt (or regression_report.txt), summary.json, report.html with its \
            plots, and checkpoint.safetensors (for --resume) into --out. With no flags, trains the \
            default recipe (hidden 8,9,5,4, swish) on a built-in synthetic data set. Example: train \
            --data banknote.csv --preset seed
            """)

    @Option(help: ArgumentHelp("CSV file, or synthetic[:ROWSxFEATURES[xCLASSES]].", valueName: "path"))
    var data: String = "synthetic"
    @OptionGroup(title: "CSV layout")
    var format: CSVFormatOptions
    @Option(help: "Learn classes or a number (regression: one output, the target standardised internally). (default: classification)")
    var task: LearningTask.Name?
    @Option(help: "Regression's loss on the standardised target: squared error or Huber (delta 1). (default: mse)")
    var loss: RegressionLoss?
    @Flag(help: "Skip rows with a missing or invalid value (and report how many) instead of stopping.")
    var dropInvalidRows = false
    @Flag(help: "Accept inf and nan in features.")
    var allowNonfinite = false
    @Flag(help: "Keep a binary cache (.npy) of the parsed CSV next to it and reuse it while the CSV is unchanged.")
    var cache = false
    @Option(help: ArgumentHelp("Directory for the --cache files.", valueName: "dir"))
    var cacheDir: String?
    @Option(help: ArgumentHelp("Only these feature columns, by name or 0-based index.", valueName: "a,b,..."))
    var features: String?
    @Option(help: ArgumentHelp("Leave these columns out, by name or 0-based index.", valueName: "a,b,..."))
    var ignoreColumns: String?
    @Option(help: ArgumentHelp("Treat these columns as categories (one-hot), even when they hold numbers.", valueName: "a,b,..."))
    var categorical: String?
    @Option(help: ArgumentHelp("Treat these columns as numbers; a value that is not one is then an error.", valueName: "a,b,..."))
    var numeric: String?
    @Option(help: ArgumentHelp("Field texts that are missing values, besides the empty field. (default: NA,N/A,NaN,nan,null,?)", valueName: "a,b,..."))
    var naValues: String?
    @Option(help: "One-hot inputs per categorical column at most; rarer categories share one. (default: 64)")
    var maxCategories: Int?
    @Option(help: ArgumentHelp("Evaluate on this CSV instead of splitting the data.", valueName: "path"))
    var testData: String?
    @Option(help: "Fraction of rows held out for testing (0 = none). (default: 0.2)")
    var testFraction: Double?
    @Option(help: "Seed of the train/test split (scikit-learn's random_state). (default: 33)")
    var splitSeed: UInt32?
    @Option(help: "Seed of initialisation, shuffling and dropout. (default: 0)")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Hidden layer widths. (default: 8,9,5,4)", valueName: "w1,w2,..."))
    var hidden: String?
    @Option(help: ArgumentHelp("Activation and initial parameter values. (default: swish:beta=1)",
                               valueName: "name[:param=value,...]"))
    var activation: String?
    @Option(help: "Activation parameters per layer (scalar) or per channel (channel). (default: scalar)")
    var activationParams: ActivationParameters?
    @Option(help: "Dropout probability after each hidden block. (default: 0.4; 0 with --task regression)")
    var dropout: Float?
    @Option(help: "Normalisation in the hidden blocks: BatchNorm, LayerNorm or none. (default: batch)")
    var norm: Normalization.Kind?
    @Option(help: "Where the normalisation sits. (default: after-activation for batch, before-activation for layer)")
    var normPosition: Normalization.Position?
    @Flag(help: "No normalisation in the hidden blocks (the same as --norm none).")
    var noBatchnorm = false
    @Flag(help: "Do not standardise the features (default: standardise with the training split's mean and std).")
    var noStandardize = false

    @Option(help: "The optimizer. (default: adam)")
    var optimizer: OptimizerConfig.Kind?
    @Option(help: "Learning rate. (default: 0.001)")
    var lr: Float?
    @Option(help: "SGD momentum. (default: 0)")
    var momentum: Float?
    @Option(help: "L2 weight decay. (default: 0)")
    var weightDecay: Float?
    @Option(help: "Epochs. (default: 300)")
    var epochs: Int?
    @Option(help: ArgumentHelp("Rows per mini-batch, or full. (default: 64)", valueName: "n|full"))
    var batchSize: String?
    @OptionGroup var trainingOptions: TrainingOptions

    @Option(help: "Worker threads; a step runs on as many as pay for themselves, and any count gives the same model. (default: the machine's active cores)")
    var threads: Int?
    @Option(help: "Shards per mini-batch: the model depends on the seed and the shards, never on --threads. (default: one per 256 rows of the batch, more rows for a small network, at most 64)")
    var shards: Int?
    @Option(help: "Train as one of the processes of an MPI job (mpirun -np P train --distributed mpi): each computes P's share of the shards, and the model is the one a single process writes. (default: this process alone)")
    var distributed: DistributedBackend?
    @Option(help: ArgumentHelp("Start from these weights (a model.safetensors of the same network).", valueName: "path"))
    var `init`: String?
    @Option(help: ArgumentHelp("Output directory. (default: runs/<date-time>)", valueName: "dir"))
    var out: String?
    @Option(help: "Print a progress line every N epochs (0: about ten lines).")
    var logEvery: Int = 0
    @Option(help: "Save the training state (checkpoint.safetensors, for --resume) every N epochs; 0: every minute. It is also saved at the end and when interrupted.")
    var checkpointEvery: Int = 0
    @Option(help: ArgumentHelp("Continue the run in this directory from its checkpoint, with its own settings (--epochs, --threads and --quiet may be given).", valueName: "dir"))
    var resume: String?
    @Flag(help: "With --resume: continue although a data file changed since the run started.")
    var allowDataChange = false
    @Flag(help: "Print nothing but errors (outputs are still written).")
    var quiet = false
    @Option(help: "A recipe whose values later flags override: seed (the seed's recipe exactly).")
    var preset: Preset?

    func run() throws {
        let launch = try Launch.start(distributed)
        do {
            if let resume {
                try resumeRun(resume, launch: launch)
            } else {
                try train(try resolveSettings(), launch: launch)
            }
            launch.finish()
        } catch let error as ExitCode {
            launch.finish()
            throw error
        } catch let ended as ErrorAfterTheOutputs {
            // No failure of the job (MPI_Abort): process 0 reports it, every process exits with 1.
            launch.finish()
            throw launch.writesOutputs ? ended.error : ExitCode(1)
        } catch {
            launch.endJob(after: Self.message(for: error))
            throw error
        }
    }

    private func say(_ line: String) {
        if !quiet { print(line) }
    }

    private func train(_ settings: TrainingSettings, resuming state: TrainingState? = nil, launch: Launch) throws {
        let outDirectory = resume ?? out ?? "runs/" + Self.timestamp()
        if state == nil && launch.writesOutputs && FileManager.default.fileExists(atPath: outDirectory) {
            throw ConfigError("\(outDirectory): already exists; choose another --out")
        }
        let run = try TrainingRun(settings: settings, collective: launch.collective)
        describe(run, resuming: state, in: outDirectory)
        let fingerprints = try state?.dataFingerprints ?? RunInputs.fingerprints(settings)
        // Armed before the run directory exists: a signal from here on stops the run with its state
        // saved; one before ended the process with nothing written.
        StopRequest.arm()
        // A resumed run's directory is locked by resumeRun, before its checkpoint is read.
        let lock = state == nil && launch.writesOutputs ? try RunWriter.create(outDirectory) : nil
        let progress = Progress(quiet: quiet, regression: settings.task.isRegression, epochs: settings.epochs, logEvery: logEvery > 0 ? logEvery : max(1, settings.epochs / 10))
        let control = trainingControl(resuming: state, progress: progress, fingerprints: fingerprints, outDirectory: outDirectory, launch: launch)
        try withExtendedLifetime(lock) {
            let result = try trainOrCleanUp(run, control, progress, fresh: state == nil, outDirectory: outDirectory, launch: launch)
            try finish(result, outDirectory: outDirectory, launch: launch)
        }
    }

    /// The lines before training: the data, the network, the training recipe and the notes.
    private func describe(_ run: TrainingRun, resuming state: TrainingState?, in outDirectory: String) {
        let settings = run.settings, config = run.modelConfig
        let target = run.targetScaling.map { "target mean \($0.mean) std \($0.std)" }
            ?? "classes \(run.train.classLabels.joined(separator: ", "))"
        say("data: \(settings.description["data"]!) - \(run.train.rows) train rows, "
            + "\(run.validation.map { "\($0.rows) validation rows, " } ?? "")\(run.test?.rows ?? 0) test rows, "
            + "\(run.train.featureCount) features, \(target) "
            + "(loaded in \(String(format: "%.3f", run.loadSeconds)) s)")
        say("model: \(config.sizes.map(String.init).joined(separator: "-")), activation \(config.activation.description)"
            + "\(config.activation.perChannel ? " per channel" : ""), norm \(config.norm.kind.rawValue)\(config.norm.kind == .none ? "" : " " + config.norm.position.rawValue), dropout \(config.dropout)")
        say("training: \(settings.optimizer.kind.rawValue) lr \(settings.optimizer.learningRate), \(settings.epochs) epochs, "
            + "batch \(settings.batchSize.map(String.init) ?? "full"), \(settings.threads) threads, \(run.shards) shards, "
            + "standardize \(settings.standardize ? "on" : "off")")
        if task == nil, let note = TargetCheck.continuousNote(classLabels: run.train.classLabels) { say(note) }
        for note in run.loadNotes { say(note) }
        if let note = settings.linearNetworkNote { say(note) }
        if let note = settings.cancelledParametersNote { say(note) }
        if let state { say("resuming \(outDirectory) after epoch \(state.epochsCompleted)\(state.batchesInEpoch > 0 ? " and \(state.batchesInEpoch) batches" : "")") }
    }

    /// Progress on the terminal, Ctrl-C and SIGTERM (in any process) as a stop, and the state saved
    /// into the run directory with the data's fingerprints and absolute paths.
    private func trainingControl(resuming state: TrainingState?, progress: Progress, fingerprints: [String: FileFingerprint],
                                 outDirectory: String, launch: Launch) -> TrainingControl {
        var control = TrainingControl()
        control.resume = state
        control.checkpointEvery = checkpointEvery
        control.shouldStop = { launch.collective.anyProcess(StopRequest.requested) }
        control.onStep = { epoch, done, total, loss in progress.step(epoch: epoch, rowsDone: done, rowsPerEpoch: total, loss: loss) }
        control.onEpoch = { progress.epoch($0) }
        control.saveState = { state in
            guard launch.writesOutputs else { return }
            var state = state
            state.dataFingerprints = fingerprints
            state.settings = RunInputs.absolutePaths(state.settings)
            try RunWriter.writeState(state, to: outDirectory)
        }
        return control
    }

    /// The run's result; a run interrupted in its first epoch exits with 130, and one that failed
    /// before its first checkpoint leaves no directory behind.
    private func trainOrCleanUp(_ run: TrainingRun, _ control: TrainingControl, _ progress: Progress, fresh: Bool, outDirectory: String,
                                launch: Launch) throws -> TrainingResult {
        let outcome = Result { try run.run(control: control) }
        progress.finish()
        do { return try outcome.get() } catch is InterruptedBeforeFirstEpoch {
            say("interrupted during the first epoch; state saved: continue with: train --resume \(outDirectory)")
            throw ExitCode(130)
        } catch {
            // Keep the last good checkpoint; a run that failed before its first one leaves nothing.
            if fresh, launch.writesOutputs, (try? FileManager.default.contentsOfDirectory(atPath: outDirectory)) == [RunDirectoryLock.fileName] {
                try? FileManager.default.removeItem(atPath: outDirectory)
            }
            throw error
        }
    }

    /// Every output written (once the processes agree on the model) and the report printed; an
    /// interrupted run exits with 130 after saying how to continue. So does a run whose stop request
    /// came after its last step, up to the end of the writing: it had nothing left to cut short, so
    /// its outputs are the finished run's, but its caller learns that a signal stopped it.
    private func finish(_ result: TrainingResult, outDirectory: String, launch: Launch) throws {
        launch.collective.verifyReplicas(hash: result.checkpoint.model.replicaHash, after: "training")
        if launch.writesOutputs { try RunWriter.write(result, to: outDirectory) }
        // Also where the other processes wait for process 0's writing, however long it takes: one that
        // ended first (an error's abort, or an exit status other than 0) would end the job under it.
        let stopRequested = launch.collective.anyProcess(StopRequest.requested)
        say("")
        say(RunWriter.reportText(result))
        say(String(format: "trained in %.2f s (%.0f samples/s); outputs in %@", result.summary.trainSeconds,
                   result.summary.trainSamplesPerSecond, outDirectory))
        if result.interrupted {
            say("interrupted after epoch \(result.summary.epochs): continue with: train --resume \(outDirectory)")
            throw ExitCode(130)
        }
        if let divergence = result.divergence {
            let best = result.summary.bestEpoch.map { "epoch \($0), " } ?? ""
            throw ErrorAfterTheOutputs(error: TrainingError("\(divergence.description); wrote the best validation epoch's model (\(best)before the divergence) to \(outDirectory)"))
        }
        if stopRequested {
            say("stopped by a signal after the last step: the run is complete")
            throw ExitCode(130)
        }
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date())
    }

    /// `--resume DIR`: the run's own settings (from its checkpoint), with --epochs, --threads and
    /// --quiet from this command line.
    private func resumeRun(_ directory: String, launch: Launch) throws {
        let allowed: Set<String> = ["--resume", "--epochs", "--threads", "--quiet", "--allow-data-change", "--distributed"]
        if let other = CommandLine.arguments.dropFirst().first(where: {
            $0.hasPrefix("--") && !allowed.contains(String($0.split(separator: "=", maxSplits: 1)[0]))
        }) {
            let flags = allowed.subtracting(["--resume"]).sorted().joined(separator: ", ")
            throw ConfigError("--resume continues with the run's own settings; only \(flags) may be given, not \(other)")
        }
        let path = directory + "/checkpoint.safetensors"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("\(directory): no checkpoint.safetensors to resume from")
        }
        let lock = launch.writesOutputs ? try RunDirectoryLock(directory) : nil
        let state = try TrainingState.load(path: path)
        try RunInputs.checkUnchanged(state.dataFingerprints, allowChange: allowDataChange)
        var settings = state.settings
        // The thread count may change (the math depends on the shards only, which stay the run's).
        if let threads {
            guard threads >= 1, threads <= 1024 else { throw ConfigError("--threads must be in 1...1024, got \(threads)") }
            settings.threads = threads
            settings.csv.threads = threads
        }
        if let epochs {
            guard epochs >= 1 else { throw ConfigError("--epochs must be at least 1, got \(epochs)") }
            settings.epochs = epochs
        }
        if let finished = Self.finishedRun(state, settings, in: directory) {
            say("\(directory): \(finished); nothing to resume (its files are left as they are)")
            return
        }
        try withExtendedLifetime(lock) { try train(settings, resuming: state, launch: launch) }
    }

    /// Why a checkpoint has nothing left to train (its epochs done, or early stopping's patience out),
    /// when the finished run's outputs are all in its directory: summary.json of an uninterrupted run
    /// at that epoch, and report.html, the last file written. Such a resume would only write them again
    /// with zero timings. A finished checkpoint whose outputs are missing or stale (a kill while they
    /// were written) is resumed as before: it writes them.
    private static func finishedRun(_ state: TrainingState, _ settings: TrainingSettings, in directory: String) -> String? {
        guard state.batchesInEpoch == 0 else { return nil }
        let stoppedEarly = settings.earlyStopping.shouldStop(state.history)
        guard stoppedEarly || state.epochsCompleted >= settings.epochs,
              FileManager.default.fileExists(atPath: directory + "/report.html"),
              let data = FileManager.default.contents(atPath: directory + "/summary.json"),
              let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              summary["interrupted"] as? Bool == false, summary["epochs_run"] as? Int == state.epochsCompleted
        else { return nil }
        return stoppedEarly ? "the run stopped early after epoch \(state.epochsCompleted)"
            : "the run is complete (\(state.epochsCompleted) of \(settings.epochs) epochs; --epochs with more trains on)"
    }
}

/// An error that ends a run whose outputs are all written (a divergence after the best validation
/// epoch): exit status 1 and its line, but every process ends as in a finished run.
struct ErrorAfterTheOutputs: Error {
    let error: Error
}

/// `--preset`: a recipe of settings.
enum Preset: String, CaseIterable, ExpressibleByArgument {
    case seed

    var settings: TrainingSettings {
        switch self {
        case .seed: return .seedPreset
        }
    }
}

/// `--activation-params`: one parameter set per layer or per channel.
enum ActivationParameters: String, CaseIterable, ExpressibleByArgument { case scalar, channel }

extension OptimizerConfig.Kind: ExpressibleByArgument {}
extension RegressionLoss: ExpressibleByArgument {}
extension LearningTask.Name: ExpressibleByArgument {}
extension Normalization.Kind: ExpressibleByArgument {}
extension Normalization.Position: ExpressibleByArgument {}
