// trellis on a libevent event_base: guest runs.
//
// libevent's quirks, and what this adapter does about them:
//  * Threading is opt-in and process-wide: evthread_use_pthreads() must be
//    called *before* event_base_new(). Only a base created after it has a
//    lock and a way to be woken from another thread, which trellis's worker
//    thread needs to post to it. start_guest_run checks the base and throws
//    run_error if it was made without threading (or with
//    EVENT_BASE_FLAG_NOLOCK).
//  * event_base_free() neither runs the callbacks of pending events nor
//    tells anybody. Before freeing a base that may still carry a guest run,
//    call trellis::libevent::release_base(base): it abandons the run (a
//    warning on stderr, the done callback not called) and frees the events
//    trellis added. Freeing the base without it leaves trellis with
//    dangling events: undefined behaviour.
//  * An event activated from inside a callback runs again in the same pass
//    of the loop, before the loop polls for I/O again. Our posts therefore
//    add a zero-timeout event instead (it runs in the loop's next pass, after
//    a poll), so a busy run cannot starve the base's other events.
//  * event_base_dispatch() returns as soon as no event is pending. While a
//    run waits on its worker thread the base might have none, so a guest
//    run keeps a long persistent timer pending until it ends.
//  * Host-native runs (run_options::guest_io = guest_io_mode::host_native)
//    add two events of their own: a persistent read event on the run's
//    epoll fd and a timer event for its next deadline, so the base's own
//    epoll_wait is the run's wait (no worker thread, no cross-thread
//    post). They are freed when the run ends, or by release_base, which
//    abandons the run first. start_guest_run requires a base made with
//    threading in either mode.
#pragma once

#include <event2/event.h>

#include <memory>
#include <type_traits>
#include <utility>

#include <trellis/detail/host_adapter.hpp>
#include <trellis/guest.hpp>
#include <trellis/run.hpp>
#include <trellis/task.hpp>

namespace trellis::libevent {

namespace detail {

class channel;

// A guest_host whose posts go to events on `base`, and the channel that owns
// them. Throws run_error if `base` was created without threading.
trellis::detail::attached_host<channel> attach(event_base* base);
// Remembers the run, so that release_base can abandon it.
void bind(channel& link, const guest_run& run);
// The run is over: frees the channel's events. Thread: the base's.
void detach(channel& link) noexcept;
// Loops the base until `finished` is set. Throws run_error if the loop fails.
void loop_until(event_base* base, const bool& finished);

template <class D>
constexpr bool is_options_v = trellis::detail::is_run_options_v<D>;

}  // namespace detail

// Starts fn(args...) as the main task of a guest run on `base`, which the
// calling thread runs (event_base_dispatch / event_base_loop). Returns once
// the run is initialised (see trellis::start_guest_run); the run then
// proceeds as the base loops. `done(outcome<R>)` runs on this thread when the
// run ends; it must not throw. Not a checkpoint. Throws run_error if `base`
// was created before evthread_use_pthreads() (or with
// EVENT_BASE_FLAG_NOLOCK), or if a run is already active on this thread.
template <class Done, class F, class... A>
    requires(!detail::is_options_v<Done>)
guest_run start_guest_run(event_base* base, const run_options& options, Done done, F fn, A... args) {
    return trellis::detail::start_attached_guest_run(detail::attach(base), options, std::move(done), std::move(fn),
                                                     std::move(args)...);
}

// The same with default run options.
template <class Done, class F, class... A>
    requires(!detail::is_options_v<Done>)
guest_run start_guest_run(event_base* base, Done done, F fn, A... args) {
    return libevent::start_guest_run(base, run_options{}, std::move(done), std::move(fn), std::move(args)...);
}

// Runs fn(args...) as a guest run on `base`, looping the base on the calling
// thread until the run ends (the base's other events keep being served).
// Returns the main task's value or rethrows its error. Throws run_error as
// start_guest_run does, or if event_base_loop fails.
template <class F, class... A>
    requires(!detail::is_options_v<F>)
auto run(event_base* base, const run_options& options, F fn, A... args) -> trellis::detail::async_result_t<F, A...> {
    using R = trellis::detail::async_result_t<F, A...>;
    outcome<R> result;
    bool finished = false;
    libevent::start_guest_run(base, options,
                              [&](outcome<R> o) {
                                  result = std::move(o);
                                  finished = true;
                              },
                              std::move(fn), std::move(args)...);
    detail::loop_until(base, finished);
    return result.unwrap();
}

template <class F, class... A>
    requires(!detail::is_options_v<F>)
auto run(event_base* base, F fn, A... args) -> trellis::detail::async_result_t<F, A...> {
    return libevent::run(base, run_options{}, std::move(fn), std::move(args)...);
}

// Detaches trellis from `base`; call it right before event_base_free(base).
// Every guest run still live on `base` is abandoned: its tasks are destroyed
// unfinished, a warning goes to stderr, its done callback is not called, and
// the events trellis added to the base are freed. Does nothing for runs that
// have finished. Call on the thread that runs the base. Never throws.
void release_base(event_base* base) noexcept;

}  // namespace trellis::libevent
