// to_thread::run_sync, built on the low-level API: the thread cache,
// wait_task_rescheduled + reschedule, the token, run_var and
// capacity_limiter.
//
// The life of one call (a thread_job, shared by everyone below):
//   1. the task takes a limiter token on behalf of the job and hands the
//      job to the thread cache, then blocks in wait_task_rescheduled;
//   2. the worker calls the function, keeping its outcome in the job, and
//      posts the job's finish() to the run through the token;
//   3. finish() (on the run's thread) gives the token back and reschedules
//      the task, if it still waits; the task takes the outcome.
// Meanwhile the worker's from_thread calls may arrive (accept_request):
// the task wakes up, serves them, and blocks again. If the task abandons
// the job on cancellation, steps 2 and 3 still happen; finish() just finds
// nobody waiting. If the run has finished by then, the post fails and is
// ignored: the run, its limiter and its tasks are gone.

#include "trellis/to_thread.hpp"

#include <memory>
#include <utility>

#include "trellis/checkpoint.hpp"
#include "trellis/from_thread.hpp"
#include "trellis/run_var.hpp"
#include "trellis/thread_cache.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis {

namespace {

// A number pulled from Trio, which pulled it out of the air.
constexpr std::size_t default_thread_limit = 40;

lowlevel::run_var<std::shared_ptr<capacity_limiter>> default_limiter_var{nullptr};

std::shared_ptr<capacity_limiter> default_limiter() {
    auto limiter = default_limiter_var.get();
    if (!limiter) {
        limiter = std::make_shared<capacity_limiter>(default_thread_limit);
        default_limiter_var.set(limiter);
    }
    return limiter;
}

// The job the worker on this thread is running, for from_thread.
thread_local detail::thread_job* current_job = nullptr;

// Forgets the waiting task if its frame dies while it waits (an abandoned
// run destroys frames without resuming them).
struct forget_waiter_on_exit {
    detail::thread_job& job;
    ~forget_waiter_on_exit() {
        job.waiter = {};
        job.waiting = false;
    }
};

}  // namespace

namespace to_thread {
capacity_limiter& current_default_thread_limiter() { return *default_limiter(); }
}  // namespace to_thread

namespace detail {

thread_job::~thread_job() = default;

thread_job* current_thread_job() noexcept { return current_job; }

void thread_job::wake_waiter() {
    if (!waiting) return;
    waiting = false;
    lowlevel::reschedule(waiter);
}

void thread_job::finish() {
    try {
        limiter->release_on_behalf_of(this);
    } catch (...) {
        release_error = std::current_exception();
    }
    limiter_owner.reset();
    finished = true;
    wake_waiter();
}

void thread_job::accept_request(std::shared_ptr<thread_request_handle> request) {
    // Without a waiting task the handle dies here and answers the caller
    // with run_finished_error.
    if (!waiter) return;
    requests.push_back(std::move(request));
    wake_waiter();
}

namespace {

// Worker thread: the job's two halves, as the thread cache runs them.
void work_on(thread_job& job) noexcept {
    current_job = &job;
    job.call();
    current_job = nullptr;
}

void report_back(const std::shared_ptr<thread_job>& job) noexcept {
    try {
        job->run_token.run_sync_soon([job] { job->finish(); });
    } catch (...) {
        // The run has finished: whoever waited for this job is gone.
    }
}

}  // namespace

task<> run_thread_job(std::shared_ptr<thread_job> job, capacity_limiter* limiter, bool abandon_on_cancel) {
    co_await checkpoint_if_cancelled();
    if (!limiter) {
        job->limiter_owner = default_limiter();
        limiter = job->limiter_owner.get();
    }
    job->limiter = limiter;
    job->abandon_on_cancel = abandon_on_cancel;
    job->run_token = current_token();
    job->locals = lowlevel::current_task_locals();
    co_await limiter->acquire_on_behalf_of(job.get());
    try {
        lowlevel::start_thread_soon([job] { work_on(*job); }, [job] { report_back(job); });
    } catch (...) {
        limiter->release_on_behalf_of(job.get());
        throw;
    }

    job->waiter = lowlevel::current_task();
    forget_waiter_on_exit forget{*job};
    for (;;) {
        job->waiting = true;
        co_await lowlevel::wait_task_rescheduled([&job](const std::exception_ptr&) noexcept {
            if (!job->abandon_on_cancel) return lowlevel::abort_result::failed;
            job->waiting = false;
            job->waiter = {};
            return lowlevel::abort_result::succeeded;
        });
        if (job->finished) break;
        // Woken for the worker's from_thread calls: serve them here, in
        // this task's cancel scopes. The worker waits for each answer, so
        // there is at most one; loop anyway, it costs nothing.
        while (!job->requests.empty()) {
            auto request = std::move(job->requests.front());
            job->requests.erase(job->requests.begin());
            co_await serve_thread_request(std::move(request));
        }
    }
    // Taken out of the job, which may die on the worker thread.
    if (auto error = std::exchange(job->release_error, nullptr)) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace trellis
