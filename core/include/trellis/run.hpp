// trellis::run: runs an async function to completion on the calling thread,
// like trio.run.
//
//   int main() { return trellis::run(main_task); }
//
// The calling thread becomes the run's thread: it blocks in epoll between
// scheduling steps until the main task and every system task have finished.
// Returns the main task's value, or rethrows its error. An error that has no
// task to go to (a system task's, a token callback's, the scheduler's own)
// cancels everything, and run() then throws trellis::internal_error with
// that error nested inside, as Trio raises TrioInternalError.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "trellis/clock.hpp"
#include "trellis/instrument.hpp"
#include "trellis/nursery.hpp"
#include "trellis/outcome.hpp"
#include "trellis/task.hpp"

namespace trellis {

// How a guest run waits for I/O when it has nothing to run (see guest.hpp).
// trellis::run ignores it: it always blocks in epoll on its own thread.
enum class guest_io_mode : unsigned char {
    // A worker thread blocks in epoll and posts the result to the host
    // loop. Works on every host; the default.
    worker_thread,
    // The host loop itself watches the run's epoll fd and its next
    // deadline (a QSocketNotifier with its own timer, a GSource, libevent
    // events): no thread, no cross-thread post. Needs a host that provides
    // guest_host::make_native_waiter (the Qt, GLib and libevent adapters do).
    host_native,
};

struct run_options {
    // The clock the run reads time from; null means trellis::system_clock.
    std::shared_ptr<trellis::clock> clock;
    // Instruments installed before the run starts (see instrument.hpp).
    std::vector<std::shared_ptr<lowlevel::instrument>> instruments;
    // When true a nursery raises an exception_group even for a single
    // error; when false (the default, as in Trio 0.22) a single error is
    // raised as itself. A nursery can override it (nursery_options).
    bool strict_exception_groups = false;
    // Guest runs only: how the run waits for I/O (see guest_io_mode).
    // start_guest_run throws run_error if host_native is asked of a host
    // without native waiting.
    guest_io_mode guest_io = guest_io_mode::worker_thread;
};

namespace detail {
// Drives a run of `main` on this thread until it is over; returns the
// run's crash error (a system task's or a token callback's), if any.
// Throws run_error if a run is already active on this thread.
std::exception_ptr drive_run(const run_options& options, std::function<task<>()> main);
}  // namespace detail

// Runs fn(args...) with the given options. The callable and arguments live
// until the main task has finished. Throws run_error when called inside a
// run (co_await the function instead).
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, run_options>)
auto run(const run_options& options, F fn, A... args) -> detail::async_result_t<F, A...> {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>) {
        using R = detail::async_result_t<F, A...>;
        outcome<R> result;
        auto crash = detail::drive_run(options, [&]() -> task<> {
            result = co_await detail::capture(std::invoke(std::move(fn), std::move(args)...));
        });
        if (crash) std::rethrow_exception(crash);
        return result.unwrap();
    } else {
        return {};  // not reached: the static_assert above has failed
    }
}

// Runs fn(args...) with default options.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, run_options>)
auto run(F fn, A... args) -> detail::async_result_t<F, A...> {
    return run(run_options{}, std::move(fn), std::move(args)...);
}

// True on a thread where a trellis run is active: inside its tasks, and in
// host callbacks on the host thread of a guest run. Not a checkpoint; never
// throws.
bool in_trellis_run() noexcept;
// True only inside a trellis task. Not a checkpoint; never throws.
bool in_trellis_task() noexcept;

namespace detail {
// Makes `root` a system task: a child of the run's system nursery, with the
// run's own (empty) task-local values. Throws run_error naming `caller`
// outside a run or when the run is ending.
void spawn_system(task_root root, spawn_name name, const char* caller);
}  // namespace detail

namespace lowlevel {

// Starts fn(args...) as a system task: a child of the root task rather than
// of any user nursery, with no task-local values (as in Trio). System tasks
// are cancelled when the main task finishes; an error escaping one cancels
// the whole run, which then ends with trellis::internal_error holding it.
// One spawned after the main task finished starts out cancelled, as in
// Trio. Not a checkpoint. Throws run_error outside a run, or once every
// system task has finished and the run is ending.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, named>)
void spawn_system_task(F&& fn, A&&... args) {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>)
        detail::spawn_system(detail::make_task_root<std::decay_t<F>, std::decay_t<A>...>(std::forward<F>(fn),
                                                                                          std::forward<A>(args)...),
                             detail::name_of<std::decay_t<F>>(fn), "lowlevel::spawn_system_task");
}
template <class F, class... A>
void spawn_system_task(const named& name, F&& fn, A&&... args) {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>)
        detail::spawn_system(detail::make_task_root<std::decay_t<F>, std::decay_t<A>...>(std::forward<F>(fn),
                                                                                          std::forward<A>(args)...),
                             detail::name_of<std::decay_t<F>>(fn, &name.name), "lowlevel::spawn_system_task");
}

}  // namespace lowlevel
}  // namespace trellis
