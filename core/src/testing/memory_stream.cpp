#include "trellis/testing/memory_stream.hpp"

#include <algorithm>
#include <cstring>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"

namespace trellis::detail {

void byte_queue::put(std::string_view data) {
    if (closed_) throw closed_resource_error("memory stream: the virtual connection is closed");
    data_.append(data);
    lot_.unpark_all();
}

void byte_queue::close() {
    closed_ = true;
    lot_.unpark_all();
}

void byte_queue::close_and_wipe() {
    data_.clear();
    close();
}

std::string byte_queue::take(std::size_t n) {
    n = std::min(n, data_.size());
    std::string chunk = data_.substr(0, n);
    data_.erase(0, n);
    return chunk;
}

std::string byte_queue::get_nowait(std::optional<std::size_t> max_bytes) {
    auto busy = fetch_guard_.enter();
    if (max_bytes && *max_bytes == 0) throw std::invalid_argument("memory stream: max_bytes must be at least 1");
    if (!closed_ && data_.empty()) throw would_block();
    return take(max_bytes.value_or(data_.size()));
}

task<std::string> byte_queue::get(std::optional<std::size_t> max_bytes) {
    auto busy = fetch_guard_.enter();
    if (max_bytes && *max_bytes == 0) throw std::invalid_argument("memory stream: max_bytes must be at least 1");
    if (!closed_ && data_.empty())
        co_await lot_.park();
    else
        co_await checkpoint();
    co_return take(max_bytes.value_or(data_.size()));
}

task<std::size_t> byte_queue::get_into(std::span<std::byte> out) {
    auto busy = fetch_guard_.enter();
    if (!closed_ && data_.empty())
        co_await lot_.park();
    else
        co_await checkpoint();
    const std::size_t n = std::min(out.size(), data_.size());
    if (n > 0) std::memcpy(out.data(), data_.data(), n);
    data_.erase(0, n);
    co_return n;
}

}  // namespace trellis::detail

namespace trellis::testing {

// ---- memory_send_stream ----

memory_send_stream::memory_send_stream()
    : outgoing_("memory_send_stream::get_data: another task is already fetching data"),
      send_guard_("memory_send_stream: another task is already in send_all or wait_send_all_might_not_block") {}

// Destruction closes the stream (running close_hook) so that a peer's
// hooks stop using it; a hook's error is dropped here.
memory_send_stream::~memory_send_stream() {
    if (closed_) return;
    try {
        close();
    } catch (...) {
    }
}

void memory_send_stream::close() {
    closed_ = true;
    outgoing_.close();
    if (close_hook) close_hook();
}

task<> memory_send_stream::do_send_all(std::span<const std::byte> data) {
    auto busy = send_guard_.enter();
    co_await checkpoint();
    co_await checkpoint();
    outgoing_.put(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    if (send_all_hook) co_await send_all_hook();
}

task<> memory_send_stream::do_wait_send_all_might_not_block() {
    auto busy = send_guard_.enter();
    co_await checkpoint();
    co_await checkpoint();
    outgoing_.put({});  // raises closed_resource_error if closed
    if (wait_send_all_might_not_block_hook) co_await wait_send_all_might_not_block_hook();
}

task<> memory_send_stream::do_aclose() {
    close();
    co_await checkpoint();
}

task<std::string> memory_send_stream::get_data(std::optional<std::size_t> max_bytes) {
    return outgoing_.get(max_bytes);
}

std::string memory_send_stream::get_data_nowait(std::optional<std::size_t> max_bytes) {
    return outgoing_.get_nowait(max_bytes);
}

// ---- memory_receive_stream ----

memory_receive_stream::memory_receive_stream()
    : incoming_("memory_receive_stream: another task is already fetching data"),
      receive_guard_("memory_receive_stream::receive_some: another task is already receiving") {}

// Destruction closes the stream (running close_hook) so that a peer's
// hooks stop using it; a hook's error is dropped here.
memory_receive_stream::~memory_receive_stream() {
    if (closed_) return;
    try {
        close();
    } catch (...) {
    }
}

void memory_receive_stream::close() {
    closed_ = true;
    incoming_.close_and_wipe();
    if (close_hook) close_hook();
}

void memory_receive_stream::put_data(std::string_view data) { incoming_.put(data); }

void memory_receive_stream::put_eof() { incoming_.close(); }

task<std::size_t> memory_receive_stream::do_receive_some(std::span<std::byte> buffer) {
    auto busy = receive_guard_.enter();
    co_await checkpoint();
    co_await checkpoint();
    if (closed_) throw closed_resource_error("memory_receive_stream::receive_some: the stream is closed");
    if (receive_some_hook) co_await receive_some_hook();
    // close() wakes a blocked get by closing the queue, so check again.
    const std::size_t n = co_await incoming_.get_into(buffer);
    if (closed_) throw closed_resource_error("memory_receive_stream::receive_some: the stream was closed");
    co_return n;
}

task<> memory_receive_stream::do_aclose() {
    close();
    co_await checkpoint();
}

// ---- pumps and pairs ----

bool memory_stream_pump(memory_send_stream& from, memory_receive_stream& to, std::optional<std::size_t> max_bytes) {
    std::string data;
    try {
        data = from.get_data_nowait(max_bytes);
    } catch (const would_block&) {
        return false;
    }
    try {
        if (data.empty())
            to.put_eof();
        else
            to.put_data(data);
    } catch (const closed_resource_error&) {
        throw broken_resource_error("memory stream: the receiving end was closed");
    }
    return true;
}

std::pair<std::unique_ptr<memory_send_stream>, std::unique_ptr<memory_receive_stream>> memory_stream_one_way_pair() {
    auto sender = std::make_unique<memory_send_stream>();
    auto receiver = std::make_unique<memory_receive_stream>();
    // The hooks reach the two ends through a shared link, which each end's
    // close (destruction included) updates, so neither end may outlive the
    // other's hooks with a dangling pointer.
    struct link {
        memory_send_stream* sender;
        memory_receive_stream* receiver;
        void pump() {
            if (!sender) return;
            if (!receiver) throw broken_resource_error("memory stream: the receiving end was closed");
            memory_stream_pump(*sender, *receiver);
        }
    };
    auto shared = std::make_shared<link>(link{sender.get(), receiver.get()});
    sender->send_all_hook = [shared]() -> task<> {
        shared->pump();
        co_return;
    };
    sender->close_hook = [shared]() {
        if (shared->receiver) shared->pump();  // hands end of file over
        shared->sender = nullptr;
    };
    receiver->close_hook = [shared]() { shared->receiver = nullptr; };
    return {std::move(sender), std::move(receiver)};
}

std::pair<stapled_stream, stapled_stream> memory_stream_pair() {
    auto [s1, r1] = memory_stream_one_way_pair();
    auto [s2, r2] = memory_stream_one_way_pair();
    return {stapled_stream(std::move(s1), std::move(r2)), stapled_stream(std::move(s2), std::move(r1))};
}

}  // namespace trellis::testing
