// Memory channels: pass values between tasks of one run.
//
//   auto channel = trellis::open_memory_channel<std::string>(0);  // .send and .receive ends
//   n.start_soon(greet, std::move(channel.send));    // task<> greet(send_channel<std::string> tx)
//   while (auto v = co_await channel.receive.next()) use(*v);   // ends when every sender is closed
//
// `auto [tx, rx] = trellis::open_memory_channel<T>(n);` works too, but do
// not capture such bindings in lambdas: clang 14 cannot, and g++ 12
// miscompiles a lambda holding a channel end when it is written inside a
// co_await expression (see the README on lambdas). Pass the ends as
// arguments (`n.start_soon(produce, std::move(tx))`) instead.
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

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
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

template <class T>
class send_channel;
template <class T>
class receive_channel;

namespace detail {

struct channel_send_tag;
struct channel_receive_tag;

// How a blocked channel operation ended, told to the waiter by whoever woke it.
enum class channel_wake : unsigned char { none, done, closed, ended, broken };

// What a receive found without waiting.
enum class channel_take : unsigned char { taken, empty, ended };

template <class T>
struct channel_state {
    // A blocked send, queued on `senders`; lives in the sender's awaiter.
    struct send_waiter : list_node<channel_send_tag> {
        lowlevel::task_handle task;
        T* value = nullptr;  // in the blocked sender's awaiter; a receiver moves from it
        std::uint64_t end_id = 0;
        channel_wake result = channel_wake::none;
    };
    // A blocked receive, queued on `receivers`; lives in the receiver's awaiter.
    struct receive_waiter : list_node<channel_receive_tag> {
        lowlevel::task_handle task;
        std::optional<T> value;  // what a sender handed over
        std::uint64_t end_id = 0;
        channel_wake result = channel_wake::none;
    };

    // The abort callbacks of blocked operations: they take the waiter off
    // its queue. `state` points at the operation's channel pointer.
    struct unlink_sender {
        channel_state* const* state;
        send_waiter* waiter;
        lowlevel::abort_result operator()(const std::exception_ptr&) const noexcept {
            (*state)->senders.remove(waiter);
            return lowlevel::abort_result::succeeded;
        }
    };
    struct unlink_receiver {
        channel_state* const* state;
        receive_waiter* waiter;
        lowlevel::abort_result operator()(const std::exception_ptr&) const noexcept {
            (*state)->receivers.remove(waiter);
            return lowlevel::abort_result::succeeded;
        }
    };

    explicit channel_state(std::size_t max) : max_buffer(max) {}

    // Invariant: buffer is empty whenever receivers is not, and full (or
    // max_buffer is 0) whenever senders is not.
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

    // Delivers `value` without waiting if possible: to the longest-waiting
    // receiver, else into the buffer. Throws broken_resource_error if every
    // receive end is closed.
    bool try_send(T& value) {
        if (open_receive == 0) throw broken_resource_error("send: every receive end of the channel is closed");
        if (receive_waiter* r = receivers.pop_front()) {
            r->value.emplace(std::move(value));
            r->result = channel_wake::done;
            lowlevel::reschedule(r->task);
            return true;
        }
        if (buffer.size() < max_buffer) {
            buffer.push_back(std::move(value));
            return true;
        }
        return false;
    }

