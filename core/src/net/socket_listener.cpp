#include "trellis/net/socket_listener.hpp"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"

namespace trellis {

namespace {

// accept() errors that concern only the connection being accepted.
bool ignorable(int err) {
    switch (err) {
    case EPERM:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

}  // namespace

socket_listener::socket_listener(net::socket socket) : socket_(std::move(socket)) {
    if (socket_.is_closed()) throw std::invalid_argument("socket_listener: the socket is closed");
    if (socket_.type() != SOCK_STREAM) throw std::invalid_argument("socket_listener: the socket is not SOCK_STREAM");
    if (socket_.getsockopt(SOL_SOCKET, SO_ACCEPTCONN) == 0)
        throw std::invalid_argument("socket_listener: the socket is not listening; call listen() first");
}

socket_listener::socket_listener(socket_listener&& other) noexcept : socket_(std::move(other.socket_)) {}

socket_listener& socket_listener::operator=(socket_listener&& other) noexcept {
    socket_ = std::move(other.socket_);
    return *this;
}

socket_listener::~socket_listener() = default;

task<socket_stream> socket_listener::do_accept() {
    auto busy = accept_guard_.enter();
    for (;;) {
        if (socket_.is_closed()) throw closed_resource_error("socket_listener::accept: the listener is closed");
        try {
            auto accepted = co_await socket_.accept();
            co_return socket_stream(std::move(accepted.first));
        } catch (const std::system_error& e) {
            if (!ignorable(e.code().value())) throw;
        }
    }
}

task<> socket_listener::do_aclose() {
    socket_.close();
    co_await checkpoint();
}

}  // namespace trellis
