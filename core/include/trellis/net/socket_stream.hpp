// trellis::socket_stream: a connected SOCK_STREAM socket (TCP or UNIX) as a
// half_closeable_stream (Trio's SocketStream).
//
//   trellis::socket_stream conn = co_await trellis::open_tcp_stream("example.com", 80);
//   co_await conn.send_all("GET / HTTP/1.0\r\n\r\n");
//
// Follows the stream contract (trellis/streams/stream.hpp). Socket errors
// from the peer (reset, broken pipe) become broken_resource_error, with the
// system error's text in the message. A cancelled send_all leaves the
// stream usable: some of the data may have been sent. TCP_NODELAY is turned
// on for TCP sockets (small writes go out at once; send_all writes whole
// buffers, so Nagle's batching is not needed).
//
// Ownership: owns its socket. Movable (only while no operation is in
// progress), not copyable; the destructor closes the fd at once. Threads:
// one run's thread.
#pragma once

#include "trellis/net/socket.hpp"
#include "trellis/streams/conflict_detector.hpp"
#include "trellis/streams/stream.hpp"

namespace trellis {

class socket_stream final : public half_closeable_stream {
public:
    // Takes ownership of a connected stream socket. Not a checkpoint.
    // Throws std::invalid_argument if it is closed or not SOCK_STREAM.
    explicit socket_stream(net::socket socket);
    socket_stream(socket_stream&& other) noexcept;
    socket_stream& operator=(socket_stream&& other) noexcept;
    ~socket_stream() override;

    // The underlying socket (for addresses, options, fileno). Closing it
    // directly closes the stream.
    net::socket& socket() noexcept { return socket_; }
    const net::socket& socket() const noexcept { return socket_; }

    // Socket options, as on net::socket. Not checkpoints. Throw
    // std::system_error, closed_resource_error once closed.
    void setsockopt(int level, int name, int value) { socket_.setsockopt(level, name, value); }
    int getsockopt(int level, int name) const { return socket_.getsockopt(level, name); }

protected:
    task<> do_send_all(std::span<const std::byte> data) override;
    task<> do_wait_send_all_might_not_block() override;
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override;
    // shutdown(SHUT_WR); idempotent.
    task<> do_send_eof() override;
    task<> do_aclose() override;

private:
    net::socket socket_;
    bool eof_sent_ = false;
    conflict_detector send_guard_{"socket_stream: another task is already in send_all, send_eof or "
                                  "wait_send_all_might_not_block"};
    conflict_detector receive_guard_{"socket_stream::receive_some: another task is already receiving"};
};

}  // namespace trellis
