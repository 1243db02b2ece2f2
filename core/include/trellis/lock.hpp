// trellis::lock and trellis::strict_fifo_lock: mutual exclusion between
// tasks of one run.
//
// Fair: when the owner releases, ownership passes straight to the task that
// has waited longest, so no task can barge ahead of a waiter. Acquiring is a
// checkpoint even when the lock is free. Cancellation while waiting leaves
// no trace in the queue. A lock is owned by the task that acquired it; only
// that task may release it.
//
// Owned by the caller; used on one run's thread only.
#pragma once

#include <cstddef>

#include "trellis/acquired.hpp"
#include "trellis/parking_lot.hpp"
#include "trellis/task.hpp"
#include "trellis/task_handle.hpp"

namespace trellis {

class condition;

class lock {
public:
    struct statistics_t {
        bool locked = false;
        lowlevel::task_handle owner;  // empty when unlocked
        std::size_t tasks_waiting = 0;
    };

    lock() = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;

    // Acquires the lock and returns a guard that releases it:
    // `auto held = co_await mutex.hold();`. (C++ forbids a member function
    // named like its class, so the guard form cannot be called lock().)
    // A checkpoint. Throws run_error if the current task already holds it
    // (that would deadlock); cancellation while waiting throws cancelled and
    // leaves the queue untouched.
    task<acquired<lock>> hold();

    // Acquires without a guard; pair with release(). Same rules as lock().
    task<> acquire();
    // Acquires if that needs no waiting. Not a checkpoint. Throws
    // would_block if the lock is held or has waiters; run_error if the
    // current task already holds it.
    void acquire_nowait();
    // Releases; the longest waiter, if any, becomes the owner. Not a
    // checkpoint. Throws run_error if the current task is not the owner.
    void release();

    bool locked() const noexcept { return static_cast<bool>(owner_); }
    statistics_t statistics() const noexcept { return {locked(), owner_, lot_.size()}; }

private:
    friend class condition;
    lowlevel::task_handle owner_;
    lowlevel::parking_lot lot_;
};

// A lock that guarantees strict first-come-first-served handover (trellis's
// lock already does; this type states the guarantee in the type, for code
// whose correctness depends on it).
class strict_fifo_lock : public lock {
public:
    task<acquired<strict_fifo_lock>> hold();
};

}  // namespace trellis
