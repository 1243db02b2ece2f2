// Every emission of a Qt signal, in a channel: nothing is lost between
// awaits, unlike wait_signal, which sees only the emissions made while a
// task waits in it.
//
//   auto clicks = trellis::qt::signal_channel(button, &QPushButton::clicked);
//   window.show();                        // a click from now on is kept
//   while (auto checked = co_await clicks.next()) start_job(*checked);
//
// What the channel holds: the signal's arguments, decayed, as wait_signal
// returns them: the value for a one-argument signal, a std::tuple for
// several, and an empty std::tuple<> per emission for a signal without
// arguments (a QPrivateSignal tag is not an argument).
//
// When it ends: destroying the sender ends the channel: the receiver gets
// every emission made before, then the end (next() gives std::nullopt,
// receive() throws end_of_channel).
//
// When it is full: see trellis/signal_receiver.hpp (an overflow breaks the
// channel rather than dropping an emission silently; the default,
// trellis::unbounded, never overflows).
#pragma once

#include <QMetaObject>
#include <QObject>

#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/errors.hpp"
#include "trellis/memory_channel.hpp"
#include "trellis/qt.hpp"
#include "trellis/signal_receiver.hpp"

namespace trellis::qt {

namespace detail {

// What one emission of a signal whose listener receives P... puts in the
// channel.
template <class... P>
struct emission {
    using type = std::tuple<P...>;
};
template <class P>
struct emission<P> {
    using type = P;
};
template <class... P>
using emission_t = typename emission<P...>::type;

// A signal channel's connections, and the context object they are made
// with.
struct connection_link {
    QObject context;
    QMetaObject::Connection emitted;
    QMetaObject::Connection destroyed;
};

template <class Sender, class Signal, class... P>
auto signal_channel_as(std::tuple<P...>*, Sender* sender, Signal signal, std::size_t capacity)
    -> signal_receiver<emission_t<P...>> {
    using value = emission_t<P...>;
    if (!sender)
        throw run_error("trellis::qt::signal_channel: the sender is null; pass the object that emits the signal");
    auto [buffer, rx] = trellis::detail::open_emission_buffer<value>(capacity, "trellis::qt::signal_channel");
    // The connections are made with a context object on the run's thread,
    // so emissions from other threads arrive queued there. The buffer's
    // disconnect function owns it, so it lives exactly as long as the
    // buffer: the raw buffer pointer in the slots never outlives it.
    auto link = std::make_shared<connection_link>();
    trellis::detail::emission_buffer<value>* b = buffer.get();
    link->emitted = QObject::connect(sender, signal, &link->context, [b](const P&... args) {
        if constexpr (sizeof...(P) == 1)
            b->push(args...);
        else
            b->push(value(args...));
    });
    link->destroyed = QObject::connect(sender, &QObject::destroyed, &link->context, [b] { b->end(); });
    buffer->set_disconnect([link]() noexcept {
        QObject::disconnect(link->emitted);
        QObject::disconnect(link->destroyed);
    });
    return signal_receiver<value>(std::move(buffer), std::move(rx));
}

}  // namespace detail

// Connects to `signal` of `sender` and returns a signal_receiver that holds
// every emission from now on, in order, until the sender is destroyed
// (which ends the channel) or the receiver is closed. At most `capacity`
// emissions wait unreceived (at least 1; trellis::unbounded by default);
// one more breaks the channel, as the file comment says. Emissions from
// other threads are delivered through the run's thread, in order. Call it
// on the run's thread (in a task, or in host code on the application's
// thread before the run needs the emissions). Not a checkpoint; it never
// blocks. Throws run_error for a null sender or a zero capacity.
template <class Sender, class Class, class Ret, class... Args>
    requires std::is_base_of_v<QObject, Class> && std::is_base_of_v<Class, Sender>
auto signal_channel(Sender* sender, Ret (Class::*signal)(Args...), std::size_t capacity = unbounded) {
    using args = typename detail::listener_args<Args...>::type;
    return detail::signal_channel_as(static_cast<args*>(nullptr), sender, signal, capacity);
}

}  // namespace trellis::qt
