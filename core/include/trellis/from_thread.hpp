// trellis::from_thread: call into a run from another thread and wait for
// the answer, like trio.from_thread.
//
//   // In a function that to_thread::run_sync runs on a worker thread:
//   int n = trellis::from_thread::run_sync([&] { return queue.size(); });
//   trellis::from_thread::run(send_message, std::ref(channel), text);
//
//   // In a thread trellis knows nothing about:
//   trellis::from_thread::run_sync(tok, [&] { done.set(); });   // tok = trellis::current_token()
//
// Both block the calling thread until the function has run on the run's
// thread, then return its value (a reference result is copied) or rethrow
// its error there. Where the function runs:
//  * From a worker of to_thread::run_sync (no token given) whose call does
//    not abandon on cancel: inside the task waiting in to_thread::run_sync,
//    so within that task's cancel scopes. If that task is cancelled, an
//    async function's checkpoints raise trellis::cancelled, which comes out
//    of from_thread::run in the worker; let it propagate out of the worker
//    function and to_thread::run_sync raises it in the task, where the
//    cancelled scope catches it.
//  * Otherwise (a token given, or a worker whose call abandons on cancel):
//    run_sync's function in a token callback (outside any task) and run's
//    async function as a system task, which the run cancels when its main
//    task finishes.
// The callable and arguments stay on the calling thread (they are used from
// the run's thread while the caller waits), so references into the
// caller's stack are safe.
//
// Differences from Trio: Trio's RunFinishedError is trellis::run_error when
// the run has already finished (what token::run_sync_soon raises), and
// trellis::run_finished_error when the run ends while the call is under
// way; a system task cancelled by the end of the run hands the thread
// run_finished_error rather than a cancellation, which the thread could not
// do anything with.
#pragma once

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/errors.hpp"
#include "trellis/outcome.hpp"
#include "trellis/task.hpp"
#include "trellis/to_thread.hpp"
#include "trellis/token.hpp"

namespace trellis {

namespace detail {

// One from_thread call: the work to run on the run's thread, and the
// calling thread's wait for it. Lives on the calling thread's stack; the
// run's side reaches it through a thread_request_handle and must not touch
// it after complete().
class thread_request {
public:
    explicit thread_request(bool async) noexcept : async_(async) {}
    thread_request(const thread_request&) = delete;
    thread_request& operator=(const thread_request&) = delete;

    bool is_async() const noexcept { return async_; }
    // Run's thread. Sync requests: calls the function, keeping its value;
    // throws its error.
    virtual void call_sync() {}
    // Run's thread, in a task. Async requests: awaits the function, keeping
    // its value; throws its error.
    virtual task<> call_async() { co_return; }

    // Any thread, once: records the error (null for success) and releases
    // the waiting thread.
    void complete(std::exception_ptr error) noexcept {
        std::lock_guard lock(mutex_);
        error_ = std::move(error);
        done_ = true;
        // Under the lock: once we let go, the caller may return and destroy us.
        done_cv_.notify_one();
    }
    // Calling thread: blocks until complete(), then rethrows its error.
    void wait() {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, [this] { return done_; });
        if (error_) std::rethrow_exception(error_);
    }

protected:
    ~thread_request() = default;

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    std::exception_ptr error_;
    bool done_ = false;
    bool async_;
};

// Where a request keeps the function's value until the caller takes it.
template <class R>
struct request_value {
    std::optional<R> value;
    template <class G>
    void set(G&& produce) { value.emplace(std::forward<G>(produce)()); }
    R take() { return std::move(*value); }
};
template <>
struct request_value<void> {
    template <class G>
    void set(G&& produce) { std::forward<G>(produce)(); }
    void take() noexcept {}
};

template <class R, class F, class... A>
class sync_request final : public thread_request {
public:
    explicit sync_request(F fn, A... args) : thread_request(false), fn_(std::move(fn)), args_(std::move(args)...) {}
    void call_sync() override {
        value_.set([this]() -> decltype(auto) { return std::apply(std::move(fn_), std::move(args_)); });
    }
    R take_result() { return value_.take(); }

private:
    F fn_;
    std::tuple<A...> args_;
    request_value<R> value_;
};

template <class R, class F, class... A>
class async_request final : public thread_request {
public:
    explicit async_request(F fn, A... args) : thread_request(true), fn_(std::move(fn)), args_(std::move(args)...) {}
    task<> call_async() override {
        if constexpr (std::is_void_v<R>) {
            co_await std::apply(std::move(fn_), std::move(args_));
        } else {
            value_.value.emplace(co_await std::apply(std::move(fn_), std::move(args_)));
        }
    }
    R take_result() { return value_.take(); }

private:
    F fn_;
    std::tuple<A...> args_;
    request_value<R> value_;
};

// The run's side of a request: whoever holds it owes the caller an answer.
// complete() gives it; a handle dropped unanswered (its callback or task
// destroyed unrun because the run was abandoned, say) answers with
// run_finished_error, so the calling thread is never left waiting.
class thread_request_handle {
public:
    explicit thread_request_handle(thread_request& request) noexcept : request_(&request) {}
    thread_request_handle(const thread_request_handle&) = delete;
    thread_request_handle& operator=(const thread_request_handle&) = delete;
    ~thread_request_handle();

