import CKernels
import Foundation
import Testing

/// The detected instruction set is the best one the CPU's flags (/proc/cpuinfo) allow.
@Test func bestISAMatchesTheCPUFlags() throws {
    let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    let expected = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"].allSatisfy(flags.contains) ? CK_ISA_AVX512
        : ["avx2", "fma"].allSatisfy(flags.contains) ? CK_ISA_AVX2 : CK_ISA_SCALAR
    #expect(ck_isa_best() == expected)
    #expect(ck_isa_supported(CK_ISA_SCALAR) == 1)
}
