// Every emission of a GObject signal, in a channel: nothing is lost between
// awaits, unlike wait_signal, which sees only the emissions made while a
// task waits in it.
//
//   auto clicks = trellis::glib::signal_channel(button, "clicked");
//   gtk_window_present(window);          // a click from now on is kept
//   while (co_await clicks.next()) start_job();
//
// What the channel holds per emission: nothing but the fact
// (std::tuple<>) for signal_channel(instance, name), which ignores the
// signal's arguments; for signal_channel<T...>(instance, name), the
// arguments converted as wait_signal<T...> converts them: the value for one
// T, a std::tuple<T...> for several. Pointer arguments are borrowed from
// the emitter; by the time a task receives them the object may be gone, so
// prefer values (std::string, numbers, enums), or take a reference in
// another handler.
//
// When it ends: disposing the instance ends the channel: the receiver gets
// every emission made before, then the end (next() gives std::nullopt,
// receive() throws end_of_channel). When it is full: see
// trellis/signal_receiver.hpp (an overflow breaks the channel rather than
// dropping an emission silently; the default, trellis::unbounded, never
// overflows).
#pragma once

#include <glib-object.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "trellis/glib.hpp"
#include "trellis/memory_channel.hpp"
#include "trellis/signal_receiver.hpp"

namespace trellis::glib {

namespace detail {

// What one emission puts in the channel: std::tuple<> when the arguments
// are ignored, the value for one argument, a std::tuple for several.
template <class... T>
struct channel_emission {
    using type = std::tuple<T...>;
};
template <class T>
struct channel_emission<T> {
    using type = T;
};
template <class... T>
using channel_emission_t = typename channel_emission<T...>::type;

// Reads one emission's arguments (on the emitting thread, while they are
// valid) and returns what delivers them on the run's thread.
using emission_capture = std::function<std::function<void()>(const GValue*)>;

// Connects to `signal` on `instance` for signal_channel: every emission is
// captured and its delivery run on the run's thread (through the run's
// token when emitted on another thread); `gone` runs on the run's thread
// when the instance is disposed. Returns what disconnects both (run's
// thread; idempotent). Throws run_error as wait_signal does for a bad
// instance, name or argument types.
std::function<void()> connect_emissions(gpointer instance, const std::string& signal, const signal_shape& shape,
                                        emission_capture capture, std::function<void()> gone);

}  // namespace detail

// Connects to `signal` of the GObject `instance` and returns a
// signal_receiver that holds every emission from now on, in order, until
// the instance is disposed (which ends the channel) or the receiver is
// closed. T... as for wait_signal<T...>; none: the arguments are ignored
// and each emission is a std::tuple<>. At most `capacity` emissions wait
// unreceived (at least 1; trellis::unbounded by default); one more breaks
// the channel (see trellis/signal_receiver.hpp). Emissions on other threads
// are delivered through the run's thread. Call it on the run's thread (in
// a task, or in host code before the run needs the emissions). Not a
// checkpoint; it never blocks. Throws run_error outside a run, if
// `instance` is not a GObject, if it has no such signal, if the
// arguments do not match T..., or for a zero capacity.
template <class... T>
signal_receiver<detail::channel_emission_t<T...>> signal_channel(gpointer instance, const std::string& signal,
                                                                 std::size_t capacity = unbounded) {
    using value = detail::channel_emission_t<T...>;
    auto [buffer, rx] = trellis::detail::open_emission_buffer<value>(capacity, "trellis::glib::signal_channel");
    detail::signal_shape shape{sizeof...(T) == 0, sizeof...(T), &detail::accepts_at<T...>, nullptr};
    std::weak_ptr<trellis::detail::emission_buffer<value>> weak = buffer;
    detail::emission_capture capture = [weak](const GValue* args) -> std::function<void()> {
        auto item = [&]<std::size_t... I>(std::index_sequence<I...>) {
            if constexpr (sizeof...(T) == 1)
                return detail::signal_arg<T...>::read(args);
            else
                return value(detail::signal_arg<T>::read(args + I)...);
        }(std::index_sequence_for<T...>{});
        return [weak, item = std::move(item)]() mutable {
            if (auto b = weak.lock()) b->push(std::move(item));
        };
    };
    std::function<void()> gone = [weak] {
        if (auto b = weak.lock()) b->end();
    };
    buffer->set_disconnect(detail::connect_emissions(instance, signal, shape, std::move(capture), std::move(gone)));
    return signal_receiver<value>(std::move(buffer), std::move(rx));
}

}  // namespace trellis::glib
