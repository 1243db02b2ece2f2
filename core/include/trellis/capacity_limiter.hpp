// trellis::capacity_limiter: at most N borrowers at a time.
//
// Like a semaphore whose permits remember who holds them: each borrower
// (by default the current task; any object identity when acquiring on
// behalf of something else, such as a worker thread job) holds at most one
// token, and only that borrower may give it back. The total can change
// while the run goes on; raising it wakes waiters at once. Waiters are
// served FIFO. Acquiring is a checkpoint even when a token is free;
// cancellation while waiting leaves no trace.
//
// The total may be capacity_limiter::unlimited (Trio's total_tokens=inf):
// then acquiring never waits, but it still records the borrower, is still
// a checkpoint, and the total can later be lowered to a finite number.
//
// Owned by the caller; used on one run's thread only.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "trellis/parking_lot.hpp"
#include "trellis/task.hpp"

namespace trellis {

class capacity_limiter {
public:
    // Who holds a token: an object's address (a task's, by default).
    using borrower_id = const void*;

    struct statistics_t {
        std::size_t borrowed_tokens = 0;
        std::size_t total_tokens = 0;
        // The borrowers, with a name for each: a task's name, or "object@0x..".
        std::vector<std::pair<borrower_id, std::string>> borrowers;
        std::size_t tasks_waiting = 0;
    };

    // A guard that returns the token of one borrower when destroyed.
    class [[nodiscard]] borrowed {
    public:
        borrowed() noexcept = default;
        borrowed(capacity_limiter& l, borrower_id b) noexcept : limiter_(&l), borrower_(b) {}
        borrowed(borrowed&& o) noexcept
            : limiter_(std::exchange(o.limiter_, nullptr)), borrower_(o.borrower_) {}
        borrowed& operator=(borrowed&& o) noexcept {
            if (this != &o) {
                reset();
                limiter_ = std::exchange(o.limiter_, nullptr);
                borrower_ = o.borrower_;
            }
            return *this;
        }
        ~borrowed() { reset(); }
        void reset() {
            if (auto* l = std::exchange(limiter_, nullptr)) l->release_on_behalf_of(borrower_);
        }

    private:
        capacity_limiter* limiter_ = nullptr;
        borrower_id borrower_ = nullptr;
    };

    // A total with no limit: `capacity_limiter all(capacity_limiter::unlimited);`.
    // total_tokens() and statistics() report it as this value;
    // available_tokens() is then always unlimited minus the borrowed count.
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

    // Throws std::invalid_argument if total_tokens is 0. Not a checkpoint;
    // may be constructed outside a run.
    explicit capacity_limiter(std::size_t total_tokens);
    capacity_limiter(const capacity_limiter&) = delete;
    capacity_limiter& operator=(const capacity_limiter&) = delete;

    // Borrows a token for the current task. A checkpoint. Throws run_error
    // if the task already holds one.
    task<> acquire();
    // Borrows for `borrower`. A checkpoint. Throws run_error if it already
    // holds one (or is already waiting for one in another task).
    task<> acquire_on_behalf_of(borrower_id borrower);
    // Guard forms of the two above.
    task<borrowed> hold();
    task<borrowed> hold_on_behalf_of(borrower_id borrower);
    // Borrow without waiting. Not checkpoints. Throw would_block if no
    // token is free (or others wait), run_error if already borrowed.
    void acquire_nowait();
    void acquire_on_behalf_of_nowait(borrower_id borrower);
    // Give a token back. Not checkpoints. Throw run_error if the borrower
    // holds none.
    void release();
    void release_on_behalf_of(borrower_id borrower);

    std::size_t total_tokens() const noexcept { return total_; }
    // Changes the total (unlimited allowed); waiters get freed-up tokens at
    // once. Throws std::invalid_argument if 0. Borrowers above a lowered
    // total keep their tokens until they release. Not a checkpoint.
    void set_total_tokens(std::size_t total);
    std::size_t borrowed_tokens() const noexcept { return borrowers_.size(); }
    std::size_t available_tokens() const noexcept {
        return total_ > borrowers_.size() ? total_ - borrowers_.size() : 0;
    }
    statistics_t statistics() const;

private:
    // Throws run_error if `borrower` holds a token or waits for one.
    void check_not_borrowing(borrower_id borrower) const;
    task<> acquire_for(borrower_id borrower, std::string label);
    void take_nowait(borrower_id borrower, std::string label);
    void wake_waiters();
    std::size_t total_;
    // Each borrower with its label (a task's name; empty for other objects).
    std::unordered_map<borrower_id, std::string> borrowers_;
    // Who each parked task is borrowing for, so a token handed to a woken
    // task is recorded under the right borrower.
    std::unordered_map<const void*, std::pair<borrower_id, std::string>> pending_;
    lowlevel::parking_lot lot_;
};

}  // namespace trellis
