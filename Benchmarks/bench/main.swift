// bench: throughput benchmarks that print a table a person can read and a JSON line a script can.
// Usage: bench seed [CSV|synthetic:ROWS] [threads] [epochs] | wide THREADS [hidden] [batch] [shards]
//        | gemm [options] | activations [options] | csv FILE [threads] [target]
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let rest = Array(arguments.dropFirst())
do {
    switch arguments.first {
    case "seed": try TrainBench.seed(arguments: rest)
    case "wide": try TrainBench.wide(arguments: rest)
    case "gemm": GemmBench.run(arguments: rest)
    case "activations": ActivationBench.run(arguments: rest)
    case "csv": CSVBench.run(arguments: rest)
    default:
        print("usage: bench seed [CSV|synthetic:ROWS] [threads] [epochs] | wide THREADS [hidden] [batch] [shards] | gemm | activations | csv FILE [threads] [target]")
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("bench: \(error)\n".utf8))
    exit(1)
}
