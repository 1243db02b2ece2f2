// Internal: what this thread is doing for trellis.
//
// Public headers see it so that the hottest awaitables (checkpoint) can read
// the current task inline; only the scheduler writes it.
#pragma once

namespace trellis::detail {

class runner;
class task_state;

// Set for the whole life of a run on its thread (so host callbacks of a
// guest run see the run), and `task` for the duration of each task step.
struct thread_context {
    runner* run = nullptr;
    task_state* task = nullptr;
};

// initial-exec: libtrellis is a shared library, where the default TLS model
// pays a call to __tls_get_addr on every access; this variable is read a few
// times per task step, which made those calls a sizeable share of a
// checkpoint. initial-exec turns each access into one %fs-relative load. It
// needs static TLS space, which the library always gets when linked at
// program start (and glibc keeps a surplus for 16 bytes loaded by dlopen).
// constinit: without it, every other file would guard each access with a
// call to the variable's TLS initialisation wrapper.
extern constinit thread_local thread_context tls [[gnu::tls_model("initial-exec")]];

// Raises trellis::cancelled in the running task: a fresh exception object
// each time, thrown directly. Rethrowing a stored exception_ptr instead
// would need a temporary exception_ptr whose cleanup makes the unwinder stop
// and restart in the throwing frame, and a cancellation's cost is almost all
// unwinding (cancelling 10,000 sleeping tasks is 10,000 throws).
[[noreturn]] void throw_cancelled();

}  // namespace trellis::detail