    // Takes the next value into `out` without waiting if there is one. The
    // longest-blocked sender's value joins the buffer's tail (which keeps
    // FIFO order) and that sender is released.
    channel_take try_receive(std::optional<T>& out) {
        if (send_waiter* w = senders.pop_front()) {
            const bool straight = buffer.empty();
            if (straight)
                out.emplace(std::move(*w->value));
            else
                buffer.push_back(std::move(*w->value));
            w->result = channel_wake::done;
            lowlevel::reschedule(w->task);
            if (straight) return channel_take::taken;
        }
        if (!buffer.empty()) {
            out.emplace(std::move(buffer.front()));
            buffer.pop_front();
            return channel_take::taken;
        }
        return open_send == 0 ? channel_take::ended : channel_take::empty;
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

// co_await tx.send(v): a checkpoint that delivers at once (then yields,
// cancel-shielded: the value is gone, so cancellation must not claim
// otherwise) or queues the sender until a receiver takes the value, the
// end is closed or every receiver is. Cancelled while queued: it leaves the
// queue and nothing was sent. Owns the value until it is delivered.
//
// Send and receive are awaiters, not task<> coroutines, so that a value
// costs no coroutine frame allocation; they are built from the low-level
// awaiters (checkpoint_if_cancelled, cancel_shielded_checkpoint,
// wait_task_rescheduled). Await one once, at once, while its end lives.
template <class T>
class [[nodiscard("co_await the send: on its own the call does nothing")]] channel_send_op : public channel_state<T>::send_waiter {
    using state_type = channel_state<T>;

public:
    void trellis_awaitable() const noexcept {}
    channel_send_op(send_channel<T>& end, T sent)
        : end_(end),
          value_(std::move(sent)),
          blocker_(lowlevel::wait_task_rescheduled(typename state_type::unlink_sender{&state_, this})) {}
    // Only before the await begins (g++ 12 moves an awaiter into the
    // coroutine frame first): the new object gets its own blocker.
    channel_send_op(channel_send_op&& other) : channel_send_op(other.end_, std::move(other.value_)) {}
    channel_send_op& operator=(channel_send_op&&) = delete;
    // Leaves the queue if the frame dies while blocked (an abandoned run).
    ~channel_send_op() {
        if (this->is_linked()) state_->senders.remove(this);
    }

    bool await_ready() {
        checkpoint_if_cancelled().await_ready();  // throws cancelled
        state_ = &end_.usable_state("send on a closed channel end");
        delivered_ = state_->try_send(value_);
        return false;
    }
    void await_suspend(std::coroutine_handle<> self) {
        if (delivered_) return lowlevel::cancel_shielded_checkpoint().await_suspend(self);
        this->task = lowlevel::current_task();
        this->value = &value_;
        this->end_id = end_.id_;
        state_->senders.push_back(this);
        blocker_.await_suspend(self);
    }
    void await_resume() {
        if (delivered_) return;
        blocker_.await_resume();  // throws cancelled if the abort took us off the queue
        if (this->result == channel_wake::closed) throw closed_resource_error("send on a closed channel end");
        if (this->result == channel_wake::broken)
            throw broken_resource_error("send: every receive end of the channel is closed");
    }

private:
    send_channel<T>& end_;
    T value_;
    state_type* state_ = nullptr;
    decltype(lowlevel::wait_task_rescheduled(std::declval<typename state_type::unlink_sender>())) blocker_;
    bool delivered_ = false;
};

// co_await rx.receive() (AtEnd = value_or_throw: T, or end_of_channel) and
// co_await rx.next() (AtEnd = optional: std::nullopt at the end). The
// mirror image of channel_send_op: a checkpoint that takes a value at once
// (then yields, cancel-shielded: the value is taken, so cancellation must
// not lose it) or queues the receiver until a sender hands it one, the end
// is closed or every sender is. Cancelled while queued: nothing consumed.
enum class at_end : bool { value_or_throw, optional };

template <class T, at_end AtEnd>
class [[nodiscard("co_await the receive: on its own the call does nothing")]] channel_receive_op : public channel_state<T>::receive_waiter {
    using state_type = channel_state<T>;
    using result_type = std::conditional_t<AtEnd == at_end::optional, std::optional<T>, T>;

public:
    void trellis_awaitable() const noexcept {}
    explicit channel_receive_op(receive_channel<T>& end)
        : end_(end), blocker_(lowlevel::wait_task_rescheduled(typename state_type::unlink_receiver{&state_, this})) {}
    // Only before the await begins (see channel_send_op).
    channel_receive_op(channel_receive_op&& other) : channel_receive_op(other.end_) {}
    channel_receive_op& operator=(channel_receive_op&&) = delete;
    // Leaves the queue if the frame dies while blocked (an abandoned run).
    ~channel_receive_op() {
        if (this->is_linked()) state_->receivers.remove(this);
    }

    bool await_ready() {
        checkpoint_if_cancelled().await_ready();  // throws cancelled
        state_ = &end_.usable_state("receive on a closed channel end");
        found_ = state_->try_receive(this->value);
        return false;
    }
    void await_suspend(std::coroutine_handle<> self) {
        if (found_ != channel_take::empty) return lowlevel::cancel_shielded_checkpoint().await_suspend(self);
        this->task = lowlevel::current_task();
        this->end_id = end_.id_;
        state_->receivers.push_back(this);
        blocker_.await_suspend(self);
    }
    result_type await_resume() {
        if (found_ == channel_take::empty) {
            blocker_.await_resume();  // throws cancelled if the abort took us off the queue
            if (this->result == channel_wake::closed) throw closed_resource_error("receive on a closed channel end");
            if (this->result == channel_wake::ended) found_ = channel_take::ended;
        }
        if constexpr (AtEnd == at_end::optional) {
            return std::move(this->value);  // empty at the end
        } else {
            if (found_ == channel_take::ended) throw end_of_channel();
            return std::move(*this->value);
        }
    }

private:
    receive_channel<T>& end_;
    state_type* state_ = nullptr;
    decltype(lowlevel::wait_task_rescheduled(std::declval<typename state_type::unlink_receiver>())) blocker_;
    channel_take found_ = channel_take::empty;
};

}  // namespace detail

template <class T>
class send_channel;
template <class T>
class receive_channel;

// The two ends open_memory_channel returns. A plain struct: take the ends
// out by member (`std::move(channel.send)`) or with a structured binding
// (`auto [tx, rx] = ...`). Each end is owned by whoever holds it.
template <class T>
struct memory_channel_pair {
    send_channel<T> send;
    receive_channel<T> receive;
};

template <class T>
memory_channel_pair<T> open_memory_channel(std::size_t max_buffer);

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
    // until a receiver takes it): `co_await tx.send(v);`. A checkpoint,
    // also when it does not wait. Throws closed_resource_error if this end
    // is (or gets) closed, broken_resource_error if every receive end is
    // (or gets) closed. If cancelled, the value was not delivered. Returns
    // an awaitable: co_await it at once, once, while this end lives.
    detail::channel_send_op<T> send(T value) { return detail::channel_send_op<T>(*this, std::move(value)); }

