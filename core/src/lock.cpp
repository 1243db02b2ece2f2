// lock, strict_fifo_lock, semaphore and condition, built only on the
// low-level API (parking_lot, current_task, checkpoints).

#include "trellis/lock.hpp"

#include "trellis/cancel_scope.hpp"
#include "trellis/checkpoint.hpp"
#include "trellis/condition.hpp"
#include "trellis/errors.hpp"
#include "trellis/semaphore.hpp"

namespace trellis {

// ---- lock ----

void lock::acquire_nowait() {
    auto me = lowlevel::current_task();
    if (owner_ == me) throw run_error("lock: the current task already holds this lock (acquiring it again would deadlock)");
    if (owner_ || lot_) throw would_block("lock is held");
    owner_ = me;
}

task<> lock::acquire() {
    co_await checkpoint_if_cancelled();
    auto me = lowlevel::current_task();
    if (owner_ == me) throw run_error("lock: the current task already holds this lock (acquiring it again would deadlock)");
    if (!owner_ && !lot_) {
        owner_ = me;
        co_await lowlevel::cancel_shielded_checkpoint();
    } else {
        // release() makes us the owner before waking us.
        co_await lot_.park();
    }
}

task<acquired<lock>> lock::hold() {
    co_await acquire();
    co_return acquired<lock>(*this);
}

void lock::release() {
    if (owner_ != lowlevel::current_task())
        throw run_error("lock::release: the current task does not hold this lock");
    owner_ = lot_.unpark_one();
}

task<acquired<strict_fifo_lock>> strict_fifo_lock::hold() {
    co_await acquire();
    co_return acquired<strict_fifo_lock>(*this);
}

// ---- semaphore ----

semaphore::semaphore(std::size_t initial_value, std::optional<std::size_t> max_value)
    : value_(initial_value), max_(max_value) {
    if (max_ && initial_value > *max_)
        throw std::invalid_argument("semaphore: initial value exceeds the maximum");
}

void semaphore::acquire_nowait() {
    if (value_ == 0) throw would_block("semaphore has no permit free");
    --value_;
}

task<> semaphore::acquire() {
    co_await checkpoint_if_cancelled();
    if (value_ > 0) {
        --value_;
        co_await lowlevel::cancel_shielded_checkpoint();
    } else {
        // release() hands its permit to us directly.
        co_await lot_.park();
    }
}

task<acquired<semaphore>> semaphore::hold() {
    co_await acquire();
    co_return acquired<semaphore>(*this);
}

void semaphore::release() {
    if (lot_) {
        lot_.unpark_one();
        return;
    }
    if (max_ && value_ >= *max_)
        throw run_error("semaphore::release: released more times than acquired (would exceed the maximum value)");
    ++value_;
}

// ---- condition ----

void condition::check_owner(const char* caller) const {
    if (lock_->owner_ != lowlevel::current_task())
        throw run_error(std::string(caller) + ": the current task must hold the condition's lock");
}

task<acquired<condition>> condition::hold() {
    co_await acquire();
    co_return acquired<condition>(*this);
}

task<> condition::wait() {
    check_owner("condition::wait");
    // We sleep on our own lot, but notify() moves us to the lock's lot,
    // where a release makes us the owner: waking up means holding the lock.
    lock_->release();
    auto woken = co_await detail::capture([](lowlevel::parking_lot& lot) -> task<> { co_await lot.park(); }(lot_));
    if (woken.has_error()) {
        // Cancelled (or failed) while waiting: the caller must still leave
        // holding the lock, so take it back shielded before propagating.
        cancel_scope shield(inf, true);
        co_await shield.run([this]() { return lock_->acquire(); });
        woken.unwrap();
    }
}

void condition::notify(std::size_t n) {
    check_owner("condition::notify");
    lot_.repark(lock_->lot_, n);
}

void condition::notify_all() {
    check_owner("condition::notify_all");
    lot_.repark_all(lock_->lot_);
}

}  // namespace trellis
