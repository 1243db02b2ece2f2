// Memory channels: pass values between tasks of one run.
//
//   auto [tx, rx] = trellis::open_memory_channel<std::string>(0);
//   n.start_soon([tx = std::move(tx)]() mutable -> task<> { co_await tx.send("hi"); });
//   while (auto v = co_await rx.next()) use(*v);   // ends when every sender is closed
//
// max_buffer is how many values may wait in the channel: 0 makes every send
// a rendezvous with a receiver, trellis::unbounded never blocks senders.
// Each end may be cloned; the channel's send side is closed when every
// clone of the send end is closed (receivers then see the end of the
// channel), and its receive side likewise (senders then fail with
// broken_resource_error and buffered values are destroyed).
//
// Cancellation never loses or duplicates a value: a cancelled send did not
// deliver, a cancelled receive did not consume. Waiters are served FIFO.
// Ends are move-only handles owned by the caller; destroying one closes it.
// Use them on one run's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "trellis/checkpoint.hpp"
#include "trellis/detail/intrusive_list.hpp"
#include "trellis/errors.hpp"
#include "trellis/task.hpp"
#include "trellis/task_handle.hpp"
#include "trellis/wait_task_rescheduled.hpp"

namespace trellis {

inline constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

struct channel_statistics {
    std::size_t current_buffer_used = 0;
    std::size_t max_buffer_size = 0;
    std::size_t open_send_channels = 0;
    std::size_t open_receive_channels = 0;
    std::size_t tasks_waiting_send = 0;
    std::size_t tasks_waiting_receive = 0;
};

namespace detail {

struct channel_send_tag;
struct channel_receive_tag;

// How a blocked channel operation ended, told to the waiter by whoever woke it.
enum class channel_wake : unsigned char { none, done, closed, ended, broken };

template <class T>
struct channel_state {
    struct send_waiter : list_node<channel_send_tag> {
        lowlevel::task_handle task;
        T* value;  // in the sender's frame; a receiver moves from it
        std::uint64_t end_id;
        channel_wake result = channel_wake::none;
    };
    struct receive_waiter : list_node<channel_receive_tag> {
        lowlevel::task_handle task;
        std::optional<T> value;
        std::uint64_t end_id;
        channel_wake result = channel_wake::none;
    };

    explicit channel_state(std::size_t max) : max_buffer(max) {}

    std::deque<T> buffer;
    std::size_t max_buffer;
    std::size_t open_send = 0;
    std::size_t open_receive = 0;
    std::uint64_t next_end_id = 0;
    intrusive_list<send_waiter, channel_send_tag> senders;
    intrusive_list<receive_waiter, channel_receive_tag> receivers;

    channel_statistics statistics() const noexcept {
        return {buffer.size(), max_buffer, open_send, open_receive, senders.size(), receivers.size()};
    }

    // Wakes every waiter of `list` that `pick` selects, with `why`.
    template <class W, class Tag, class Pick>
    static void wake_all(intrusive_list<W, Tag>& list, channel_wake why, Pick pick) {
        list.for_each([&](W* w) {
            if (!pick(*w)) return;
            list.remove(w);
            w->result = why;
            lowlevel::reschedule(w->task);
        });
    }
};

template <class T>
auto wait_on(intrusive_list<T, channel_send_tag>& list, T& w) {
    return lowlevel::wait_task_rescheduled([&list, &w](const std::exception_ptr&) {
        list.remove(&w);
        return lowlevel::abort_result::succeeded;
    });
}
template <class T>
auto wait_on(intrusive_list<T, channel_receive_tag>& list, T& w) {
    return lowlevel::wait_task_rescheduled([&list, &w](const std::exception_ptr&) {
        list.remove(&w);
        return lowlevel::abort_result::succeeded;
    });
}

}  // namespace detail

template <class T>
class send_channel;
template <class T>
class receive_channel;

template <class T>
std::pair<send_channel<T>, receive_channel<T>> open_memory_channel(std::size_t max_buffer);

template <class T>
class send_channel {
public:
    send_channel(send_channel&& o) noexcept : state_(std::move(o.state_)), id_(o.id_), closed_(std::exchange(o.closed_, true)) {}
    send_channel& operator=(send_channel&& o) noexcept {
        if (this != &o) {
            close();
            state_ = std::move(o.state_);
            id_ = o.id_;
            closed_ = std::exchange(o.closed_, true);
        }
        return *this;
    }
    ~send_channel() { close(); }

