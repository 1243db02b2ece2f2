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
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/guest.hpp"
#include "trellis/run.hpp"

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
