// What every host adapter (hosts/qt, hosts/glib, hosts/libevent) shares:
// written once here so that the three read alike. Internal to the
// adapters; not part of trellis's public API.
//
// An adapter provides, in its own detail namespace, a channel type (what
// posts callbacks into its loop) and three functions found by argument-
// dependent lookup:
//   attached_host<channel> attach(Loop loop);           // opens the channel
//   void bind(channel&, const guest_run&);              // remembers the run
//   void detach(channel&) noexcept;                     // the run is over
// and then starts runs with start_attached_guest_run().
#pragma once

#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/cancel_scope.hpp"
#include "trellis/guest.hpp"
#include "trellis/run.hpp"
#include "trellis/task.hpp"

namespace trellis::detail {

// True for run_options: keeps an adapter's overloads with and without
// options apart.
template <class T>
inline constexpr bool is_run_options_v = std::is_same_v<std::decay_t<T>, run_options>;

// A guest_host whose posts go through `link`, and the link itself (shared:
// the host functions hold it too).
template <class Channel>
struct attached_host {
    guest_host host;
    std::shared_ptr<Channel> link;
};

// Starts fn(args...) as a guest run posting through an attached channel:
// the channel learns the run (bind) once it has started, and is detached
// when the run is over (before `done` runs) or if starting fails. Throws
// what trellis::start_guest_run throws.
template <class Channel, class Done, class F, class... A>
guest_run start_attached_guest_run(attached_host<Channel> attached, const run_options& options, Done done, F fn,
                                   A... args) {
    std::shared_ptr<Channel> link = attached.link;
    auto finish = [link, done = std::move(done)](auto result) mutable {
        detach(*link);
        done(std::move(result));
    };
    try {
        guest_run run = trellis::start_guest_run(options, std::move(attached.host), std::move(finish), std::move(fn),
                                                 std::move(args)...);
        bind(*link, run);
        return run;
    } catch (...) {
        detach(*link);
        throw;
    }
}

// What the adapters' run_while_alive and its kind return for fn(args...),
// as move_on_after does: for a void fn, whether fn finished (false: the
// guard's cancellation cut it short); otherwise the value, or std::nullopt.
template <class F, class... A>
using guarded_result_t = std::conditional_t<std::is_void_v<async_result_t<F, A...>>, bool,
                                            std::optional<async_result_t<F, A...>>>;

// Runs fn(args...) in a cancel scope that Guard(object, scope) watches (an
// adapter's cancel_on_destroy, cancel_on_close, cancel_on_dispose: a guard
// that cancels the scope when something happens to the object).
template <class Guard, class Object, class F, class... A>
task<guarded_result_t<F, A...>> run_guarded(Object* object, F fn, A... args) {
    static_assert(check_async_callable<F, A...>());
    cancel_scope scope;
    Guard guard(object, scope);
    if constexpr (std::is_void_v<async_result_t<F, A...>>) {
        co_await scope.run(std::move(fn), std::move(args)...);
        co_return !scope.cancelled_caught();
    } else {
        co_return co_await scope.run(std::move(fn), std::move(args)...);
    }
}

// What an adapter's wait_signal returns for a signal whose listener gets
// arguments P...: nothing (void), the one argument, or a std::tuple of them.
template <class... P>
struct signal_value {
    using type = std::tuple<P...>;
};
template <>
struct signal_value<> {
    using type = void;
};
template <class P>
struct signal_value<P> {
    using type = P;
};
template <class... P>
using signal_value_t = typename signal_value<P...>::type;

}  // namespace trellis::detail
