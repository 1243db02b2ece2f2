// Guest mode: running trellis inside somebody else's event loop.
//
//   auto run = trellis::start_guest_run(host, [](trellis::outcome<int> o) { ... }, main_task);
//
// The host loop (Qt, GLib, libevent, or anything that can run a callback
// "soon") keeps running; trellis runs its scheduling steps as callbacks on
// the host thread. Tasks, cancel scopes and host callbacks all run on the
// host thread, so host code may touch trellis objects directly (set an
// event, cancel a scope, start a task in a nursery it holds); such changes
// take effect at once, waking the run's I/O wait if needed.
//
// When the run has nothing to do it waits for I/O or its next deadline, in
// one of two ways (run_options::guest_io):
//  * worker_thread (default): one worker thread blocks in epoll and posts
//    the result back with run_sync_soon_threadsafe. Any host can do this.
//  * host_native: the host loop itself watches the run's epoll fd and the
//    deadline, through a native_waiter the host makes
//    (guest_host::make_native_waiter); the Qt, GLib and libevent adapters
//    provide one. No thread and no cross-thread post: cheaper per wake-up.
// Both behave the same for the run's tasks.
//
// Lifetime: the run ends when the main task and every system task have
// finished; its state is then torn down and the done callback runs on the
// host thread with the main task's outcome. If the host loop is destroyed
// first, the adapter calls guest_run::host_gone() (or the host destroys our
// pending callback without running it): the run is abandoned — task frames
// destroyed without resuming, a warning on stderr, the done callback never
// called — and later trellis calls on that thread raise run_error.
#pragma once

#include <functional>
#include <memory>
#include <tuple>
#include <utility>

#include "trellis/clock.hpp"
#include "trellis/outcome.hpp"
#include "trellis/run.hpp"
#include "trellis/task.hpp"

namespace trellis {

// What a host provides to wait natively (run_options::guest_io =
// guest_io_mode::host_native): a watch, run by the host loop itself, on one
// fd (the run's epoll instance) for readability plus one timer. Made by
// guest_host::make_native_waiter on the host thread when the run starts;
// owned by the run, which destroys it (on the host thread) when the run
// finishes or is abandoned, before the fd is closed. Host thread only.
//
// Contract for implementers:
//  * arm(timeout): from now on, call on_ready (the callback the waiter was
//    made with) once, from the host loop on the host thread, when the fd is
//    readable or `timeout` has passed, whichever comes first; then the
//    waiter is disarmed until the next arm(). duration::max() means no
//    timeout. The timeout must not end early: round it up to the host
//    timer's resolution. The fd is level-triggered: while it is readable
//    and the waiter armed, on_ready is due.
//  * disarm(): on_ready must not be called until the next arm(). Never
//    throws.
//  * The run may disarm or destroy the waiter from inside on_ready; after
//    on_ready returns, the waiter's code must not touch the waiter.
//  * The destructor stops the watch without calling on_ready. If the host
//    loop is being destroyed, the adapter abandons the run first
//    (guest_run::host_gone), which destroys the waiter while the loop's
//    objects still exist.
class native_waiter {
public:
    virtual ~native_waiter() = default;
    virtual void arm(duration timeout) = 0;
    virtual void disarm() noexcept = 0;
};

// How a guest run reaches its host loop.
struct guest_host {
    // Required. Queues fn to run soon on the host thread. trellis calls it
    // only from threads other than the host thread; it must be thread-safe.
    // Both functions must run fn on the host thread (the one that called
    // start_guest_run): a step run on any other thread aborts the process
    // with a message saying so, since the run's state cannot be touched
    // safely from there.
    std::function<void(std::function<void()>)> run_sync_soon_threadsafe;
    // Optional. The same, called only from the host thread (cheaper posts
    // for hosts that have them). Defaults to run_sync_soon_threadsafe.
    std::function<void(std::function<void()>)> run_sync_soon_not_threadsafe;
    // Optional: needed only for guest_io_mode::host_native. Called once, on
    // the host thread, when such a run starts: returns a native_waiter
    // watching `fd` (the run's epoll instance) that calls `on_ready` as its
    // contract says. May throw (the run then fails to start with that error).
    std::function<std::unique_ptr<native_waiter>(int fd, std::function<void()> on_ready)> make_native_waiter = nullptr;
};

namespace detail {
class guest_driver;
}

// A handle on a guest run: what start_guest_run returns. The run does not depend on it: dropping the
// handle leaves the run going (each pending step or wait keeps it alive).
// Keep it if the host loop can go away first, to call host_gone().
class guest_run {
public:
    explicit guest_run(std::shared_ptr<detail::guest_driver> driver) noexcept : driver_(std::move(driver)) {}
    // True once the run has finished (the done callback ran) or was abandoned.
    bool finished() const noexcept;
    // The host loop is going away: abandon the run now. Call on the host
    // thread. Does nothing if the run already finished. Thread: host only.
    void host_gone() noexcept;

private:
    std::shared_ptr<detail::guest_driver> driver_;
};

namespace detail {
// Starts a guest run of `main` on the calling (host) thread. `finish` is
// called on the host thread after teardown with the run's crash error.
guest_run start_guest(const run_options& options, guest_host host, std::function<task<>()> main,
                      std::function<void(std::exception_ptr)> finish);
}  // namespace detail

// Starts fn(args...) as the main task of a guest run on the calling thread,
// which must be the host loop's thread. Returns once the run is initialised:
// current_token(), token::run_sync_soon and lowlevel::spawn_system_task
// already work from the host thread, before the main task first runs.
// `done(outcome<R>)` runs once, on the host thread, after the run's state
// is torn down. It must not throw (catch inside it: outcome::unwrap
// rethrows the run's error); if it does, trellis says so on stderr and
// calls std::terminate, as for an exception leaving a noexcept function.
// Not a checkpoint. Throws what start-up throws (run_error if a run is
// already active on this thread, run_sync_soon_threadsafe is missing, or
// options.guest_io asks for host_native and the host has no
// make_native_waiter).
template <class Done, class F, class... A>
    requires(!std::is_same_v<std::decay_t<Done>, run_options>)
guest_run start_guest_run(const run_options& options, guest_host host, Done done, F fn, A... args) {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>) {
        using R = detail::async_result_t<F, A...>;
        static_assert(std::is_invocable_v<Done&, outcome<R>>,
                      "trellis::start_guest_run: the done callback must accept trellis::outcome<R>");
        auto result = std::make_shared<outcome<R>>();
        // std::function needs a copyable callable; the work itself may be
        // move-only, so it lives behind a shared_ptr.
        auto work = std::make_shared<std::tuple<F, A...>>(std::move(fn), std::move(args)...);
        auto main = [result, work]() -> task<> {
            *result = co_await detail::capture(std::apply(
                [](auto& f, auto&... a) { return std::invoke(std::move(f), std::move(a)...); }, *work));
        };
        auto finish = [result, done = std::move(done)](std::exception_ptr crash) mutable {
            done(crash ? outcome<R>::from_error(crash) : std::move(*result));
        };
        return detail::start_guest(options, std::move(host), std::move(main), std::move(finish));
    } else {
        return guest_run(nullptr);  // not reached: the static_assert above has failed
    }
}

// The same with default run options.
template <class Done, class F, class... A>
    requires(!std::is_same_v<std::decay_t<Done>, run_options>)
guest_run start_guest_run(guest_host host, Done done, F fn, A... args) {
    return start_guest_run(run_options{}, std::move(host), std::move(done), std::move(fn), std::move(args)...);
}

}  // namespace trellis
