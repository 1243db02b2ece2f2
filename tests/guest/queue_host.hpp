// The plain test host: a thread-safe queue of callbacks drained by the test
// thread. It is the smallest possible host loop, so the conformance suite
// checks the guest driver itself, with no toolkit in between.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <trellis/guest.hpp>

namespace trellis::testing {

class queue_host {
public:
    ~queue_host() { destroy(); }

    // Thread-safe: queues fn to run on the thread that drains the queue.
    void post(std::function<void()> fn) {
        {
            std::lock_guard lock(mutex_);
            if (destroyed_) return;  // the loop is gone: fn is dropped unrun
            queue_.push_back(std::move(fn));
        }
        cv_.notify_one();
    }

    // Runs queued callbacks until pred() holds or `timeout` passes; returns pred().
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            std::function<void()> fn;
            {
                std::unique_lock lock(mutex_);
                if (!cv_.wait_until(lock, deadline, [this] { return !queue_.empty(); })) return pred();
                fn = std::move(queue_.front());
                queue_.pop_front();
            }
            fn();
        }
        return true;
    }

    // One iteration of the loop: runs the callbacks queued now (not those
    // they queue), without waiting for any.
    void run_pending() {
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard lock(mutex_);
            batch.swap(queue_);
        }
        for (auto& fn : batch) fn();
    }

    // Destroys the loop: pending callbacks are destroyed without running,
    // later posts are dropped.
    void destroy() {
        std::deque<std::function<void()>> dropped;
        {
            std::lock_guard lock(mutex_);
            destroyed_ = true;
            dropped.swap(queue_);
        }
        dropped.clear();
    }

    guest_host host() {
        return guest_host{[this](std::function<void()> fn) { post(std::move(fn)); },
                          [this](std::function<void()> fn) { post(std::move(fn)); }};
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool destroyed_ = false;
};

}  // namespace trellis::testing
