// trellis::event: a flag that tasks can wait for; once set it stays set.
//
// Owned by the caller; used on its run's thread only (set() from a host
// callback in a guest run is fine; from another thread, post through a
// token). Waiting tasks are woken all at once by set().
#pragma once

#include <cstddef>

#include "trellis/checkpoint.hpp"
#include "trellis/parking_lot.hpp"
#include "trellis/task.hpp"

namespace trellis {

class event {
public:
    struct statistics_t {
        std::size_t tasks_waiting = 0;
    };

    event() = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    // Sets the flag and wakes every waiter. Idempotent. Not a checkpoint.
    void set();
    bool is_set() const noexcept { return flag_; }
    // Waits until the flag is set. A checkpoint, also when it is already
    // set; cancellation throws cancelled and leaves no waiter behind.
    task<> wait();
    statistics_t statistics() const noexcept { return {lot_.size()}; }

private:
    lowlevel::parking_lot lot_;
    bool flag_ = false;
};

}  // namespace trellis
