// trellis::condition: wait until another task says something changed.
//
// A condition pairs a lock with a queue of waiters. wait() must be called
// holding the lock: it releases the lock, sleeps until notify() or
// notify_all(), and reacquires the lock before returning (also when it is
// cancelled, so the caller always leaves holding the lock). Notified
// waiters take the lock in FIFO order.
//
// Owned by the caller; used on one run's thread only.
#pragma once

#include <cstddef>

#include "trellis/acquired.hpp"
#include "trellis/lock.hpp"
#include "trellis/parking_lot.hpp"
#include "trellis/task.hpp"

namespace trellis {

class condition {
public:
    struct statistics_t {
        std::size_t tasks_waiting = 0;
        lock::statistics_t lock_statistics;
    };

    // A condition with its own lock.
    condition() : lock_(&own_lock_) {}
    // A condition on an existing lock, which must outlive it.
    explicit condition(trellis::lock& l) : lock_(&l) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;

    // The underlying lock's operations (see lock.hpp).
    detail::acquire_awaiter<trellis::lock> acquire() noexcept { return lock_->acquire(); }
    detail::hold_awaiter<trellis::lock, condition> hold() noexcept { return {*lock_, *this}; }
    void acquire_nowait() { lock_->acquire_nowait(); }
    void release() { lock_->release(); }
    bool locked() const noexcept { return lock_->locked(); }

    // Releases the lock, waits for a notify, reacquires the lock. A
    // checkpoint. Throws run_error if the current task does not hold the
    // lock. On cancellation the lock is reacquired (shielded) before
    // cancelled propagates.
    task<> wait();
    // Wakes up to n waiters (they then queue for the lock). Not a
    // checkpoint. Throws run_error if the current task does not hold the
    // lock.
    void notify(std::size_t n = 1);
    void notify_all();

    statistics_t statistics() const noexcept { return {lot_.size(), lock_->statistics()}; }

private:
    void check_owner(const char* caller) const;
    trellis::lock own_lock_;
    trellis::lock* lock_;
    lowlevel::parking_lot lot_;
};

}  // namespace trellis
