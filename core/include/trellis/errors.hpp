// The exceptions trellis raises, apart from `cancelled` (cancelled.hpp) and
// `exception_group` (exception_group.hpp).
//
// A caller's mistake (a trellis call outside a run, a scope entered twice, a
// closed nursery) raises run_error with a message that says what to do
// instead. The resource errors follow Trio's vocabulary.
#pragma once

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

// fail_after / fail_at: the deadline expired before the work finished.
class too_slow_error : public std::runtime_error {
public:
    too_slow_error() : std::runtime_error("deadline expired (trellis::too_slow_error)") {}
    using std::runtime_error::runtime_error;
};

}  // namespace trellis