    // Sends a value, waiting while the buffer is full (with max_buffer 0:
    // until a receiver takes it). A checkpoint. Throws closed_resource_error
    // if this end is (or gets) closed, broken_resource_error if every
    // receive end is closed. If cancelled, the value was not delivered.
    task<> send(T value) {
        co_await checkpoint_if_cancelled();
        if (try_send(value)) {
            co_await lowlevel::cancel_shielded_checkpoint();
            co_return;
        }
        typename state_type::send_waiter w;
        w.task = lowlevel::current_task();
        w.value = &value;
        w.end_id = id_;
        state_->senders.push_back(&w);
        co_await detail::wait_on(state_->senders, w);
        if (w.result == detail::channel_wake::closed) throw closed_resource_error("send on a closed channel end");
        if (w.result == detail::channel_wake::broken)
            throw broken_resource_error("send: every receive end of the channel is closed");
    }

    // Sends without waiting. Not a checkpoint. Throws would_block if the
    // buffer is full, and the errors of send().
    void send_nowait(T value) {
        if (!try_send(value)) throw would_block("send_nowait: the channel's buffer is full");
    }

    // Another handle on the send side; the side stays open until all are
    // closed. Not a checkpoint. Throws closed_resource_error if this end is
    // closed.
    send_channel clone() const {
        if (closed_) throw closed_resource_error("clone of a closed channel end");
        return send_channel(state_);
    }

    // Closes this end. Idempotent; never blocks; not a checkpoint. Tasks
    // blocked sending through this end get closed_resource_error; if it was
    // the last send end, receivers see the end of the channel.
    void close() noexcept {
        if (closed_ || !state_) return;
        closed_ = true;
        auto& s = *state_;
        --s.open_send;
        state_type::wake_all(s.senders, detail::channel_wake::closed, [&](auto& w) { return w.end_id == id_; });
        if (s.open_send == 0) state_type::wake_all(s.receivers, detail::channel_wake::ended, [](auto&) { return true; });
    }
    // close(), then a checkpoint.
    task<> aclose() {
        close();
        co_await checkpoint();
    }

    bool is_closed() const noexcept { return closed_; }
    channel_statistics statistics() const noexcept { return state_->statistics(); }

private:
    using state_type = detail::channel_state<T>;
    friend std::pair<send_channel<T>, receive_channel<T>> open_memory_channel<T>(std::size_t);
    explicit send_channel(std::shared_ptr<state_type> s) : state_(std::move(s)), id_(state_->next_end_id++) {
        ++state_->open_send;
    }

    // Delivers `value` without waiting if possible.
    bool try_send(T& value) {
        if (closed_) throw closed_resource_error("send on a closed channel end");
        auto& s = *state_;
        if (s.open_receive == 0) throw broken_resource_error("send: every receive end of the channel is closed");
        if (auto* r = s.receivers.pop_front()) {
            r->value.emplace(std::move(value));
            r->result = detail::channel_wake::done;
            lowlevel::reschedule(r->task);
            return true;
        }
        if (s.buffer.size() < s.max_buffer) {
            s.buffer.push_back(std::move(value));
            return true;
        }
        return false;
    }

    std::shared_ptr<state_type> state_;
    std::uint64_t id_ = 0;
    bool closed_ = false;
};

template <class T>
class receive_channel {
public:
    receive_channel(receive_channel&& o) noexcept
        : state_(std::move(o.state_)), id_(o.id_), closed_(std::exchange(o.closed_, true)) {}
    receive_channel& operator=(receive_channel&& o) noexcept {
        if (this != &o) {
            close();
            state_ = std::move(o.state_);
            id_ = o.id_;
            closed_ = std::exchange(o.closed_, true);
        }
        return *this;
    }
    ~receive_channel() { close(); }

    // Receives the next value, waiting while there is none. A checkpoint.
    // Throws end_of_channel once every send end is closed and the buffer is
    // empty, closed_resource_error if this end is (or gets) closed. If
    // cancelled, nothing was consumed.
    task<T> receive() {
        auto v = co_await next();
        if (!v) throw end_of_channel();
        co_return std::move(*v);
    }

