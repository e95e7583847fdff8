import ArgumentParser
import CKernels

/// The options every subcommand has.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object per result (one per line) instead of the machine line and tables.")
    var json = false
    @Option(name: .customLong("repeat"), help: "Timed runs per measurement; the figure is their median.")
    var repeats = 5
    @Option(help: "Untimed warm-up runs before the timed ones.")
    var warmup = 1

    func validate() throws {
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("need --repeat >= 1 and --warmup >= 0") }
    }
}

/// A kernel instruction set by its name (CKernels' ck_isa_name).
enum InstructionSet: String, CaseIterable, ExpressibleByArgument {
    case scalar, avx2, avx512

    var kernels: ck_isa {
        switch self {
        case .scalar: CK_ISA_SCALAR
        case .avx2: CK_ISA_AVX2
        case .avx512: CK_ISA_AVX512
        }
    }
}
