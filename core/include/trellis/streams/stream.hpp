// The stream interfaces (Trio's trio.abc): send_stream, receive_stream,
// stream (both) and half_closeable_stream (adds send_eof).
//
//   std::byte buf[4096];
//   std::size_t n = co_await s.receive_some(buf);   // no allocation
//   std::string chunk = co_await s.receive_some();  // owned buffer, "" = EOF
//   co_await s.send_all("hello\n");
//
// Style: non-virtual interface, like std::pmr::memory_resource. Callers use
// the public members; an implementation overrides the protected do_*
// members and may rely on the public members having checked their
// arguments. The classes inherit async_resource virtually, so one object
// can be a send_stream and a receive_stream at once.
//
// Contract every implementation keeps (the checkers in
// trellis/testing/check_streams.hpp test it):
//  * Every operation is a checkpoint, even when it does not block.
//  * Two tasks in send_all (or wait_send_all_might_not_block) at once, or in
//    receive_some at once, is an error: the second raises
//    busy_resource_error naming the operation.
//  * After aclose(), every operation raises closed_resource_error; closing
//    while another task is blocked in an operation wakes it with
//    closed_resource_error.
//  * A cancelled or failed send_all may have sent none, some or all of the
//    data. A stream that can go on after that (a socket) stays usable; one
//    that cannot (TLS) becomes broken and says so with broken_resource_error.
//
// Ownership: the interfaces are non-copyable. Whether a concrete stream is
// movable is said in its header. Threads: one run's thread only.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "trellis/streams/async_resource.hpp"
#include "trellis/task.hpp"

namespace trellis {

// The default size of receive_some's owned buffer.
inline constexpr std::size_t default_receive_size = 65536;

class send_stream : public virtual async_resource {
public:
    // Sends every byte of `data`, waiting for room as needed; returns once
    // the stream has taken all of it (which does not mean the peer has read
    // it). An empty `data` sends nothing but is still a checkpoint.
    // Cancellation: see the contract above (some, all or none sent).
    // Throws busy_resource_error if another task is sending,
    // closed_resource_error if this stream was closed, and
    // broken_resource_error (or std::system_error) if the peer is gone.
    task<> send_all(std::span<const std::byte> data) { return do_send_all(data); }
    // The same for text; the bytes are sent as they are.
    task<> send_all(std::string_view data) { return do_send_all(std::as_bytes(std::span(data))); }

    // Waits until a send_all might not block (for example, the socket's send
    // buffer has room). Returning is only a hint: send_all may still block.
    // A checkpoint. Throws like send_all, and busy_resource_error if a task
    // is in send_all or in this call.
    task<> wait_send_all_might_not_block() { return do_wait_send_all_might_not_block(); }

protected:
    send_stream() = default;
    send_stream(send_stream&&) = default;
    send_stream& operator=(send_stream&&) = default;

    virtual task<> do_send_all(std::span<const std::byte> data) = 0;
    virtual task<> do_wait_send_all_might_not_block() = 0;
};

class receive_stream : public virtual async_resource {
public:
    // Waits until at least one byte is available and reads up to
    // buffer.size() bytes into `buffer`; returns how many. Returns 0 only at
    // end of file (the peer closed or sent EOF). Never allocates.
    // A checkpoint; if cancelled, nothing was read. Throws
    // std::invalid_argument at once if `buffer` is empty,
    // busy_resource_error if another task is receiving,
    // closed_resource_error if this stream was closed, and
    // broken_resource_error or std::system_error if the stream failed.
    task<std::size_t> receive_some(std::span<std::byte> buffer);

    // The same into a new buffer of at most max_bytes: returns the bytes
    // read, or an empty string at end of file. Allocates a max_bytes buffer
    // per call; use the span overload in hot loops. Throws
    // std::invalid_argument if max_bytes is 0, else as above.
    task<std::string> receive_some(std::size_t max_bytes = default_receive_size);

protected:
    receive_stream() = default;
    receive_stream(receive_stream&&) = default;
    receive_stream& operator=(receive_stream&&) = default;

    // Called with a non-empty buffer.
    virtual task<std::size_t> do_receive_some(std::span<std::byte> buffer) = 0;

private:
    task<std::string> receive_owned(std::size_t max_bytes);
};

// A two-way stream.
class stream : public send_stream, public receive_stream {
protected:
    stream() = default;
    stream(stream&&) = default;
    stream& operator=(stream&&) = default;
};

// A two-way stream whose sending half can be closed on its own.
class half_closeable_stream : public stream {
public:
    // Tells the peer that nothing more will be sent (its receive_some
    // returns end of file once it has read everything before), while this
    // side can go on receiving. Idempotent. A checkpoint. After it,
    // send_all raises closed_resource_error. Throws busy_resource_error if
    // a task is in send_all or wait_send_all_might_not_block,
    // closed_resource_error if the stream was closed.
    task<> send_eof() { return do_send_eof(); }

protected:
    half_closeable_stream() = default;
    half_closeable_stream(half_closeable_stream&&) = default;
    half_closeable_stream& operator=(half_closeable_stream&&) = default;

    virtual task<> do_send_eof() = 0;
};

}  // namespace trellis
