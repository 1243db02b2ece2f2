// trellis::to_thread::run_sync: run a blocking, plain (non-async) function on
// a worker thread while the calling task waits, like trio.to_thread.run_sync.
//
//   std::string text = co_await trellis::to_thread::run_sync(read_whole_file, path);
//   co_await trellis::to_thread::run_sync({.limiter = &disk_limiter}, fsync_all);
//   auto addr = co_await trellis::to_thread::run_sync({.abandon_on_cancel = true}, resolve, host);
//
// The function runs on a thread of the process-wide thread cache (see
// thread_cache.hpp); other tasks go on running meanwhile. How many such
// calls run at once is capped by a capacity_limiter: by default the run's
// own, with 40 tokens (current_default_thread_limiter()). The worker thread
// may call back into the run with trellis::from_thread without a token.
//
// Cancellation. A call that is already cancelled when it starts (or while it
// waits for a limiter token) raises cancelled without starting anything.
// Once the function is running on its thread it cannot be interrupted, so:
//  * abandon_on_cancel = false (the default): the cancellation is ignored
//    until the function returns, exactly as if it had been called directly;
//    run_sync then returns its value (or raises its error), and the
//    cancellation is raised at the task's next checkpoint. (This follows
//    Trio, which hands back the result rather than discarding it.)
//  * abandon_on_cancel = true: run_sync raises cancelled at once and the
//    thread is abandoned: it runs on, and its result (value or error) is
//    discarded when it ends. Use this only for work whose effects nobody
//    needs, like a name lookup.
// Either way the limiter token is held until the thread actually finishes.
//
// Threads and ownership: call run_sync in a task, on the run's thread. The
// function runs on another thread while the run goes on, so whatever it
// touches must be safe to use from there. The call owns the callable and
// its arguments and destroys them on the worker thread as soon as the
// function returns, before the result is handed back: when run_sync
// returns (or raises the function's error), they are already gone. Only an
// abandoned call (abandon_on_cancel) releases them later, on its thread,
// whenever the function finally returns.
//
// Task-local values: the function sees the calling task's task_local
// values (a copy: what it sets stays on the worker and ends with the call).
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "trellis/capacity_limiter.hpp"
#include "trellis/outcome.hpp"
#include "trellis/task.hpp"
#include "trellis/task_local.hpp"
#include "trellis/task_handle.hpp"
#include "trellis/token.hpp"

namespace trellis {

namespace detail {
class thread_request_handle;

// fn(args...) is a valid plain (synchronous) call: fn is not a task, and
// calling it with the arguments (as rvalues) returns something other than
// a trellis::task.
template <class F, class... A>
concept sync_callable = !is_task<std::decay_t<F>>::value &&
                        std::is_invocable_v<std::decay_t<F>&&, std::decay_t<A>&&...> &&
                        !is_task<std::decay_t<invoke_result_t<F, A...>>>::value;

// Says, in one static_assert, why fn(args...) is not a valid plain call.
// Always returns true; callers guard the rest of their body with
// `if constexpr (sync_callable<F, A...>)` (see check_async_callable).
template <class F, class... A>
constexpr bool check_sync_callable() {
    if constexpr (is_task<std::decay_t<F>>::value) {
        static_assert(dependent_false<F>,
                      "trellis: pass a plain function and its arguments, not an already-created task; an "
                      "async function is co_awaited directly in a task, or run with from_thread::run from "
                      "another thread");
    } else if constexpr (!std::is_invocable_v<std::decay_t<F>&&, std::decay_t<A>&&...>) {
        static_assert(dependent_false<F>,
                      "trellis: the callable cannot be called with these arguments; pass the function and its "
                      "arguments separately (f, 1), not the result of calling it (f(1))");
    } else if constexpr (is_task<std::decay_t<invoke_result_t<F, A...>>>::value) {
        static_assert(dependent_false<F>,
                      "trellis: this call runs a plain function, but the callable returns a trellis::task; in "
                      "a task, co_await the async function directly; from another thread, use "
                      "from_thread::run");
    }
    return true;
}

template <class F, class... A>
struct sync_result {
    using type = invalid_callable;
};
template <class F, class... A>
    requires sync_callable<F, A...>
struct sync_result<F, A...> {
    using type = std::decay_t<invoke_result_t<F, A...>>;
};
// What a plain callable returns when called with these arguments, decayed
// (a reference result is handed to the other thread as a copy);
// invalid_callable when that is not a valid plain call.
template <class F, class... A>
using sync_result_t = typename sync_result<F, A...>::type;

// Calls fn(args...) once (as rvalues) and returns its outcome; never throws.
template <class R, class F, class Args>
outcome<R> call_capturing(F& fn, Args& args) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            std::apply(std::move(fn), std::move(args));
            return outcome<R>::from_value();
        } else {
            return outcome<R>::from_value(std::apply(std::move(fn), std::move(args)));
        }
    } catch (...) {
        return outcome<R>::from_error(std::current_exception());
    }
}