    thread_request& request() const noexcept { return *request_; }
    // Answers the caller; the request must not be touched afterwards.
    void complete(std::exception_ptr error) noexcept;

private:
    thread_request* request_;  // null once answered
};

// Serves a request in the current task (for sync requests, calls the
// function right here) and answers the caller; never throws.
task<> serve_thread_request(std::shared_ptr<thread_request_handle> handle);

// Sends `request` to the run (through `explicit_token`, or the run of the
// to_thread worker this thread is) and blocks until it has been served;
// rethrows its error. Throws run_error on a trellis thread, or with no
// token outside a to_thread worker, or if the run has finished.
void submit_thread_request(thread_request& request, const token* explicit_token, const char* caller);

}  // namespace detail

namespace from_thread {

// Runs fn(args...) on the run's thread as a plain call and returns its
// value or rethrows its error, blocking this thread until then. Without a
// token, this must be a worker thread of to_thread::run_sync. Where the
// call runs: see the top of this file.
//
// Not a trellis operation (it blocks a thread, not a task). Throws
// run_error when called on a thread running a trellis run (it would wait
// for itself forever), without a token outside a to_thread worker, or if
// the run has finished; run_finished_error if the run is abandoned before
// the call runs. Thread-safe.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, token>)
auto run_sync(F fn, A... args) -> detail::sync_result_t<F, A...> {
    static_assert(detail::check_sync_callable<F, A...>());
    if constexpr (detail::sync_callable<F, A...>) {
        detail::sync_request<detail::sync_result_t<F, A...>, F, A...> request(std::move(fn), std::move(args)...);
        detail::submit_thread_request(request, nullptr, "from_thread::run_sync");
        return request.take_result();
    } else {
        return {};  // not reached: the static_assert above has failed
    }
}

// The same in the run that `tok` belongs to, from any thread.
template <class F, class... A>
auto run_sync(const token& tok, F fn, A... args) -> detail::sync_result_t<F, A...> {
    static_assert(detail::check_sync_callable<F, A...>());
    if constexpr (detail::sync_callable<F, A...>) {
        detail::sync_request<detail::sync_result_t<F, A...>, F, A...> request(std::move(fn), std::move(args)...);
        detail::submit_thread_request(request, &tok, "from_thread::run_sync");
        return request.take_result();
    } else {
        return {};  // not reached: the static_assert above has failed
    }
}

// Runs the async function fn(args...) to completion on the run's thread and
// returns its value or rethrows its error, blocking this thread until then.
// Without a token, this must be a worker thread of to_thread::run_sync.
// Where the function runs, and what its cancellation does: see the top of
// this file.
//
// Throws what run_sync throws, and run_finished_error if the run shuts
// down (cancelling the function) before it finishes. Thread-safe.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, token>)
auto run(F fn, A... args) -> detail::async_result_t<F, A...> {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>) {
        detail::async_request<detail::async_result_t<F, A...>, F, A...> request(std::move(fn), std::move(args)...);
        detail::submit_thread_request(request, nullptr, "from_thread::run");
        return request.take_result();
    } else {
        return {};  // not reached: the static_assert above has failed
    }
}

// The same in the run that `tok` belongs to, from any thread.
template <class F, class... A>
auto run(const token& tok, F fn, A... args) -> detail::async_result_t<F, A...> {
    static_assert(detail::check_async_callable<F, A...>());
    if constexpr (detail::async_callable<F, A...>) {
        detail::async_request<detail::async_result_t<F, A...>, F, A...> request(std::move(fn), std::move(args)...);
        detail::submit_thread_request(request, &tok, "from_thread::run");
        return request.take_result();
    } else {
        return {};  // not reached: the static_assert above has failed
    }
}

}  // namespace from_thread
}  // namespace trellis
