// trellis::lowlevel::parking_lot: a FIFO queue of blocked tasks, the building
// block of event, lock, semaphore and condition.
//
// park() blocks the current task until unpark() picks it; cancellation
// removes it from the queue, leaving no ghost waiter. A lot is owned by the
// primitive that embeds it, belongs to the run of its first waiter, and is
// used only on that run's thread. Destroying a lot with waiters is a bug in
// the owner (asserted).
#pragma once

#include <coroutine>
#include <cstddef>

#include "trellis/detail/blocking.hpp"
#include "trellis/detail/intrusive_list.hpp"
#include "trellis/task_handle.hpp"

namespace trellis {
namespace detail {
struct parked_tag;
}

namespace lowlevel {

class parking_lot {
public:
    struct statistics_t {
        std::size_t tasks_waiting = 0;
    };

    // One parked task; lives in the blocked task's frame.
    class [[nodiscard("co_await park(): on its own the call does nothing")]] waiter
        : public trellis::detail::list_node<trellis::detail::parked_tag>,
          public trellis::detail::blocking_awaiter<waiter> {
    public:
        explicit waiter(parking_lot& lot) noexcept : lot_(&lot) {}
        ~waiter();  // leaves the lot if the frame dies while parked (abandoned run)

        const char* operation() const noexcept { return "parking_lot::park"; }
        void enqueue(trellis::detail::task_state&);
        abort_result abort(const std::exception_ptr&) noexcept;

    private:
        friend class parking_lot;
        // Invariant: while linked, lot_->waiters_ holds this waiter.
        parking_lot* lot_;
    };

    parking_lot() = default;
    parking_lot(const parking_lot&) = delete;
    parking_lot& operator=(const parking_lot&) = delete;
    ~parking_lot();

    // co_await lot.park(): blocks until unparked. A checkpoint; cancellation
    // throws cancelled and removes the task from the lot. Throws run_error
    // outside a task.
    waiter park() noexcept { return waiter(*this); }

    // Wakes up to `count` tasks, longest waiting first; returns how many.
    // Not a checkpoint.
    std::size_t unpark(std::size_t count = 1);
    // Wakes the longest-waiting task and returns it (an empty handle if the
    // lot is empty). Locks use it to hand ownership to the woken task. Not a
    // checkpoint.
    task_handle unpark_one();
    // Wakes every parked task; returns how many. Not a checkpoint.
    std::size_t unpark_all();
    // Moves up to `count` waiters to the back of `other` without waking
    // them (condition variables use this). Not a checkpoint.
    std::size_t repark(parking_lot& other, std::size_t count = 1);
    std::size_t repark_all(parking_lot& other);

    std::size_t size() const noexcept { return waiters_.size(); }
    explicit operator bool() const noexcept { return !waiters_.empty(); }
    statistics_t statistics() const noexcept { return {waiters_.size()}; }

    // Throws run_error naming `caller` if tasks are parked here and this
    // thread is not running their run.
    void check_thread(const char* caller) const;

private:
    trellis::detail::intrusive_list<waiter, trellis::detail::parked_tag> waiters_;
};

}  // namespace lowlevel
}  // namespace trellis
