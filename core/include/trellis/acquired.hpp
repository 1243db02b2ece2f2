// trellis::acquired<P>: proof that a lock, semaphore or condition is held;
// releases it when destroyed.
//
//   auto held = co_await mutex.hold();   // released at the end of the scope
//
// Releasing never blocks, so doing it from a destructor is safe even while
// an exception (cancelled included) unwinds. Move-only. Use it on the run's
// thread; destroy it in the task that acquired.
//
// Also here: the awaiter behind every acquire() and hold() of lock,
// semaphore and condition (detail::acquire_awaiter).
#pragma once

#include <coroutine>
#include <new>
#include <utility>

#include "trellis/checkpoint.hpp"
#include "trellis/parking_lot.hpp"

namespace trellis {

template <class P>
class [[nodiscard("keep the guard: it releases at once when discarded (auto held = co_await x.hold();)")]] acquired {
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

namespace detail {

// co_await primitive.acquire(): a checkpoint that either takes the
// primitive at once and then yields (cancel-shielded, so an acquire is a
// checkpoint even when it does not wait, and a taken primitive is never
// lost to a cancellation), or parks in the primitive's lot until a release
// hands it over directly. Cancelled while parked: nothing was taken.
//
// An awaiter rather than a task<> coroutine: the uncontended acquire is a
// hot path, and a coroutine frame would cost an allocation per acquire.
// Built from the low-level awaiters (checkpoint_if_cancelled,
// cancel_shielded_checkpoint, parking_lot::park). Await it once, at once.
//
// Primitive provides, to this class only: `bool try_take()` (takes it if
// nobody has to wait, else false; throws run_error on misuse) and
// `lowlevel::parking_lot lot_` (its waiters, to whom release() hands over).
template <class Primitive>
class [[nodiscard("co_await the acquire: on its own the call does nothing")]] acquire_awaiter {
public:
    void trellis_awaitable() const noexcept {}
    explicit acquire_awaiter(Primitive& p) noexcept : primitive_(p) {}
    // Only before the await begins: g++ 12 moves an awaiter into the
    // coroutine frame first.
    acquire_awaiter(acquire_awaiter&& other) noexcept : primitive_(other.primitive_) {}
    acquire_awaiter& operator=(acquire_awaiter&&) = delete;
    ~acquire_awaiter() {
        if (parked_) park_.~waiter();
    }

    bool await_ready() {
        checkpoint_if_cancelled().await_ready();  // throws cancelled
        taken_ = primitive_.try_take();
        return false;
    }
    void await_suspend(std::coroutine_handle<> self) {
        if (taken_) return lowlevel::cancel_shielded_checkpoint().await_suspend(self);
        ::new (static_cast<void*>(&park_)) lowlevel::parking_lot::waiter(primitive_.lot_.park());
        parked_ = true;
        park_.await_suspend(self);
    }
    void await_resume() {
        if (parked_) park_.await_resume();  // throws cancelled if aborted
    }

private:
    Primitive& primitive_;
    // The place in the lot's queue, constructed only when the acquire has
    // to wait (the uncontended path then costs no constructor and no
    // destructor call).
    union {
        lowlevel::parking_lot::waiter park_;
    };
    bool taken_ = false;
    bool parked_ = false;
};

// co_await primitive.hold(): acquire_awaiter's acquire, then a guard that
// releases `guarded` (the primitive itself, or what wraps it).
template <class Primitive, class Guarded>
class [[nodiscard("co_await the hold: on its own the call does nothing")]] hold_awaiter : public acquire_awaiter<Primitive> {
public:
    hold_awaiter(Primitive& p, Guarded& guarded) noexcept : acquire_awaiter<Primitive>(p), guarded_(guarded) {}
    acquired<Guarded> await_resume() {
        acquire_awaiter<Primitive>::await_resume();
        return acquired<Guarded>(guarded_);
    }

private:
    Guarded& guarded_;
};

}  // namespace detail
}  // namespace trellis
