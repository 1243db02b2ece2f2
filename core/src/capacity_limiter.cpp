// capacity_limiter, built only on the low-level API (parking_lot,
// current_task, checkpoints).

#include "trellis/capacity_limiter.hpp"

#include <cstdio>
#include <exception>
#include <stdexcept>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"

namespace trellis {

capacity_limiter::capacity_limiter(std::size_t total_tokens) : total_(total_tokens) {
    if (total_tokens == 0)
        throw std::invalid_argument(
            "capacity_limiter: total_tokens must be at least 1 (use capacity_limiter::unlimited for no limit)");
}

void capacity_limiter::check_not_borrowing(borrower_id borrower) const {
    if (borrowers_.count(borrower))
        throw run_error("capacity_limiter: this borrower already holds one of the tokens");
    // A borrower queued in another task would get a second token when woken.
    for (const auto& [task, waiting] : pending_)
        if (waiting.first == borrower)
            throw run_error("capacity_limiter: this borrower is already waiting for a token in another task");
}

void capacity_limiter::take_nowait(borrower_id borrower, std::string label) {
    check_not_borrowing(borrower);
    if (available_tokens() == 0 || lot_) throw would_block("capacity_limiter has no token free");
    borrowers_.emplace(borrower, std::move(label));
}

void capacity_limiter::acquire_on_behalf_of_nowait(borrower_id borrower) { take_nowait(borrower, {}); }

void capacity_limiter::acquire_nowait() {
    auto me = lowlevel::current_task();
    take_nowait(me.state(), me.name());
}

task<> capacity_limiter::acquire_for(borrower_id borrower, std::string label) {
    co_await checkpoint_if_cancelled();
    check_not_borrowing(borrower);
    if (available_tokens() > 0 && !lot_) {
        borrowers_.emplace(borrower, std::move(label));
        co_await lowlevel::cancel_shielded_checkpoint();
        co_return;
    }
    const void* me = lowlevel::current_task().state();
    pending_[me] = {borrower, std::move(label)};
    try {
        co_await lot_.park();
    } catch (...) {
        // Cancelled while waiting: nothing was handed to us.
        pending_.erase(me);
        throw;
    }
    // Woken: wake_waiters() already recorded the token under borrower.
}

task<> capacity_limiter::acquire_on_behalf_of(borrower_id borrower) { return acquire_for(borrower, {}); }

task<> capacity_limiter::acquire() {
    auto me = lowlevel::current_task();
    return acquire_for(me.state(), me.name());
}

task<capacity_limiter::borrowed> capacity_limiter::hold_on_behalf_of(borrower_id borrower) {
    co_await acquire_on_behalf_of(borrower);
    co_return borrowed(*this, borrower);
}

task<capacity_limiter::borrowed> capacity_limiter::hold() {
    // Through acquire(), not hold_on_behalf_of(): the token is recorded
    // under the task's name.
    co_await acquire();
    co_return borrowed(*this, lowlevel::current_task().state());
}

void capacity_limiter::release_on_behalf_of(borrower_id borrower) {
    if (!borrowers_.erase(borrower))
        throw run_error("capacity_limiter::release: this borrower does not hold a token");
    wake_waiters();
}

void capacity_limiter::release() { release_on_behalf_of(lowlevel::current_task().state()); }

void capacity_limiter::set_total_tokens(std::size_t total) {
    if (total == 0)
        throw std::invalid_argument(
            "capacity_limiter::set_total_tokens: total must be at least 1 (use capacity_limiter::unlimited for no "
            "limit)");
    total_ = total;
    wake_waiters();
}

void capacity_limiter::wake_waiters() {
    while (available_tokens() > 0 && lot_) {
        auto woken = lot_.unpark_one();
        auto it = pending_.find(woken.state());
        borrowers_.emplace(it->second.first, std::move(it->second.second));
        pending_.erase(it);
    }
}

capacity_limiter::statistics_t capacity_limiter::statistics() const {
    statistics_t s;
    s.borrowed_tokens = borrowers_.size();
    s.total_tokens = total_;
    s.tasks_waiting = lot_.size();
    for (const auto& [b, label] : borrowers_) {
        if (!label.empty()) {
            s.borrowers.emplace_back(b, label);
            continue;
        }
        char buf[40];
        std::snprintf(buf, sizeof buf, "object@%p", b);
        s.borrowers.emplace_back(b, buf);
    }
    return s;
}

}  // namespace trellis
