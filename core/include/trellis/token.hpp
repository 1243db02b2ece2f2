// trellis::token: a handle on a run that other threads may use.
//
// current_token() gives the running run's token. token::run_sync_soon(fn)
// may be called from any thread, including threads trellis knows nothing
// about; fn then runs soon on the run's thread, outside any task, between
// scheduling steps (so it may set events, cancel scopes, start tasks in a
// nursery it holds, or reschedule a task). Callbacks run in the order they
// were posted. Every callback posted before run_sync_soon starts throwing is
// guaranteed to run before the run ends.
//
// A token is a cheap shared handle; copy it freely; it may outlive the run.
#pragma once

#include <functional>
#include <memory>

namespace trellis {

namespace detail {
class entry_queue;
}

class token {
public:
    // Queues fn to run on the run's thread. Thread-safe; never blocks on the
    // run. Throws run_error if the run has finished. If fn throws, the run
    // is cancelled and the error comes out of trellis::run.
    void run_sync_soon(std::function<void()> fn) const;

    friend bool operator==(const token&, const token&) = default;

    explicit token(std::shared_ptr<detail::entry_queue> queue) noexcept : queue_(std::move(queue)) {}

private:
    std::shared_ptr<detail::entry_queue> queue_;
};

// The token of the run on this thread. Not a checkpoint. Throws run_error
// outside a run.
token current_token();

}  // namespace trellis
