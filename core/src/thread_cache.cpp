// The process-wide thread cache behind lowlevel::start_thread_soon.
//
// One mutex guards the whole cache. A worker is either running a job or
// sitting in idle_, waiting on its own condition variable; handing it a job
// and taking it off idle_ happen together under the mutex, so a worker
// whose idle wait timed out with no job is certainly still on idle_ and may
// remove itself and exit.
//
// The cache object is created on first use and deliberately never
// destroyed: worker threads are detached and may still be waiting on it
// while static destructors run at process exit.

#include "trellis/thread_cache.hpp"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace trellis::lowlevel {

namespace {

using namespace std::chrono_literals;

struct worker {
    std::condition_variable wake;
    // The job handed over by start_thread_soon. Guarded by the cache mutex.
    std::function<void()> fn;
    std::function<void()> deliver;
    bool has_job = false;
};

class thread_cache {
public:
    void submit(std::function<void()> fn, std::function<void()> deliver) {
        std::shared_ptr<worker> w;
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                // Invariant: a worker on idle_ has no job.
                w = std::move(idle_.back());
                idle_.pop_back();
                w->fn = std::move(fn);
                w->deliver = std::move(deliver);
                w->has_job = true;
            }
        }
        if (w) {
            // Outside the lock, so the worker does not wake only to block
            // on the mutex. Our reference keeps the condition variable
            // alive even if the worker has meanwhile finished the job and
            // retired.
            w->wake.notify_one();
            return;
        }
        start_worker(std::move(fn), std::move(deliver));
    }

    thread_cache_statistics statistics() {
        std::lock_guard lock(mutex_);
        return {threads_, idle_.size()};
    }

    void set_idle_timeout(std::chrono::nanoseconds timeout) {
        std::lock_guard lock(mutex_);
        idle_timeout_ = timeout;
    }
    std::chrono::nanoseconds idle_timeout() {
        std::lock_guard lock(mutex_);
        return idle_timeout_;
    }

private:
    void start_worker(std::function<void()> fn, std::function<void()> deliver) {
        auto w = std::make_shared<worker>();
        w->fn = std::move(fn);
        w->deliver = std::move(deliver);
        w->has_job = true;
        {
            std::lock_guard lock(mutex_);
            ++threads_;
        }
        try {
            std::thread([this, w] { work(w); }).detach();
        } catch (...) {
            std::lock_guard lock(mutex_);
            --threads_;
            throw;
        }
    }

    // When a worker going idle now gives up; saturates instead of
    // overflowing for huge timeouts. Call with mutex_ held.
    std::chrono::steady_clock::time_point idle_deadline() const {
        const auto now = std::chrono::steady_clock::now();
        const auto room = std::chrono::steady_clock::time_point::max() - now;
        return idle_timeout_ >= room ? std::chrono::steady_clock::time_point::max() : now + idle_timeout_;
    }

    void work(const std::shared_ptr<worker>& w) noexcept {
        ::pthread_setname_np(::pthread_self(), "trellis worker");
        std::unique_lock lock(mutex_);
        for (;;) {
            if (!w->has_job) {
                if (!w->wake.wait_until(lock, idle_deadline(), [&] { return w->has_job; })) {
                    // Timed out with no job: nobody can be handing us one,
                    // since that takes us off idle_ under this lock.
                    idle_.erase(std::find(idle_.begin(), idle_.end(), w));
                    --threads_;
                    return;
                }
            }
            auto fn = std::move(w->fn);
            auto deliver = std::move(w->deliver);
            w->has_job = false;
            lock.unlock();
            fn();
            fn = nullptr;  // the job's captures die before we are reusable
            lock.lock();
            idle_.push_back(w);
            lock.unlock();
            deliver();
            deliver = nullptr;
            lock.lock();
        }
    }

    std::mutex mutex_;
    // Idle workers, the most recently idle last (handed out first).
    std::vector<std::shared_ptr<worker>> idle_;
    std::size_t threads_ = 0;
    std::chrono::nanoseconds idle_timeout_ = 10s;
};

thread_cache& the_cache() {
    static thread_cache* cache = new thread_cache;  // never destroyed: see the top
    return *cache;
}

}  // namespace

void start_thread_soon(std::function<void()> fn, std::function<void()> deliver) {
    the_cache().submit(std::move(fn), std::move(deliver));
}

thread_cache_statistics current_thread_cache_statistics() { return the_cache().statistics(); }

void set_thread_cache_idle_timeout(std::chrono::nanoseconds timeout) {
    if (timeout < std::chrono::nanoseconds::zero())
        throw std::invalid_argument("set_thread_cache_idle_timeout: the timeout must not be negative");
    the_cache().set_idle_timeout(timeout);
}

std::chrono::nanoseconds thread_cache_idle_timeout() { return the_cache().idle_timeout(); }

}  // namespace trellis::lowlevel
