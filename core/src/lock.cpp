// lock and strict_fifo_lock, built only on the low-level API (parking_lot,
// current_task, checkpoints).

#include "trellis/lock.hpp"

#include "trellis/errors.hpp"

namespace trellis {

void lock::throw_already_held() {
    throw run_error("lock: the current task already holds this lock (acquiring it again would deadlock)");
}

void lock::throw_not_owner() { throw run_error("lock::release: the current task does not hold this lock"); }

void lock::acquire_nowait() {
    if (!try_take()) throw would_block("lock is held");  // (held whenever anyone waits)
}

std::size_t lock::adopt_waiters(lowlevel::parking_lot& from, std::size_t count) {
    if (!owner_)
        throw run_error(
            "lock::adopt_waiters: the lock is not held, so no release would ever wake the moved tasks; "
            "acquire the lock first");
    return from.repark(lot_, count);
}

}  // namespace trellis
