// In-memory streams for tests (Trio's trio.testing memory streams):
// memory_send_stream, memory_receive_stream, memory_stream_pump,
// memory_stream_one_way_pair, memory_stream_pair.
//
//   auto [s, r] = trellis::testing::memory_stream_one_way_pair();  // no buffer limit
//   co_await s->send_all("x");
//   std::string got = co_await r->receive_some();
//
// A memory_send_stream keeps what is sent in an unbounded buffer that a test
// reads with get_data(); a memory_receive_stream returns what a test put in
// with put_data(). Hooks (plain std::function members, set them before use)
// let a test run code at each call: the pairs use them to pump bytes from
// one end to the other. Every operation is a checkpoint, as the stream
// contract requires.
//
// Ownership: the caller owns each stream. The streams are neither copyable
// nor movable (hooks refer to them by address), hence the pairs hand out
// std::unique_ptr. Destroying a stream closes it at once (close(), which
// runs close_hook), so the peer of a pair sees end of file or
// broken_resource_error, never a dangling end. Threads: one run's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trellis/parking_lot.hpp"
#include "trellis/streams/conflict_detector.hpp"
#include "trellis/streams/stapled_stream.hpp"
#include "trellis/streams/stream.hpp"

namespace trellis::detail {
// An unbounded byte buffer with one reader that may wait for data.
class byte_queue {
public:
    explicit byte_queue(std::string busy_message) : fetch_guard_(std::move(busy_message)) {}
    // Appends; throws closed_resource_error once closed. Not a checkpoint.
    void put(std::string_view data);
    // Marks end of data; waiting readers wake. Not a checkpoint.
    void close();
    // close() and drop what is buffered.
    void close_and_wipe();
    // Takes up to max_bytes (all if nullopt); "" at end of data; throws
    // would_block if empty and open. Not a checkpoint.
    std::string get_nowait(std::optional<std::size_t> max_bytes);
    // The same, waiting while empty and open. A checkpoint. Throws
    // busy_resource_error if another task is fetching.
    task<std::string> get(std::optional<std::size_t> max_bytes);
    // Waits like get() and copies into `out`; returns the count (0 at end).
    task<std::size_t> get_into(std::span<std::byte> out);

private:
    std::string take(std::size_t n);
    std::string data_;
    // Invariant: once true, put() fails and nothing is added to data_.
    bool closed_ = false;
    lowlevel::parking_lot lot_;
    conflict_detector fetch_guard_;
};
}  // namespace trellis::detail

namespace trellis::testing {

// A send_stream that keeps everything sent in a buffer for the test to read.
class memory_send_stream final : public send_stream {
public:
    // Called (and awaited) at the end of each send_all, after the data is
    // buffered. The pairs pump data to the peer here.
    std::function<task<>()> send_all_hook;
    // Called at the end of each wait_send_all_might_not_block.
    std::function<task<>()> wait_send_all_might_not_block_hook;
    // Called (synchronously) when the stream is closed.
    std::function<void()> close_hook;

    memory_send_stream();
    ~memory_send_stream() override;

    // Closes at once (aclose without the checkpoint): drops buffered data,
    // so get_data returns end of data. Runs close_hook. Not a checkpoint.
    void close();

    // Takes up to max_bytes (all by default) of what was sent; waits while
    // nothing is buffered. Returns "" once the stream is closed and empty.
    // A checkpoint. Throws busy_resource_error if another task is in
    // get_data.
    task<std::string> get_data(std::optional<std::size_t> max_bytes = std::nullopt);
    // The same without waiting: throws would_block if nothing is buffered
    // and the stream is open. Not a checkpoint.
    std::string get_data_nowait(std::optional<std::size_t> max_bytes = std::nullopt);

protected:
    task<> do_send_all(std::span<const std::byte> data) override;
    task<> do_wait_send_all_might_not_block() override;
    task<> do_aclose() override;

private:
    trellis::detail::byte_queue outgoing_;
    conflict_detector send_guard_;
    bool closed_ = false;
};

// A receive_stream that returns whatever the test put in.
class memory_receive_stream final : public receive_stream {
public:
    // Called (and awaited) at the start of each receive_some, before it
    // looks for data. The lockstep-free pairs do not need it; tests may.
    std::function<task<>()> receive_some_hook;
    // Called (synchronously) when the stream is closed.
    std::function<void()> close_hook;

    memory_receive_stream();
    ~memory_receive_stream() override;

    // Closes at once: drops buffered data, wakes a blocked receive_some
    // with closed_resource_error. Runs close_hook. Not a checkpoint.
    void close();

    // Adds bytes for receive_some to return. Not a checkpoint. Throws
    // closed_resource_error if the stream is closed.
    void put_data(std::string_view data);
    // Marks end of file: once the buffer is drained, receive_some returns
    // 0. Not a checkpoint.
    void put_eof();

protected:
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override;
    task<> do_aclose() override;

private:
    trellis::detail::byte_queue incoming_;
    conflict_detector receive_guard_;
    bool closed_ = false;
};

// Moves up to max_bytes (all by default) of what `from` buffered into `to`;
// if `from` is closed and drained, gives `to` end of file. Returns false if
// there was nothing to move. Not a checkpoint. Throws
// broken_resource_error if `to` is closed.
bool memory_stream_pump(memory_send_stream& from, memory_receive_stream& to,
                        std::optional<std::size_t> max_bytes = std::nullopt);

// A connected one-way pair with an unbounded buffer: whatever send_all
// takes is pumped to the receiver at once, and closing the sender gives the
// receiver end of file. Not a checkpoint.
std::pair<std::unique_ptr<memory_send_stream>, std::unique_ptr<memory_receive_stream>>
memory_stream_one_way_pair();

// Two one-way pairs stapled into two connected two-way streams. Each
// stapled_stream's send_half() is a memory_send_stream and receive_half() a
// memory_receive_stream (dynamic_cast to reach the hooks). Not a checkpoint.
std::pair<stapled_stream, stapled_stream> memory_stream_pair();

}  // namespace trellis::testing
