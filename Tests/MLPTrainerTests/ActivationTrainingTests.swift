import Testing
import CKernels
@testable import MLPTrainer

/// The activation library as the trainer uses it: names, parsing, checkpoint and metrics names,
/// and parameters that actually learn.
@Suite struct ActivationTrainingTests {
    func run(_ activation: String, perChannel: Bool = false, epochs: Int = 8, batchNorm: Bool = false) throws -> TrainingResult {
        var s = TrainingSettings()
        s.data = .synthetic(rows: 600, features: 4, classes: 2)
        s.activation = try ActivationSpec(parsing: activation, perChannel: perChannel)
        s.norm = batchNorm ? .batch : .none
        s.dropout = 0
        s.epochs = epochs
        s.batchSize = 50
        s.optimizer = OptimizerConfig(kind: .adam, learningRate: 0.01)
        s.threads = 2
        s.shards = 2
        return try TrainingRun(settings: s).run()
    }

    @Test func everyKernelActivationIsAvailableByName() throws {
        let names = ActivationSpec.kinds.map(\.name)
        #expect(names.count == Int(CK_ACT_COUNT.rawValue) && Set(names).count == names.count)
        for kind in ActivationSpec.kinds {
            #expect(ActivationSpec.named(kind.name) == kind)
            #expect(try ActivationSpec(parsing: kind.name).initialValues == kind.parameters.map(\.initial))
        }
        #expect(ActivationSpec.named("srelu")!.parameters.map(\.name) == ["t_left", "a_left", "t_right", "a_right"])
        #expect(ActivationSpec.named("srelu")!.alwaysPerChannel)
        #expect(ActivationSpec.named("isru")!.parameters[0].floor == 1e-4 && ActivationSpec.named("affine")!.parameters[0].floor == nil)
    }

    @Test func parsingSetsInitialValuesAndRejectsUnknowns() throws {
        let srelu = try ActivationSpec(parsing: "srelu:t_left=-0.5,a_left=0.2,t_right=1,a_right=1")
        #expect(srelu.initialValues == [-0.5, 0.2, 1, 1] && srelu.perChannel)
        #expect(try ActivationSpec(parsing: "softexp:alpha=0.1").initialValues == [0.1])
        #expect(throws: ConfigError.self) { try ActivationSpec(parsing: "relu:alpha=1") }
        do { _ = try ActivationSpec(parsing: "isru:alpha=-1"); Issue.record("accepted") } catch {
            #expect("\(error)" == "isru's alpha must be at least 0.0001, got -1")
        }
        do { _ = try ActivationSpec(parsing: "swish:gamma=2"); Issue.record("accepted") } catch {
            #expect("\(error)" == "unknown parameter 'gamma' for activation 'swish' (parameters: beta)")
        }
    }

    @Test(arguments: [
        ("swish:beta", "activation parameter beta needs a value, like beta=1"),
        ("swish:beta=1,beta=2", "activation parameter beta is given twice"),
        ("swish:beta=1,", "unknown parameter '' for activation 'swish' (parameters: beta)"),
    ]) func parsingNamesWhatIsWrong(_ text: String, _ message: String) {
        do { _ = try ActivationSpec(parsing: text); Issue.record("accepted \(text)") } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func softexpAlphaLeavesZero() throws {
        // The textbook gradient of a at 0 is 0 and a never moves; the kernel uses the analytic limit.
        let result = try run("softexp:alpha=0")
        let alphas = result.history.last!.activationParameters.filter { $0.name.hasSuffix(".alpha") }
        #expect(alphas.count == 4)
        #expect(alphas.allSatisfy { abs($0.value) > 1e-3 }, "\(alphas)")
    }

    @Test func perChannelParametersAreNamedAndSummarised() throws {
        let result = try run("srelu", epochs: 2)
        let names = result.history[0].activationParameters.map(\.name)
        #expect(names.prefix(3) == ["a1.t_left.mean", "a1.t_left.min", "a1.t_left.max"])
        let tensors = Checkpoint.tensors(of: result.checkpoint.model)
        #expect(tensors["a1.t_left"]?.shape == [8] && tensors["a4.a_right"]?.shape == [4])
        // They learn: each channel moves its own way, so the range opens up.
        let last = Dictionary(uniqueKeysWithValues: result.history.last!.activationParameters.map { ($0.name, $0.value) })
        #expect(last["a1.t_left.max"]! - last["a1.t_left.min"]! > 1e-3)
    }

    @Test func isruAlphaStaysPositive() throws {
        // A huge learning rate drives alpha down hard; the clamp keeps it at its floor.
        var s = TrainingSettings()
        s.data = .synthetic(rows: 400, features: 4, classes: 2)
        s.activation = try ActivationSpec(parsing: "isru:alpha=0.001")
        s.epochs = 5
        s.optimizer = OptimizerConfig(kind: .sgd, learningRate: 5)
        s.norm = .none
        s.threads = 1
        s.shards = 1
        let result = try TrainingRun(settings: s).run()
        let alphas = result.history.flatMap { $0.activationParameters.map(\.value) }
        let floor = ActivationSpec.named("isru")!.parameters[0].floor!
        #expect(alphas.allSatisfy { $0 >= floor })
    }

    @Test func nonlinearActivationsBeatTheLinearOneOnTheSyntheticProblem() throws {
        let affine = try run("affine", epochs: 20, batchNorm: true).report!.accuracy
        let gelu = try run("gelu", epochs: 20, batchNorm: true).report!.accuracy
        #expect(gelu > affine + 0.1, "gelu \(gelu) vs affine \(affine)")
    }
}
