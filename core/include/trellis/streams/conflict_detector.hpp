// trellis::conflict_detector: detects two tasks in an operation that only
// one may be in at a time, for stream implementations.
//
//   conflict_detector send_guard_{"send_all: another task is already sending"};
//   task<> do_send_all(...) override {
//       auto busy = send_guard_.enter();   // throws busy_resource_error
//       ... co_await ...;
//   }                                      // released when busy goes away
//
// Owned by the stream that embeds it; one run's thread only. Not a lock:
// the second task fails at once instead of waiting.
#pragma once

#include <string>
#include <utility>

#include "trellis/errors.hpp"

namespace trellis {

class conflict_detector {
public:
    // The guard that holds the detector; releases it when destroyed.
    class guard {
    public:
        guard(guard&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
        guard& operator=(guard&&) = delete;
        ~guard() {
            if (owner_) owner_->held_ = false;
        }

    private:
        friend class conflict_detector;
        explicit guard(conflict_detector* owner) noexcept : owner_(owner) {}
        conflict_detector* owner_;
    };

    // `message` is what busy_resource_error says; name the operation in it.
    explicit conflict_detector(std::string message) : message_(std::move(message)) {}
    conflict_detector(const conflict_detector&) = delete;
    conflict_detector& operator=(const conflict_detector&) = delete;

    // Marks the operation as in progress until the guard is destroyed. Not a
    // checkpoint. Throws busy_resource_error if it already is.
    [[nodiscard]] guard enter() {
        if (held_) throw busy_resource_error(message_);
        held_ = true;
        return guard(this);
    }

    bool held() const noexcept { return held_; }

private:
    std::string message_;
    // Invariant: true exactly while one guard of this detector exists.
    bool held_ = false;
};

}  // namespace trellis