    // Sends without waiting. Not a checkpoint. Throws would_block if the
    // buffer is full (and no receiver waits), and the errors of send().
    void send_nowait(T value) {
        if (!usable_state("send on a closed channel end").try_send(value))
            throw would_block("send_nowait: the channel's buffer is full");
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
    // close(), then a checkpoint (which raises cancelled in a cancelled
    // scope; the end is closed either way).
    task<> aclose() {
        close();
        co_await checkpoint();
    }

    bool is_closed() const noexcept { return closed_; }
    // The channel's counters (all zero on a moved-from end). Not a checkpoint.
    channel_statistics statistics() const noexcept { return state_ ? state_->statistics() : channel_statistics{}; }

private:
    using state_type = detail::channel_state<T>;
    friend memory_channel_pair<T> open_memory_channel<T>(std::size_t);
    friend class detail::channel_send_op<T>;
    explicit send_channel(std::shared_ptr<state_type> s) : state_(std::move(s)), id_(state_->next_end_id++) {
        ++state_->open_send;
    }

    // The channel, for an operation through this end; throws
    // closed_resource_error (with `what`) if the end is closed.
    state_type& usable_state(const char* what) const {
        if (closed_) throw closed_resource_error(what);
        return *state_;
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

    // Receives the next value, waiting while there is none:
    // `T v = co_await rx.receive();`. A checkpoint, also when it does not
    // wait. Throws end_of_channel once every send end is closed and the
    // buffer is empty, closed_resource_error if this end is (or gets)
    // closed. If cancelled, nothing was consumed. Returns an awaitable:
    // co_await it at once, once, while this end lives.
    detail::channel_receive_op<T, detail::at_end::value_or_throw> receive() {
        return detail::channel_receive_op<T, detail::at_end::value_or_throw>(*this);
    }

    // The loop form: the next value, or std::nullopt at the end of the
    // channel (instead of end_of_channel). A checkpoint; same errors
    // otherwise. `while (auto v = co_await rx.next()) { ... }`
    detail::channel_receive_op<T, detail::at_end::optional> next() {
        return detail::channel_receive_op<T, detail::at_end::optional>(*this);
    }

    // Receives without waiting. Not a checkpoint. Throws would_block if
    // nothing is there, and the errors of receive().
    T receive_nowait() {
        std::optional<T> v;
        switch (usable_state("receive on a closed channel end").try_receive(v)) {
            case detail::channel_take::taken: return std::move(*v);
            case detail::channel_take::ended: throw end_of_channel();
            case detail::channel_take::empty: break;
        }
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
    // close(), then a checkpoint (which raises cancelled in a cancelled
    // scope; the end is closed either way).
    task<> aclose() {
        close();
        co_await checkpoint();
    }

    bool is_closed() const noexcept { return closed_; }
    // The channel's counters (all zero on a moved-from end). Not a checkpoint.
    channel_statistics statistics() const noexcept { return state_ ? state_->statistics() : channel_statistics{}; }

private:
    using state_type = detail::channel_state<T>;
    friend memory_channel_pair<T> open_memory_channel<T>(std::size_t);
    friend class detail::channel_receive_op<T, detail::at_end::value_or_throw>;
    friend class detail::channel_receive_op<T, detail::at_end::optional>;
    explicit receive_channel(std::shared_ptr<state_type> s) : state_(std::move(s)), id_(state_->next_end_id++) {
        ++state_->open_receive;
    }

    // The channel, for an operation through this end; throws
    // closed_resource_error (with `what`) if the end is closed.
    state_type& usable_state(const char* what) const {
        if (closed_) throw closed_resource_error(what);
        return *state_;
    }

    std::shared_ptr<state_type> state_;
    std::uint64_t id_ = 0;
    bool closed_ = false;
};

// Opens a channel for T values with room for max_buffer of them (0: none,
// trellis::unbounded: no limit). Not a checkpoint; may be called outside a
// run.
template <class T>
memory_channel_pair<T> open_memory_channel(std::size_t max_buffer) {
    auto state = std::make_shared<detail::channel_state<T>>(max_buffer);
    return {send_channel<T>(state), receive_channel<T>(state)};
}

}  // namespace trellis
