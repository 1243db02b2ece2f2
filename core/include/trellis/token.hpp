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

#include <concepts>
#include <functional>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace trellis {

namespace detail {
class entry_queue;

// A callback posted with idempotent = true, recognised by comparing it with
// the ones still queued.
struct idempotent_callback {
    virtual ~idempotent_callback() = default;
    virtual void operator()() = 0;
    virtual bool same_as(const idempotent_callback& other) const = 0;
};
template <class F>
struct idempotent_callback_of final : idempotent_callback {
    F fn;
    explicit idempotent_callback_of(F f) : fn(std::move(f)) {}
    void operator()() override { fn(); }
    bool same_as(const idempotent_callback& other) const override {
        return typeid(other) == typeid(*this) && static_cast<const idempotent_callback_of&>(other).fn == fn;
    }
};
}  // namespace detail

class token {
public:
    // Queues fn to run on the run's thread. Thread-safe; never blocks on the
    // run. Not a checkpoint. Throws run_error if the run has finished. If fn
    // throws, the run is cancelled and ends with trellis::internal_error
    // holding fn's error.
    void run_sync_soon(std::function<void()> fn) const;
    // The same; with idempotent = true, does nothing if a callback equal to
    // fn (compared with ==) is already queued and has not started running,
    // as Trio's run_sync_soon(..., idempotent=True). fn must be
    // equality-comparable: a function pointer (write +[] { ... } for a
    // lambda without captures) or an object with operator==.
    template <class F>
        requires std::equality_comparable<F> && std::is_invocable_v<F&>
    void run_sync_soon(F fn, bool idempotent) const {
        if (!idempotent) return run_sync_soon(std::function<void()>(std::move(fn)));
        post_idempotent(std::make_shared<detail::idempotent_callback_of<F>>(std::move(fn)));
    }

    friend bool operator==(const token&, const token&) = default;

    explicit token(std::shared_ptr<detail::entry_queue> queue) noexcept : queue_(std::move(queue)) {}

private:
    void post_idempotent(std::shared_ptr<detail::idempotent_callback> callback) const;
    std::shared_ptr<detail::entry_queue> queue_;
};

// The token of the run on this thread. Not a checkpoint. Throws run_error
// outside a run.
token current_token();

}  // namespace trellis
