// trellis::acquired<P>: proof that a lock, semaphore or condition is held;
// releases it when destroyed.
//
//   auto held = co_await mutex.hold();   // released at the end of the scope
//
// Releasing never blocks, so doing it from a destructor is safe even while
// an exception (cancelled included) unwinds. Move-only. Use it on the run's
// thread; destroy it in the task that acquired.
#pragma once

#include <utility>

namespace trellis {

template <class P>
class [[nodiscard]] acquired {
public:
    acquired() noexcept = default;
    explicit acquired(P& primitive) noexcept : primitive_(&primitive) {}
    acquired(acquired&& other) noexcept : primitive_(std::exchange(other.primitive_, nullptr)) {}
    acquired& operator=(acquired&& other) noexcept {
        if (this != &other) {
            reset();
            primitive_ = std::exchange(other.primitive_, nullptr);
        }
        return *this;
    }
    ~acquired() { reset(); }

    // Releases now instead of at destruction. Not a checkpoint.
    void reset() {
        if (P* p = std::exchange(primitive_, nullptr)) p->release();
    }
    // Gives up responsibility without releasing.
    P* release() noexcept { return std::exchange(primitive_, nullptr); }
    explicit operator bool() const noexcept { return primitive_ != nullptr; }

private:
    P* primitive_ = nullptr;
};

}  // namespace trellis
