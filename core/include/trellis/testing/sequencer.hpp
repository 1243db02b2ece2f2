// trellis::testing::sequencer: make tasks take turns in a fixed order, to
// write a test that needs "A does this, then B does that, then A again"
// without sleeps (Trio's trio.testing.Sequencer).
//
//   trellis::testing::sequencer seq;
//   // in one task:                        // in another:
//   {                                      {
//       auto turn = co_await seq(0);           auto turn = co_await seq(1);
//       ...step 0...                           ...step 1, after step 0...
//   }  // step 1 may begin                 }
//
// `co_await seq(n)` waits until step n-1's turn has ended (step 0 does not
// wait) and returns a turn; step n+1 may begin when that turn is
// destroyed. Each step number may be used once.
//
// Cancellation: a task cancelled while it waits for its turn breaks the
// sequence, as in Trio: its co_await throws run_error (not cancelled), and
// every other step, waiting or later, throws run_error too. A cancellation
// inside a step, once the turn is held, is the step's own business: the
// turn still ends (and lets the next step go) when it is destroyed.
//
// Owned by the test; lives as long as any task uses it; used on one run's
// thread only. Built only on trellis's public API (event).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <utility>

#include "trellis/cancelled.hpp"
#include "trellis/errors.hpp"
#include "trellis/event.hpp"
#include "trellis/task.hpp"

namespace trellis::testing {

class sequencer {
public:
    // One step's turn: while it lives, the step runs; destroying it (or
    // calling end()) lets the next step begin. Move-only; destroy it on the
    // run's thread, before the sequencer. Ending never blocks.
    class [[nodiscard("keep the turn alive for the whole step: auto turn = co_await seq(n);")]] turn {
    public:
        turn() noexcept = default;
        turn(turn&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)), position_(other.position_) {}
        turn& operator=(turn&& other) noexcept {
            if (this != &other) {
                end();
                owner_ = std::exchange(other.owner_, nullptr);
                position_ = other.position_;
            }
            return *this;
        }
        ~turn() { end(); }

        // Ends the step now: the next step may begin. Not a checkpoint.
        void end() {
            if (sequencer* s = std::exchange(owner_, nullptr)) s->point(position_ + 1).set();
        }

    private:
        friend class sequencer;
        turn(sequencer& owner, std::size_t position) noexcept : owner_(&owner), position_(position) {}
        sequencer* owner_ = nullptr;
        std::size_t position_ = 0;
    };

    sequencer() = default;
    sequencer(const sequencer&) = delete;
    sequencer& operator=(const sequencer&) = delete;

    // Waits for step `position`'s turn: `auto turn = co_await seq(n);`. A
    // checkpoint when it waits (any step but 0); step 0 does not wait.
    // Throws run_error if `position` was already used, if the sequence is
    // broken, or if this wait is cancelled (which breaks the sequence for
    // every other step). Not thread-safe.
    task<turn> operator()(std::size_t position) {
        if (!claimed_.insert(position).second)
            throw run_error("testing::sequencer: step " + std::to_string(position) +
                            " was already used; give each step its own number");
        if (broken_) throw_broken();
        if (position != 0) {
            bool was_cancelled = false;
            try {
                co_await point(position).wait();
            } catch (const cancelled&) {
                was_cancelled = true;
            }
            if (was_cancelled) {
                break_sequence();
                throw run_error("testing::sequencer: waiting for step " + std::to_string(position) +
                                " was cancelled; the sequence is broken");
            }
            if (broken_) throw_broken();
        }
        co_return turn(*this, position);
    }

private:
    event& point(std::size_t position) {
        auto& e = points_[position];
        if (!e) {
            e = std::make_unique<event>();
            if (broken_) e->set();
        }
        return *e;
    }
    void break_sequence() {
        broken_ = true;
        for (auto& [position, e] : points_) e->set();
    }
    [[noreturn]] static void throw_broken() {
        throw run_error("testing::sequencer: the sequence is broken (a step's wait was cancelled)");
    }

    // Step n may begin once points_[n] is set (by the end of step n-1's
    // turn, or by a break). Created on first use.
    std::map<std::size_t, std::unique_ptr<event>> points_;
    std::set<std::size_t> claimed_;
    // Invariant: once true, every event in points_ is set, so no step
    // waits forever.
    bool broken_ = false;
};

}  // namespace trellis::testing
