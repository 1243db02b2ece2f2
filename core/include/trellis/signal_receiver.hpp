// The toolkit-independent half of the host adapters' signal channels
// (qt::signal_channel, glib::signal_channel): a memory channel that every
// emission lands in, the rule for a full buffer, and the receiving end.
//
// An adapter connects to the signal and, for each emission, calls
// emission_buffer::push on the run's thread; when the emitter goes away it
// calls end(). The buffer calls the adapter's disconnect function (once)
// whenever it stops listening: the emitter gone, an overflow, or the
// receiver closed.
//
// A full buffer: toolkits emit synchronously and an emitter cannot be made
// to wait, so a bounded channel cannot apply back-pressure. Rather than
// drop an emission silently, an emission that finds `capacity` emissions
// still unreceived breaks the channel: the connection is dropped, the
// receiver still gets the emissions buffered before, and then its next
// receive throws broken_resource_error saying the capacity was exceeded.
// trellis::unbounded (the adapters' default) never overflows, as Trio's
// and qtrio's emissions channels default to an unbounded buffer.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "trellis/errors.hpp"
#include "trellis/memory_channel.hpp"
#include "trellis/task.hpp"

namespace trellis::detail {

// The send side of a signal channel. Run's thread only. Shared by the
// receiver and the adapter's connection (whose callbacks may still hold it
// briefly after the receiver is gone).
template <class T>
class emission_buffer {
public:
    enum class state : unsigned char { open, source_gone, overflowed, stopped };

    // `caller` names the adapter's function in error messages.
    emission_buffer(send_channel<T> tx, std::size_t capacity, const char* caller)
        : tx_(std::move(tx)), capacity_(capacity), caller_(caller) {}
    emission_buffer(const emission_buffer&) = delete;
    emission_buffer& operator=(const emission_buffer&) = delete;

    // How the adapter stops listening; called at most once, on the run's
    // thread, and must not throw. The function object itself lives as long
    // as the buffer, so it may own the adapter's connection objects (which
    // must not be destroyed inside the adapter's own callbacks, where
    // stop() may be called).
    void set_disconnect(std::function<void()> disconnect) { disconnect_ = std::move(disconnect); }

    // One emission.
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
    // The emitter is gone: the receiver gets what is buffered, then the end.
    void end() noexcept { stop(state::source_gone); }
    // Stops listening and closes the send end (idempotent).
    void stop(state why) noexcept {
        if (state_ != state::open) return;
        state_ = why;
        if (disconnect_) disconnect_();
        tx_.close();
    }
    // After the receive end found the channel's end: throws if the end was
    // an overflow rather than the emitter going away.
    void throw_if_overflowed() const {
        if (state_ == state::overflowed)
            throw broken_resource_error(std::string(caller_) + ": more than " + std::to_string(capacity_) +
                                        " emissions were waiting to be received, so the channel stopped "
                                        "listening; receive faster or open it with a larger capacity");
    }

private:
    send_channel<T> tx_;
    std::size_t capacity_;
    const char* caller_;
    std::function<void()> disconnect_;
    state state_ = state::open;
};

// Opens the channel behind a signal channel: checks the capacity and
// returns the buffer with the receive end. Throws run_error naming
// `caller` for a zero capacity.
template <class T>
std::pair<std::shared_ptr<emission_buffer<T>>, receive_channel<T>> open_emission_buffer(std::size_t capacity,
                                                                                        const char* caller) {
    if (capacity == 0)
        throw run_error(std::string(caller) +
                        ": capacity 0 could hold no emission; pass at least 1, or trellis::unbounded");
    auto channel = open_memory_channel<T>(capacity);
    return {std::make_shared<emission_buffer<T>>(std::move(channel.send), capacity, caller),
            std::move(channel.receive)};
}

}  // namespace trellis::detail

namespace trellis {

// The receiving end of a host adapter's signal channel: every emission of
// the signal since it was opened, in order. Move-only; owned by the task
// that opened it (keep it in that task's frame or pass it by move).
// Destroying or closing it disconnects from the signal and drops what was
// unreceived. Use it on the run's thread only; it must not outlive the run.
template <class T>
class signal_receiver {
public:
    signal_receiver(std::shared_ptr<detail::emission_buffer<T>> buffer, receive_channel<T> rx)
        : buffer_(std::move(buffer)), rx_(std::move(rx)) {}
    signal_receiver(signal_receiver&&) noexcept = default;
    signal_receiver& operator=(signal_receiver&& other) noexcept {
        if (this != &other) {
            close();
            buffer_ = std::move(other.buffer_);
            rx_ = std::move(other.rx_);
        }
        return *this;
    }
    ~signal_receiver() { close(); }

    // The next emission, or std::nullopt once the emitter is gone and every
    // earlier emission was received: `while (auto v = co_await r.next())`.
    // A checkpoint, also when an emission is waiting. Cancelled: nothing
    // consumed. Throws broken_resource_error after an overflow (see
    // the top of this file), closed_resource_error on a closed
    // receiver. Not thread-safe: run's thread.
    task<std::optional<T>> next() {
        std::optional<T> value = co_await rx_.next();
        if (!value && buffer_) buffer_->throw_if_overflowed();
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
            if (buffer_) buffer_->throw_if_overflowed();
            throw;
        }
    }

    // Disconnects from the signal and closes the channel; unreceived
    // emissions are dropped and later ones ignored. Idempotent; not a
    // checkpoint; never throws.
    void close() noexcept {
        if (buffer_) buffer_->stop(detail::emission_buffer<T>::state::stopped);
        rx_.close();
    }

    // The memory channel's counters (current_buffer_used is the number of
    // emissions waiting). Not a checkpoint.
    channel_statistics statistics() const noexcept { return rx_.statistics(); }

private:
    // Invariant: buffer_ is null only on a moved-from receiver, whose rx_
    // is closed too.
    std::shared_ptr<detail::emission_buffer<T>> buffer_;
    receive_channel<T> rx_;
};

}  // namespace trellis
