// condition, built only on the low-level API (parking_lot, cancel_scope)
// and lock's public interface.

#include "trellis/condition.hpp"

#include <exception>
#include <string>

#include "trellis/cancel_scope.hpp"
#include "trellis/errors.hpp"

namespace trellis {

void condition::check_owner(const char* caller) const {
    if (lock_->statistics().owner != lowlevel::current_task())
        throw run_error(std::string(caller) + ": the current task must hold the condition's lock; "
                                              "acquire it first (co_await cond.acquire() or cond.hold())");
}

task<> condition::wait() {
    check_owner("condition::wait");
    // We sleep on our own lot, but notify() moves us to the lock's queue
    // (lock::adopt_waiters), where a release makes us the owner: waking up
    // normally means holding the lock.
    lock_->release();
    std::exception_ptr interrupted;
    try {
        co_await lot_.park();
    } catch (...) {
        interrupted = std::current_exception();
    }
    if (interrupted) {
        // Cancelled while waiting (on our lot or in the lock's queue): the
        // caller must still leave holding the lock, so take it back
        // shielded before propagating.
        cancel_scope shield(inf, true);
        auto reacquire = [this]() -> task<> { co_await lock_->acquire(); };
        co_await shield.run(reacquire);
        std::rethrow_exception(interrupted);
    }
}

void condition::notify(std::size_t n) {
    check_owner("condition::notify");
    lock_->adopt_waiters(lot_, n);
}

void condition::notify_all() {
    check_owner("condition::notify_all");
    lock_->adopt_waiters(lot_, lot_.size());
}

}  // namespace trellis
