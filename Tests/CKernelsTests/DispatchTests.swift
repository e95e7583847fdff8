import CKernels
import Testing

@Test func bestISAIsSupported() {
    #expect(ck_isa_supported(ck_isa_best()) == 1)
}
