// Internal: the run's queue of callbacks posted from other threads (what a
// token feeds), and the eventfd that wakes the run's I/O wait.
//
// Threads: post() and wake() may be called from any thread; take() and
// close() only on the run's thread. The queue is shared (tokens keep it
// alive after the run), so it owns its eventfd.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <vector>

#include "trellis/token.hpp"

namespace trellis::detail {

class entry_queue {
public:
    entry_queue();
    ~entry_queue();
    entry_queue(const entry_queue&) = delete;
    entry_queue& operator=(const entry_queue&) = delete;

    // The eventfd the run polls; readable when callbacks or a wake-up wait.
    int fd() const noexcept { return fd_; }

    // Queues fn. Throws run_error once the run has finished.
    void post(std::function<void()> fn);
    // Queues `callback` unless one the same is queued already. Throws
    // run_error once the run has finished.
    void post_idempotent(std::shared_ptr<idempotent_callback> callback);
    // Makes the run's I/O wait return without queueing anything.
    void wake() noexcept;
    // True if a wake-up (or a post) may be waiting on the eventfd. When
    // false, polling the eventfd would find nothing new: a later wake()
    // writes it again. Any thread.
    bool wake_pending() const noexcept { return wake_pending_.load(std::memory_order_acquire); }
    // Consumes pending wake-ups and takes the queued callbacks.
    std::vector<std::function<void()>> take();
    // How many callbacks wait to be taken. Any thread.
    std::size_t size();
    // Refuses further posts; returns what was still queued.
    std::vector<std::function<void()>> close();

private:
    int fd_;
    std::mutex mutex_;
    std::vector<std::function<void()>> queue_;  // guarded by mutex_
    // Invariant: the idempotent callbacks among queue_, in order.
    std::vector<std::shared_ptr<idempotent_callback>> idempotent_;  // guarded by mutex_
    bool closed_ = false;                       // guarded by mutex_
    // Coalesces wake-ups: set by whoever wrote to the eventfd, cleared by
    // take() before it reads the eventfd, so no post is ever missed.
    std::atomic<bool> wake_pending_{false};
};

}  // namespace trellis::detail
