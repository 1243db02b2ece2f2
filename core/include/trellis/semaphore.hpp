// trellis::semaphore: a counter of interchangeable permits.
//
// acquire() takes a permit, waiting (FIFO) while there is none; release()
// gives one back, handing it straight to the longest waiter. With a maximum
// it also catches releasing more than was acquired. Unlike a lock, a permit
// has no owner: any task may release. Acquiring is a checkpoint even when a
// permit is free; cancellation while waiting leaves no trace.
//
// Owned by the caller; used on one run's thread only.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>

#include "trellis/acquired.hpp"
#include "trellis/parking_lot.hpp"
#include "trellis/task.hpp"

namespace trellis {

class semaphore {
public:
    struct statistics_t {
        std::size_t value = 0;
        std::optional<std::size_t> max_value;
        std::size_t tasks_waiting = 0;
    };

    // Throws std::invalid_argument if initial_value exceeds max_value.
    explicit semaphore(std::size_t initial_value, std::optional<std::size_t> max_value = std::nullopt);
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    // Takes a permit: `co_await s.acquire();`. A checkpoint, also when a
    // permit is free. Cancellation while waiting throws cancelled and takes
    // nothing. Returns an awaitable: co_await it at once, once.
    detail::acquire_awaiter<semaphore> acquire() noexcept { return detail::acquire_awaiter<semaphore>(*this); }
    // Takes a permit and returns a guard that gives it back. A checkpoint.
    detail::hold_awaiter<semaphore, semaphore> hold() noexcept { return {*this, *this}; }
    // Takes a permit if one is free and nobody waits. Not a checkpoint.
    // Throws would_block otherwise.
    void acquire_nowait();
    // Gives a permit back (to the longest waiter if any). Not a checkpoint.
    // Throws run_error if that would exceed max_value.
    void release();

    std::size_t value() const noexcept { return value_; }
    std::optional<std::size_t> max_value() const noexcept { return max_; }
    statistics_t statistics() const noexcept { return {value_, max_, lot_.size()}; }

private:
    friend class detail::acquire_awaiter<semaphore>;
    // Takes a permit if one is free (then nobody waits).
    bool try_take() noexcept {
        if (value_ == 0) return false;
        --value_;
        return true;
    }
    // Invariant: value_ is 0 whenever lot_ has waiters (release() hands its
    // permit straight to the next waiter).
    std::size_t value_;
    std::optional<std::size_t> max_;
    lowlevel::parking_lot lot_;
};

}  // namespace trellis
