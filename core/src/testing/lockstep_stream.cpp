#include "trellis/testing/lockstep_stream.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"
#include "trellis/parking_lot.hpp"
#include "trellis/streams/conflict_detector.hpp"

namespace trellis::testing {

namespace {

// The state both ends of a lockstep pair share. Every change wakes every
// waiter, and each waiter checks its own condition again.
class lockstep_queue {
public:
    void close_sender() {
        sender_closed_ = true;
        changed();
    }
    void close_receiver() {
        receiver_closed_ = true;
        changed();
    }

    task<> send_all(std::span<const std::byte> data) {
        auto busy = send_guard_.enter();
        if (sender_closed_) throw closed_resource_error("lockstep send_stream: the stream is closed");
        if (receiver_closed_) throw broken_resource_error("lockstep send_stream: the receiver is closed");
        // A cancelled send_all may have left bytes behind; they go first.
        data_.append(reinterpret_cast<const char*>(data.data()), data.size());
        changed();
        co_await wait_for([this] { return data_.empty(); });
        if (sender_closed_) throw closed_resource_error("lockstep send_stream: the stream was closed");
        if (!data_.empty() && receiver_closed_) {
            data_.clear();
            throw broken_resource_error("lockstep send_stream: the receiver was closed");
        }
    }

    task<> wait_send_all_might_not_block() {
        auto busy = send_guard_.enter();
        if (sender_closed_) throw closed_resource_error("lockstep send_stream: the stream is closed");
        if (receiver_closed_) {
            co_await checkpoint();
            co_return;
        }
        co_await wait_for([this] { return receiver_waiting_; });
        if (sender_closed_) throw closed_resource_error("lockstep send_stream: the stream was closed");
    }

    task<std::size_t> receive_some(std::span<std::byte> buffer) {
        auto busy = receive_guard_.enter();
        if (receiver_closed_) throw closed_resource_error("lockstep receive_stream: the stream is closed");
        receiver_waiting_ = true;
        changed();
        struct reset {
            bool& flag;
            ~reset() { flag = false; }
        } reset_waiting{receiver_waiting_};
        co_await wait_for([this] { return !data_.empty(); });
        if (receiver_closed_) throw closed_resource_error("lockstep receive_stream: the stream was closed");
        if (data_.empty()) co_return 0;  // the sender closed
        const std::size_t n = std::min(buffer.size(), data_.size());
        std::memcpy(buffer.data(), data_.data(), n);
        data_.erase(0, n);
        changed();
        co_return n;
    }

private:
    void changed() { waiters_.unpark_all(); }

    // Waits until done() holds or either end is closed, then checkpoints.
    task<> wait_for(std::function<bool()> done) {
        while (!done() && !sender_closed_ && !receiver_closed_) co_await waiters_.park();
        co_await checkpoint();
    }

    std::string data_;
    bool sender_closed_ = false;
    bool receiver_closed_ = false;
    bool receiver_waiting_ = false;
    lowlevel::parking_lot waiters_;
    conflict_detector send_guard_{"lockstep send_stream: another task is already sending"};
    conflict_detector receive_guard_{"lockstep receive_stream::receive_some: another task is already receiving"};
};

class lockstep_send_stream final : public send_stream {
public:
    explicit lockstep_send_stream(std::shared_ptr<lockstep_queue> q) : q_(std::move(q)) {}
    ~lockstep_send_stream() override { q_->close_sender(); }

protected:
    task<> do_send_all(std::span<const std::byte> data) override { return q_->send_all(data); }
    task<> do_wait_send_all_might_not_block() override { return q_->wait_send_all_might_not_block(); }
    task<> do_aclose() override {
        q_->close_sender();
        co_await checkpoint();
    }

private:
    std::shared_ptr<lockstep_queue> q_;
};

class lockstep_receive_stream final : public receive_stream {
public:
    explicit lockstep_receive_stream(std::shared_ptr<lockstep_queue> q) : q_(std::move(q)) {}
    ~lockstep_receive_stream() override { q_->close_receiver(); }

protected:
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override { return q_->receive_some(buffer); }
    task<> do_aclose() override {
        q_->close_receiver();
        co_await checkpoint();
    }

private:
    std::shared_ptr<lockstep_queue> q_;
};

}  // namespace

std::pair<std::unique_ptr<send_stream>, std::unique_ptr<receive_stream>> lockstep_stream_one_way_pair() {
    auto q = std::make_shared<lockstep_queue>();
    return {std::make_unique<lockstep_send_stream>(q), std::make_unique<lockstep_receive_stream>(q)};
}

std::pair<stapled_stream, stapled_stream> lockstep_stream_pair() {
    auto [s1, r1] = lockstep_stream_one_way_pair();
    auto [s2, r2] = lockstep_stream_one_way_pair();
    return {stapled_stream(std::move(s1), std::move(r2)), stapled_stream(std::move(s2), std::move(r1))};
}

}  // namespace trellis::testing
