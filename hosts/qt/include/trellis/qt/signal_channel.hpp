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
// When it is full: Qt emits synchronously and an emitter cannot be made to
// wait, so a bounded channel cannot apply back-pressure. Rather than drop
// an emission silently, an emission that finds `capacity` emissions still
// unreceived breaks the channel: the connection is dropped, the receiver
// still gets the emissions buffered before, and then its next receive
// throws broken_resource_error saying the capacity was exceeded. The
// default capacity, trellis::unbounded, never overflows (as Trio's and
// qtrio's emissions channels default to an unbounded buffer); choose a
// bound for signals that may fire faster than the task keeps up.
#pragma once

#include <QMetaObject>
#include <QObject>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/errors.hpp"
#include "trellis/memory_channel.hpp"
#include "trellis/qt.hpp"
#include "trellis/task.hpp"

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

// The connection side of a signal channel: the send end, the context
// object on the run's thread that the connections are made with (so
// emissions from other threads arrive queued on that thread, and
// destroying it disconnects), and why the send end was closed.
// Owned by the signal_receiver, at a fixed address.
template <class T>
class emission_relay {
public:
    enum class state : unsigned char { open, sender_destroyed, overflowed, stopped };

    emission_relay(send_channel<T> tx, std::size_t capacity) : tx_(std::move(tx)), capacity_(capacity) {}
    emission_relay(const emission_relay&) = delete;
    emission_relay& operator=(const emission_relay&) = delete;

    QObject* context() noexcept { return &context_; }
    void set_connections(QMetaObject::Connection emitted, QMetaObject::Connection destroyed) noexcept {
        emitted_ = std::move(emitted);
        destroyed_ = std::move(destroyed);
    }

    // One emission, on the run's thread.
    void push(T value) {
        if (state_ != state::open) return;
        try {
            tx_.send_nowait(std::move(value));
        } catch (const would_block&) {
            stop(state::overflowed);
        } catch (const broken_resource_error&) {
            stop(state::stopped);  // the receive end is closed: nobody listens
        }
    }
    // Disconnects and closes the send end (idempotent).
    void stop(state why) noexcept {
        if (state_ != state::open) return;
        state_ = why;
        QObject::disconnect(emitted_);
        QObject::disconnect(destroyed_);
        tx_.close();
    }
    // After the receive end found the channel's end: throws if the end was
    // an overflow rather than the sender's destruction.
    void throw_if_overflowed() const {
        if (state_ == state::overflowed)
            throw broken_resource_error("trellis::qt::signal_channel: more than " + std::to_string(capacity_) +
                                        " emissions were waiting to be received, so the channel stopped "
                                        "listening; receive faster or open it with a larger capacity");
    }

private:
    QObject context_;
    send_channel<T> tx_;
    std::size_t capacity_;
    QMetaObject::Connection emitted_;
    QMetaObject::Connection destroyed_;
    state state_ = state::open;
};

}  // namespace detail

// The receiving end of signal_channel: owns the connection to the signal
// and a memory channel of the emissions. Move-only; owned by the task that
// opened it (keep it in that task's frame or pass it by move). Destroying
// or closing it disconnects from the signal and drops what was unreceived.
// Use it on the run's thread only; it must not outlive the run.
// Cancellation: a cancelled receive consumed nothing (as a memory
// channel's).
template <class T>
class signal_receiver {
public:
    signal_receiver(std::unique_ptr<detail::emission_relay<T>> relay, receive_channel<T> rx)
        : relay_(std::move(relay)), rx_(std::move(rx)) {}
    signal_receiver(signal_receiver&&) noexcept = default;
    signal_receiver& operator=(signal_receiver&&) noexcept = default;
    ~signal_receiver() { close(); }

    // The next emission, or std::nullopt once the sender is destroyed and
    // every earlier emission was received: `while (auto v = co_await
    // r.next())`. A checkpoint, also when an emission is waiting.
    // Cancelled: nothing consumed. Throws broken_resource_error after an
    // overflow (see the file comment), closed_resource_error on a closed
    // receiver. Not thread-safe: run's thread.
    task<std::optional<T>> next() {
        std::optional<T> value = co_await rx_.next();
        if (!value && relay_) relay_->throw_if_overflowed();
        co_return value;
    }

    // The same, but throws end_of_channel at the end instead of returning
    // std::nullopt.
    task<T> receive() {
        std::optional<T> value = co_await next();
        if (!value) throw end_of_channel();
        co_return std::move(*value);
    }

    // The next emission without waiting. Not a checkpoint. Throws
    // would_block when none is waiting, end_of_channel or
    // broken_resource_error at the end (as next() and receive()).
    T receive_nowait() {
        try {
            return rx_.receive_nowait();
        } catch (const end_of_channel&) {
            if (relay_) relay_->throw_if_overflowed();
            throw;
        }
    }

    // Disconnects from the signal and closes the channel; unreceived
    // emissions are dropped and later ones ignored. Idempotent; not a
    // checkpoint; never throws.
    void close() noexcept {
        if (relay_) relay_->stop(detail::emission_relay<T>::state::stopped);
        rx_.close();
    }

    // The memory channel's counters (current_buffer_used is the number of
    // emissions waiting). Not a checkpoint.
    channel_statistics statistics() const noexcept { return rx_.statistics(); }

private:
    // Invariant: relay_ is null only on a moved-from receiver, whose rx_
    // is closed too.
    std::unique_ptr<detail::emission_relay<T>> relay_;
    receive_channel<T> rx_;
};

namespace detail {

template <class Sender, class Signal, class... P>
auto signal_channel_as(std::tuple<P...>*, Sender* sender, Signal signal, std::size_t capacity)
    -> signal_receiver<emission_t<P...>> {
    using value = emission_t<P...>;
    if (!sender)
        throw run_error("trellis::qt::signal_channel: the sender is null; pass the object that emits the signal");
    if (capacity == 0)
        throw run_error(
            "trellis::qt::signal_channel: capacity 0 could hold no emission; pass at least 1, or "
            "trellis::unbounded");
    auto channel = open_memory_channel<value>(capacity);
    auto relay = std::make_unique<emission_relay<value>>(std::move(channel.send), capacity);
    emission_relay<value>* r = relay.get();
    QMetaObject::Connection emitted = QObject::connect(sender, signal, r->context(), [r](const P&... args) {
        if constexpr (sizeof...(P) == 1)
            r->push(args...);
        else
            r->push(value(args...));
    });
    QMetaObject::Connection destroyed = QObject::connect(
        sender, &QObject::destroyed, r->context(), [r] { r->stop(emission_relay<value>::state::sender_destroyed); });
    r->set_connections(std::move(emitted), std::move(destroyed));
    return signal_receiver<value>(std::move(relay), std::move(channel.receive));
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
