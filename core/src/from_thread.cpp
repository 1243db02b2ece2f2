// from_thread::run and from_thread::run_sync, built on the token and the
// low-level API (spawn_system_task, and to_thread's waiting task).
//
// A request travels to the run's thread inside a token callback, as a
// thread_request_handle. The callback either hands it to the waiting task
// of the to_thread call this thread works for (thread_job::accept_request),
// or serves it itself: a sync request by calling the function there and
// then, an async one by starting a system task. Whoever holds the handle
// last answers the caller; a handle destroyed unanswered answers
// run_finished_error.

#include "trellis/from_thread.hpp"

#include <string>

#include "trellis/cancelled.hpp"
#include "trellis/run.hpp"

namespace trellis::detail {

namespace {

bool is_cancellation(const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const cancelled&) {
        return true;
    } catch (...) {
        return false;
    }
}

// The error a request's function ended with. The answer to the caller
// must carry the trellis thread's last reference to it: libstdc++ counts
// references to an exception in code ThreadSanitizer cannot see, so if
// this thread let go of one after the caller woke, the caller's use and our
// release would look like a race (and freeing it here would be one for
// the tools). Hence: leave the catch block, and drop the outcome, before
// answering.
std::exception_ptr call_sync_request(thread_request& request) noexcept {
    try {
        request.call_sync();
        return nullptr;
    } catch (...) {
        return std::current_exception();
    }
}

task<std::exception_ptr> call_async_request(thread_request& request) {
    auto result = co_await capture(request.call_async());
    std::exception_ptr error = result.error();
    result = {};
    co_return error;
}

std::exception_ptr run_finished(const char* why) {
    return std::make_exception_ptr(run_finished_error(std::string("from_thread: ") + why));
}

// A system task serving an async request. The run cancels system tasks
// when its main task finishes; the caller then gets run_finished_error.
task<> serve_as_system_task(std::shared_ptr<thread_request_handle> handle) {
    std::exception_ptr error = co_await call_async_request(handle->request());
    if (error && is_cancellation(error))
        error = run_finished("the trellis run was shutting down and cancelled the async function");
    handle->complete(std::move(error));
}

// Token callback: serves a request that no to_thread task waits for.
void serve_in_callback(const std::shared_ptr<thread_request_handle>& handle) {
    if (!handle->request().is_async()) {
        handle->complete(call_sync_request(handle->request()));
        return;
    }
    try {
        lowlevel::spawn_system_task(named("from_thread::run"), &serve_as_system_task, handle);
    } catch (const run_error&) {
        handle->complete(run_finished("the trellis run is shutting down and starts no new tasks"));
    }
}

}  // namespace

thread_request_handle::~thread_request_handle() {
    if (request_) complete(run_finished("the trellis run ended before the call was served"));
}

void thread_request_handle::complete(std::exception_ptr error) noexcept {
    if (auto* request = std::exchange(request_, nullptr)) request->complete(std::move(error));
}

task<> serve_thread_request(std::shared_ptr<thread_request_handle> handle) {
    thread_request& request = handle->request();
    if (request.is_async()) {
        handle->complete(co_await call_async_request(request));
    } else {
        handle->complete(call_sync_request(request));
    }
}

void submit_thread_request(thread_request& request, const token* explicit_token, const char* caller) {
    if (in_trellis_run())
        throw run_error(std::string(caller) +
                        ": called on a thread that is running a trellis run; it blocks until that "
                        "run's thread serves it, so it would wait forever. In a task, call or "
                        "co_await the function directly");
    thread_job* job = explicit_token ? nullptr : current_thread_job();
    if (!explicit_token && !job)
        throw run_error(std::string(caller) +
                        ": this thread is not running a to_thread::run_sync function, so there is "
                        "no run to call into; pass the run's trellis::token (from "
                        "trellis::current_token()) as the first argument");
    const token& tok = explicit_token ? *explicit_token : job->run_token;
    auto handle = std::make_shared<thread_request_handle>(request);
    if (job && !job->abandon_on_cancel) {
        tok.run_sync_soon([job = job->shared_from_this(), handle] { job->accept_request(handle); });
    } else {
        tok.run_sync_soon([handle] { serve_in_callback(handle); });
    }
    handle.reset();  // the run's side owns the answer now
    request.wait();
}

}  // namespace trellis::detail
