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

void lock::throw_already_held() {
    throw run_error("lock: the current task already holds this lock (acquiring it again would deadlock)");
}

void lock::throw_not_owner() { throw run_error("lock::release: the current task does not hold this lock"); }

void lock::acquire_nowait() {
    if (!try_take()) throw would_block("lock is held");  // (held whenever anyone waits)
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
        co_await shield.run([this]() -> task<> { co_await lock_->acquire(); });
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
