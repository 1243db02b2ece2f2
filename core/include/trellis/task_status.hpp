// trellis::task_status<T>: how a task started with nursery::start reports
// that it is ready.
//
// A startable function takes a task_status<T> as its last parameter, by
// value, defaulted: `task<> serve(int port, task_status<int> status = {})`.
// Calling status.started(value) hands `value` to the task awaiting
// nursery::start and moves the calling task into the target nursery. A
// default-constructed status (what start_soon and direct calls pass) ignores
// started(). Use it only on the run's thread, from the started task.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "trellis/errors.hpp"
#include "trellis/task.hpp"

namespace trellis {

class nursery;

namespace detail {

template <class V>
struct start_slot {
    bool started = false;
    std::optional<V> value;
};
template <>
struct start_slot<void> {
    bool started = false;
};

// Moves the started task from the caller's temporary nursery into `target`.
void complete_start(nursery& temporary, nursery& target);

}  // namespace detail

template <class T = void>
class task_status {
public:
    // An ignored status: started() does nothing.
    task_status() noexcept = default;

    // Reports readiness with a value. Not a checkpoint. Throws run_error if
    // called twice.
    template <class U = T>
        requires(!std::is_void_v<T> && std::is_convertible_v<U &&, T>)
    void started(U&& value) {
        if (used_) throw run_error("task_status::started() called twice");
        if (!slot_) return;
        mark_started();
        slot_->value.emplace(std::forward<U>(value));
        detail::complete_start(*temporary_, *target_);
        forget();
    }
    // Reports readiness (task_status<void>). Not a checkpoint. Throws
    // run_error if called twice.
    void started()
        requires std::is_void_v<T>
    {
        if (used_) throw run_error("task_status::started() called twice");
        if (!slot_) return;
        mark_started();
        detail::complete_start(*temporary_, *target_);
        forget();
    }

    // Internal: made by nursery::start.
    task_status(detail::start_slot<T>* slot, nursery* temporary, nursery* target) noexcept
        : slot_(slot), temporary_(temporary), target_(target) {}

private:
    void mark_started() {
        if (slot_->started) throw run_error("task_status::started() called twice");
        slot_->started = true;
    }
    // start() returns soon after started(), and its slot and temporary
    // nursery die with it: a later started() must not reach them.
    void forget() noexcept {
        used_ = true;
        slot_ = nullptr;
        temporary_ = nullptr;
        target_ = nullptr;
    }
    detail::start_slot<T>* slot_ = nullptr;
    nursery* temporary_ = nullptr;
    nursery* target_ = nullptr;
    // Set once started() has handed the task over.
    bool used_ = false;
};

namespace detail {

struct deduce_status {};

template <class... P>
struct last_of {
    using type = void;
};
template <class P0, class... P>
struct last_of<P0, P...> {
    using type = typename decltype((std::type_identity<P0>{}, ..., std::type_identity<P>{}))::type;
};

template <class Sig>
struct signature_last_param {
    using type = void;
};
template <class R, class... P>
struct signature_last_param<R(P...)> : last_of<P...> {};
template <class R, class... P>
struct signature_last_param<R (*)(P...)> : last_of<P...> {};
template <class R, class C, class... P>
struct signature_last_param<R (C::*)(P...)> : last_of<P...> {};
template <class R, class C, class... P>
struct signature_last_param<R (C::*)(P...) const> : last_of<P...> {};

template <class F, class = void>
struct callable_last_param : signature_last_param<std::decay_t<F>> {};
template <class F>
struct callable_last_param<F, std::void_t<decltype(&std::decay_t<F>::operator())>>
    : signature_last_param<decltype(&std::decay_t<F>::operator())> {};

template <class P>
struct status_value {
    static constexpr bool is_status = false;
    using type = void;
};
template <class V>
struct status_value<task_status<V>> {
    static constexpr bool is_status = true;
    using type = V;
};

template <class F>
struct deduced_start_value {
    using param = std::remove_cvref_t<typename callable_last_param<F>::type>;
    // (A task passed instead of a callable gets its own message from
    // nursery::start's check_async_callable.)
    static_assert(status_value<param>::is_status || is_task<std::decay_t<F>>::value,
                  "trellis::nursery::start: cannot find a task_status<T> last parameter in this "
                  "callable; give the value type explicitly: n.start<T>(fn, args...)");
    using type = typename status_value<param>::type;
};

template <class T, class F>
using start_value_t =
    typename std::conditional_t<std::is_same_v<T, deduce_status>, deduced_start_value<F>,
                                std::type_identity<T>>::type;

}  // namespace detail
}  // namespace trellis
