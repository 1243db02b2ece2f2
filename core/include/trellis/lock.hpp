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
    // A checkpoint, also when the lock is free. Throws run_error if the
    // current task already holds it (that would deadlock); cancellation
    // while waiting throws cancelled and leaves the queue untouched.
    // Returns an awaitable: co_await it at once, once.
    detail::hold_awaiter<lock, lock> hold() noexcept { return {*this, *this}; }

    // Acquires without a guard (`co_await mutex.acquire();`); pair with
    // release(). Same rules as hold().
    detail::acquire_awaiter<lock> acquire() noexcept { return detail::acquire_awaiter<lock>(*this); }
    // Acquires if that needs no waiting. Not a checkpoint. Throws
    // would_block if the lock is held or has waiters; run_error if the
    // current task already holds it.
    void acquire_nowait();
    // Releases; the longest waiter, if any, becomes the owner. Not a
    // checkpoint. Throws run_error if the current task is not the owner.
    void release() {
        if (owner_ != lowlevel::current_task()) throw_not_owner();
        owner_ = lot_ ? lot_.unpark_one() : lowlevel::task_handle();
    }

    bool locked() const noexcept { return static_cast<bool>(owner_); }
    statistics_t statistics() const noexcept { return {locked(), owner_, lot_.size()}; }

    // Moves up to `count` tasks parked in `from` (with
    // lowlevel::parking_lot::park()) to the back of this lock's queue,
    // without waking them: each wakes later as the lock's owner, when a
    // release hands it over. Returns how many moved. This is how a
    // condition variable hands notified waiters to its lock (see
    // condition.hpp); a task woken this way must treat waking up as
    // holding the lock. Not a checkpoint. Throws run_error if the lock is
    // not held (nobody would ever hand it to the moved tasks).
    std::size_t adopt_waiters(lowlevel::parking_lot& from, std::size_t count);

private:
    friend class detail::acquire_awaiter<lock>;
    // Takes the lock for the current task if it is free (then nobody
    // waits). Throws run_error if the current task holds it already.
    bool try_take() {
        auto me = lowlevel::current_task();
        if (owner_ == me) throw_already_held();
        if (owner_) return false;
        owner_ = me;
        return true;
    }
    [[noreturn]] static void throw_already_held();
    [[noreturn]] static void throw_not_owner();
    // Invariant: owner_ is set whenever lot_ has waiters (release() hands
    // the lock straight to the next waiter).
    lowlevel::task_handle owner_;
    lowlevel::parking_lot lot_;
};

// A lock that guarantees strict first-come-first-served handover (trellis's
// lock already does; this type states the guarantee in the type, for code
// whose correctness depends on it).
class strict_fifo_lock : public lock {
public:
    detail::hold_awaiter<lock, strict_fifo_lock> hold() noexcept { return {*this, *this}; }
};

}  // namespace trellis