// One to_thread::run_sync call, shared between the awaiting task and the
// worker thread (and the token callbacks in between), so that whichever
// side is last frees it: an abandoned thread may outlive the task.
class thread_job : public std::enable_shared_from_this<thread_job> {
public:
    thread_job() = default;
    thread_job(const thread_job&) = delete;
    thread_job& operator=(const thread_job&) = delete;
    virtual ~thread_job();

    // Worker thread: calls the function and keeps its outcome. Written
    // before the result is posted to the run, read on the run's thread after.
    virtual void call() noexcept = 0;

    // Run's thread: hands a from_thread request of the worker to the
    // waiting task (or answers it with run_finished_error if none waits).
    void accept_request(std::shared_ptr<thread_request_handle> request);
    // Run's thread: the worker is done; gives the limiter token back and
    // wakes the waiting task, if any.
    void finish();
    // Run's thread: reschedules the waiting task if it is blocked.
    void wake_waiter();

    // Set on the run's thread before the worker starts; read-only after.
    token run_token{nullptr};
    // The calling task's task-local values, lent to the worker.
    lowlevel::task_locals locals;
    bool abandon_on_cancel = false;
    capacity_limiter* limiter = nullptr;
    // Keeps the default limiter alive until the token is given back.
    std::shared_ptr<capacity_limiter> limiter_owner;

    // The rest is touched only on the run's thread.
    // The task waiting for the result; empty once it has given up waiting
    // (abandoned the thread) or its frame is gone.
    lowlevel::task_handle waiter;
    // Invariant: true exactly while waiter is blocked in
    // wait_task_rescheduled and nobody has rescheduled it yet.
    bool waiting = false;
    // The worker's function has returned and its token is back.
    bool finished = false;
    // An error giving the limiter token back; replaces the result.
    std::exception_ptr release_error;
    // from_thread calls of the worker, to run in the waiting task.
    std::vector<std::shared_ptr<thread_request_handle>> requests;
};

template <class R, class F, class... A>
class sync_job final : public thread_job {
public:
    explicit sync_job(F fn, A... args) : fn_(std::move(fn)), args_(std::in_place, std::move(args)...) {}
    // Calls the function, then destroys it and its arguments here, before
    // the result travels back (see "Threads and ownership" above).
    void call() noexcept override {
        lowlevel::scoped_task_locals lent(locals);
        result_ = call_capturing<R>(*fn_, *args_);
        fn_.reset();
        args_.reset();
    }
    // Moves the outcome out, so that an error's last reference is dropped
    // on the run's thread, where it is used, not wherever the job dies.
    R take_result() {
        auto result = std::move(result_);
        return result.unwrap();
    }

private:
    // Invariant: engaged until call() returns.
    std::optional<F> fn_;
    std::optional<std::tuple<A...>> args_;
    outcome<R> result_;
};

// The job this thread is running as a to_thread worker; null elsewhere.
thread_job* current_thread_job() noexcept;

// Runs `job` on a worker thread and waits for it (see to_thread::run_sync).
// Returns once the job's outcome is ready to take; throws cancelled when
// cancelled before the start or (if abandoning) while waiting.
task<> run_thread_job(std::shared_ptr<thread_job> job, capacity_limiter* limiter, bool abandon_on_cancel);

}  // namespace detail

namespace to_thread {

struct options {
    // The limiter that caps how many calls run at once; null means the
    // run's default one (current_default_thread_limiter()). It must outlive
    // the thread's work: with abandon_on_cancel the token is given back
    // only when the thread ends, possibly after the call has returned.
    capacity_limiter* limiter = nullptr;
    // Raise cancelled at once on cancellation and leave the thread running
    // (its result is discarded); see the top of this file.
    bool abandon_on_cancel = false;
};

// The run's default limiter for to_thread::run_sync: created on first use
// with 40 tokens, one per run; change its total_tokens to allow more or
// fewer threads. Valid until the run ends. Not a checkpoint. Throws
// run_error outside a run; use only on the run's thread.
capacity_limiter& current_default_thread_limiter();

// Runs fn(args...) on a worker thread and returns its value or rethrows its
// error in the calling task. The callable and arguments are moved into the
// call and live until the thread is done with them (an abandoned thread
// included). While the function runs, from_thread::run and
// from_thread::run_sync work on that thread without a token.
//
// A checkpoint (even when a worker is free). Takes a token of the limiter
// for the whole time the function runs, waiting for one if need be.
// Cancellation: see the top of this file. Throws run_error outside a task,
// std::system_error if a worker thread could not be started.
template <class F, class... A>
auto run_sync(options opts, F fn, A... args) -> task<detail::sync_result_t<F, A...>> {
    static_assert(detail::check_sync_callable<F, A...>());
    if constexpr (detail::sync_callable<F, A...>) {
        using R = detail::sync_result_t<F, A...>;
        auto job = std::make_shared<detail::sync_job<R, F, A...>>(std::move(fn), std::move(args)...);
        co_await detail::run_thread_job(job, opts.limiter, opts.abandon_on_cancel);
        co_return job->take_result();
    }
}

// The same with default options.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, options>)
auto run_sync(F fn, A... args) -> task<detail::sync_result_t<F, A...>> {
    return run_sync(options{}, std::move(fn), std::move(args)...);
}

}  // namespace to_thread
}  // namespace trellis
