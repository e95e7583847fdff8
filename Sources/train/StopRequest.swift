import CKernels

/// SIGINT and SIGTERM during a run (README.md, "Resume, interrupt, progress"): the first asks the run
/// to stop after its current step (it then saves its state and outputs and exits with 130; one that
/// comes after the last step, while the outputs are being written, lets them finish and exits with
/// 130 too); a second
/// ends the process at once, dying of that signal after removing its temporary files. Before the run
/// is armed (while the data loads) either signal ends train at once, as it ends predict.
///
/// A C handler that sets an atomic flag, which the training loop polls at every step: it runs on
/// whichever thread the kernel picks and no signal is ever ignored, so none can be lost. (Not a
/// DispatchSource: it needs the signal ignored until libdispatch's thread has registered it, and one
/// arriving in between was discarded.)
enum StopRequest {
    /// From now on a signal asks for the stop instead of ending the process.
    static func arm() { ck_stop_on_interrupts() }

    static var requested: Bool { ck_stop_requested() != 0 }
}
