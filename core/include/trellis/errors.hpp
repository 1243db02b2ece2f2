// The exceptions trellis raises, apart from `cancelled` (cancelled.hpp) and
// `exception_group` (exception_group.hpp).
//
// None of these is thrown by the constructors or what() of another; they
// are plain values, copyable and safe to pass between threads.
//
// A caller's mistake (a trellis call outside a run, a scope entered twice, a
// closed nursery) raises run_error with a message that says what to do
// instead. The resource errors follow Trio's vocabulary.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace trellis {

// Misuse of trellis: called outside a run, from the wrong thread, on an object
// in the wrong state. The message names the call and the fix.
class run_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Two tasks tried to use a resource that only one may use at a time (for
// example two tasks waiting to read the same file descriptor).
class busy_resource_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The resource was closed, by this task or another, before or during the call.
class closed_resource_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The other side of the resource is gone (for example every receiver of a
// channel was closed), so the operation can never succeed.
class broken_resource_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A receive found the channel empty with every sender closed.
class end_of_channel : public std::runtime_error {
public:
    end_of_channel() : std::runtime_error("end of channel: every sender is closed") {}
    using std::runtime_error::runtime_error;
};

// A *_nowait operation would have had to block.
class would_block : public std::runtime_error {
public:
    would_block() : std::runtime_error("operation would block") {}
    using std::runtime_error::runtime_error;
};

// from_thread::run / run_sync: the run finished, or began shutting down,
// while the call was under way, so the function did not run or was
// cancelled by the end of the run. Also raised if the run was abandoned
// (its host loop destroyed) with the call pending.
class run_finished_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Something went wrong inside trellis itself, or in code that runs with no
// task to report to: an exception escaped a system task or a
// token::run_sync_soon callback, or the scheduler found one of its
// invariants broken. The run is cancelled and ends with this error (Trio's
// TrioInternalError); the original error is its nested exception
// (std::rethrow_if_nested, or nested_ptr()), and what() names it.
class internal_error : public std::runtime_error, public std::nested_exception {
public:
    // Must be called while handling the original error (in a catch block),
    // which std::nested_exception captures. See detail::make_internal_error.
    explicit internal_error(const std::string& what) : std::runtime_error(what) {}
};

// fail_after / fail_at: the deadline expired before the work finished.
class too_slow_error : public std::runtime_error {
public:
    too_slow_error() : std::runtime_error("deadline expired (trellis::too_slow_error)") {}
    using std::runtime_error::runtime_error;
};

}  // namespace trellis