    // The loop form: the next value, or std::nullopt at the end of the
    // channel (instead of end_of_channel). A checkpoint; same errors
    // otherwise. `while (auto v = co_await rx.next()) { ... }`
    task<std::optional<T>> next() {
        co_await checkpoint_if_cancelled();
        bool ended = false;
        if (auto v = try_receive(ended)) {
            co_await lowlevel::cancel_shielded_checkpoint();
            co_return v;
        }
        if (ended) {
            co_await lowlevel::cancel_shielded_checkpoint();
            co_return std::nullopt;
        }
        typename state_type::receive_waiter w;
        w.task = lowlevel::current_task();
        w.end_id = id_;
        state_->receivers.push_back(&w);
        co_await detail::wait_on(state_->receivers, w);
        if (w.result == detail::channel_wake::closed) throw closed_resource_error("receive on a closed channel end");
        if (w.result == detail::channel_wake::ended) co_return std::nullopt;
        co_return std::move(w.value);
    }

    // Receives without waiting. Not a checkpoint. Throws would_block if
    // nothing is there, and the errors of receive().
    T receive_nowait() {
        bool ended = false;
        if (auto v = try_receive(ended)) return std::move(*v);
        if (ended) throw end_of_channel();
        throw would_block("receive_nowait: the channel is empty");
    }

    // Another handle on the receive side. Not a checkpoint. Throws
    // closed_resource_error if this end is closed.
    receive_channel clone() const {
        if (closed_) throw closed_resource_error("clone of a closed channel end");
        return receive_channel(state_);
    }

    // Closes this end. Idempotent; never blocks; not a checkpoint. Tasks
    // blocked receiving through it get closed_resource_error; if it was the
    // last receive end, blocked senders get broken_resource_error and the
    // buffered values are destroyed.
    void close() noexcept {
        if (closed_ || !state_) return;
        closed_ = true;
        auto& s = *state_;
        --s.open_receive;
        state_type::wake_all(s.receivers, detail::channel_wake::closed, [&](auto& w) { return w.end_id == id_; });
        if (s.open_receive == 0) {
            state_type::wake_all(s.senders, detail::channel_wake::broken, [](auto&) { return true; });
            s.buffer.clear();
        }
    }
    task<> aclose() {
        close();
        co_await checkpoint();
    }

    bool is_closed() const noexcept { return closed_; }
    channel_statistics statistics() const noexcept { return state_->statistics(); }

private:
    using state_type = detail::channel_state<T>;
    friend std::pair<send_channel<T>, receive_channel<T>> open_memory_channel<T>(std::size_t);
    explicit receive_channel(std::shared_ptr<state_type> s) : state_(std::move(s)), id_(state_->next_end_id++) {
        ++state_->open_receive;
    }

    // Takes a value without waiting if there is one; sets `ended` when the
    // channel is over.
    std::optional<T> try_receive(bool& ended) {
        if (closed_) throw closed_resource_error("receive on a closed channel end");
        auto& s = *state_;
        // A blocked sender's value joins the buffer's tail, which keeps the
        // FIFO order, and the sender is released.
        if (auto* w = s.senders.pop_front()) {
            s.buffer.push_back(std::move(*w->value));
            w->result = detail::channel_wake::done;
            lowlevel::reschedule(w->task);
        }
        if (!s.buffer.empty()) {
            std::optional<T> v(std::move(s.buffer.front()));
            s.buffer.pop_front();
            return v;
        }
        ended = s.open_send == 0;
        return std::nullopt;
    }

    std::shared_ptr<state_type> state_;
    std::uint64_t id_ = 0;
    bool closed_ = false;
};

// Opens a channel for T values with room for max_buffer of them (0: none,
// trellis::unbounded: no limit). Not a checkpoint; may be called outside a
// run.
template <class T>
std::pair<send_channel<T>, receive_channel<T>> open_memory_channel(std::size_t max_buffer) {
    auto state = std::make_shared<detail::channel_state<T>>(max_buffer);
    return {send_channel<T>(state), receive_channel<T>(state)};
}

}  // namespace trellis
