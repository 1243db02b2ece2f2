#include "trellis/net/socket_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"

namespace trellis {

namespace {

[[noreturn]] void throw_broken(const char* op, const std::system_error& e) {
    throw broken_resource_error(std::string("socket_stream::") + op + ": " + e.what());
}

void check_open(const net::socket& s, const char* op) {
    if (s.is_closed()) throw closed_resource_error(std::string("socket_stream::") + op + ": the stream is closed");
}

}  // namespace

socket_stream::socket_stream(net::socket socket) : socket_(std::move(socket)) {
    if (socket_.is_closed()) throw std::invalid_argument("socket_stream: the socket is closed");
    if (socket_.type() != SOCK_STREAM) throw std::invalid_argument("socket_stream: the socket is not SOCK_STREAM");
    if (socket_.family() == AF_INET || socket_.family() == AF_INET6) {
        try {
            socket_.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
        } catch (const std::system_error&) {
            // Not a TCP socket after all (SCTP, say): leave it be.
        }
    }
}

socket_stream::socket_stream(socket_stream&& other) noexcept
    : socket_(std::move(other.socket_)), eof_sent_(other.eof_sent_) {}

socket_stream& socket_stream::operator=(socket_stream&& other) noexcept {
    socket_ = std::move(other.socket_);
    eof_sent_ = other.eof_sent_;
    return *this;
}

socket_stream::~socket_stream() = default;

task<> socket_stream::do_send_all(std::span<const std::byte> data) {
    auto busy = send_guard_.enter();
    check_open(socket_, "send_all");
    if (eof_sent_) throw closed_resource_error("socket_stream::send_all: send_eof was called already");
    if (data.empty()) {
        co_await checkpoint();
        co_return;
    }
    try {
        while (!data.empty()) {
            const std::size_t n = co_await socket_.send(data);
            data = data.subspan(n);
        }
    } catch (const std::system_error& e) {
        throw_broken("send_all", e);
    }
}

task<> socket_stream::do_wait_send_all_might_not_block() {
    auto busy = send_guard_.enter();
    check_open(socket_, "wait_send_all_might_not_block");
    co_await socket_.wait_writable();
}

task<std::size_t> socket_stream::do_receive_some(std::span<std::byte> buffer) {
    auto busy = receive_guard_.enter();
    check_open(socket_, "receive_some");
    std::size_t n = 0;
    try {
        n = co_await socket_.recv_into(buffer);
    } catch (const std::system_error& e) {
        throw_broken("receive_some", e);
    }
    co_return n;
}

task<> socket_stream::do_send_eof() {
    auto busy = send_guard_.enter();
    check_open(socket_, "send_eof");
    co_await checkpoint();
    if (eof_sent_) co_return;
    eof_sent_ = true;
    try {
        socket_.shutdown(SHUT_WR);
    } catch (const std::system_error& e) {
        if (e.code().value() != ENOTCONN) throw_broken("send_eof", e);
    }
}

task<> socket_stream::do_aclose() {
    socket_.close();
    co_await checkpoint();
}

}  // namespace trellis
