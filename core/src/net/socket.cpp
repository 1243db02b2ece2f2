#include "trellis/net/socket.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"
#include "trellis/io.hpp"
#include "trellis/run_var.hpp"

namespace trellis::net {

namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

lowlevel::run_var<std::shared_ptr<socket_factory>> custom_factory{nullptr};

}  // namespace

socket::socket(socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), family_(other.family_), type_(other.type_), protocol_(other.protocol_) {}

socket& socket::operator=(socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        family_ = other.family_;
        type_ = other.type_;
        protocol_ = other.protocol_;
    }
    return *this;
}

socket::~socket() { close(); }

socket socket::create(int family, int type, int protocol) {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw_errno(errno, "socket");
    return socket(fd, family, type, protocol);
}

std::pair<socket, socket> socket::socketpair(int family, int type, int protocol) {
    int fds[2];
    if (::socketpair(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol, fds) != 0) throw_errno(errno, "socketpair");
    return {socket(fds[0], family, type, protocol), socket(fds[1], family, type, protocol)};
}

socket socket::from_fd(int fd) {
    socket s(fd, AF_UNSPEC, 0, 0);  // owns fd from here on: closed on any error
    s.family_ = s.getsockopt(SOL_SOCKET, SO_DOMAIN);
    s.type_ = s.getsockopt(SOL_SOCKET, SO_TYPE);
    s.protocol_ = s.getsockopt(SOL_SOCKET, SO_PROTOCOL);
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno(errno, "socket::from_fd: fcntl");
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) throw_errno(errno, "socket::from_fd: fcntl");
    return s;
}

int socket::detach() noexcept { return std::exchange(fd_, -1); }

void socket::close() noexcept {
    if (fd_ < 0) return;
    const int fd = std::exchange(fd_, -1);
    try {
        lowlevel::notify_closing(fd);
    } catch (...) {
        // Outside a run nobody can be waiting on it.
    }
    ::close(fd);
}

void socket::bind(const socket_address& address) {
    if (fd_ < 0) throw closed_resource_error("socket::bind: the socket is closed");
    if (::bind(fd_, address.data(), address.size()) != 0) throw_errno(errno, "bind to " + address.to_string());
}

void socket::listen(int backlog) {
    if (fd_ < 0) throw closed_resource_error("socket::listen: the socket is closed");
    if (::listen(fd_, backlog) != 0) throw_errno(errno, "listen");
}

// The shape every operation shares: cancelled first, then try, wait only
// on EAGAIN, and let others run after success. An attempt that succeeds
// after a wait returns at once: the wait already let others run (as in
// Trio), and a second scheduling step per received message would only
// slow every server down.
template <class Attempt>
static task<ssize_t> nonblocking(const int& fd, bool readable, const char* op, Attempt attempt) {
    co_await checkpoint_if_cancelled();
    bool waited = false;
    for (;;) {
        if (fd < 0) throw closed_resource_error(std::string("socket::") + op + ": the socket is closed");
        const ssize_t n = attempt(fd);
        if (n >= 0) {
            if (!waited) co_await lowlevel::cancel_shielded_checkpoint();
            co_return n;
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (err != EAGAIN && err != EWOULDBLOCK) throw_errno(err, std::string("socket::") + op);
        if (readable)
            co_await trellis::wait_readable(fd);
        else
            co_await trellis::wait_writable(fd);
        waited = true;
    }
}

task<std::pair<socket, socket_address>> socket::accept() {
    socket_address peer;
    socklen_t size = socket_address::capacity();
    const ssize_t fd = co_await nonblocking(fd_, true, "accept", [&](int s) -> ssize_t {
        size = socket_address::capacity();
        return ::accept4(s, peer.data(), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    });
    socket conn(static_cast<int>(fd), family_, type_, protocol_);
    peer.set_size(size);
    co_return std::pair<socket, socket_address>{std::move(conn), peer};
}

task<> socket::connect(socket_address address) {
    co_await checkpoint_if_cancelled();
    if (fd_ < 0) throw closed_resource_error("socket::connect: the socket is closed");
    if (::connect(fd_, address.data(), address.size()) == 0) {
        co_await lowlevel::cancel_shielded_checkpoint();
        co_return;
    }
    const int err = errno;
    if (err != EINPROGRESS) throw_errno(err, "connect to " + address.to_string());
    try {
        co_await trellis::wait_writable(fd_);
    } catch (...) {
        // Cancelled (or closed) half-way: the attempt cannot be taken back,
        // so the socket is closed, as Trio does.
        close();
        throw;
    }
    const int result = getsockopt(SOL_SOCKET, SO_ERROR);
    if (result != 0) throw_errno(result, "connect to " + address.to_string());
}

task<std::size_t> socket::recv_into(std::span<std::byte> buffer, int flags) {
    const ssize_t n = co_await nonblocking(fd_, true, "recv", [&](int s) { return ::recv(s, buffer.data(), buffer.size(), flags); });
    co_return static_cast<std::size_t>(n);
}

task<std::string> socket::recv(std::size_t max_bytes, int flags) {
    std::string out(max_bytes, '\0');
    const std::size_t n = co_await recv_into(std::as_writable_bytes(std::span(out)), flags);
    out.resize(n);
    co_return out;
}

task<std::size_t> socket::send(std::span<const std::byte> data, int flags) {
    const ssize_t n = co_await nonblocking(fd_, false, "send",
                                           [&](int s) { return ::send(s, data.data(), data.size(), flags | MSG_NOSIGNAL); });
    co_return static_cast<std::size_t>(n);
}

task<std::pair<std::size_t, socket_address>> socket::recvfrom_into(std::span<std::byte> buffer, int flags) {
    socket_address from;
    socklen_t size = socket_address::capacity();
    const ssize_t n = co_await nonblocking(fd_, true, "recvfrom", [&](int s) {
        size = socket_address::capacity();
        return ::recvfrom(s, buffer.data(), buffer.size(), flags, from.data(), &size);
    });
    from.set_size(size);
    co_return std::pair<std::size_t, socket_address>{static_cast<std::size_t>(n), from};
}

task<std::pair<std::string, socket_address>> socket::recvfrom(std::size_t max_bytes, int flags) {
    std::string out(max_bytes, '\0');
    auto [n, from] = co_await recvfrom_into(std::as_writable_bytes(std::span(out)), flags);
    out.resize(n);
    co_return std::pair<std::string, socket_address>{std::move(out), from};
}

task<std::size_t> socket::sendto(std::span<const std::byte> data, socket_address to, int flags) {
    const ssize_t n = co_await nonblocking(fd_, false, "sendto", [&](int s) {
        return ::sendto(s, data.data(), data.size(), flags | MSG_NOSIGNAL, to.data(), to.size());
    });
    co_return static_cast<std::size_t>(n);
}

void socket::shutdown(int how) {
    if (fd_ < 0) throw closed_resource_error("socket::shutdown: the socket is closed");
    if (::shutdown(fd_, how) != 0) throw_errno(errno, "shutdown");
}

void socket::setsockopt(int level, int name, int value) { setsockopt(level, name, &value, sizeof value); }

void socket::setsockopt(int level, int name, const void* value, socklen_t size) {
    if (fd_ < 0) throw closed_resource_error("socket::setsockopt: the socket is closed");
    if (::setsockopt(fd_, level, name, value, size) != 0) throw_errno(errno, "setsockopt");
}

int socket::getsockopt(int level, int name) const {
    int value = 0;
    getsockopt(level, name, &value, sizeof value);
    return value;
}

socklen_t socket::getsockopt(int level, int name, void* value, socklen_t size) const {
    if (fd_ < 0) throw closed_resource_error("socket::getsockopt: the socket is closed");
    if (::getsockopt(fd_, level, name, value, &size) != 0) throw_errno(errno, "getsockopt");
    return size;
}

socket_address socket::local_address() const {
    if (fd_ < 0) throw closed_resource_error("socket::local_address: the socket is closed");
    socket_address a;
    socklen_t size = socket_address::capacity();
    if (::getsockname(fd_, a.data(), &size) != 0) throw_errno(errno, "getsockname");
    a.set_size(size);
    return a;
}

socket_address socket::peer_address() const {
    if (fd_ < 0) throw closed_resource_error("socket::peer_address: the socket is closed");
    socket_address a;
    socklen_t size = socket_address::capacity();
    if (::getpeername(fd_, a.data(), &size) != 0) throw_errno(errno, "getpeername");
    a.set_size(size);
    return a;
}

task<> socket::wait_readable() {
    if (fd_ < 0) throw closed_resource_error("socket::wait_readable: the socket is closed");
    co_await trellis::wait_readable(fd_);
}

task<> socket::wait_writable() {
    if (fd_ < 0) throw closed_resource_error("socket::wait_writable: the socket is closed");
    co_await trellis::wait_writable(fd_);
}

std::shared_ptr<socket_factory> set_custom_socket_factory(std::shared_ptr<socket_factory> factory) {
    auto previous = custom_factory.get();
    custom_factory.set(std::move(factory));
    return previous;
}

socket make_socket(int family, int type, int protocol) {
    if (auto factory = custom_factory.get()) return factory->make_socket(family, type, protocol);
    return socket::create(family, type, protocol);
}

}  // namespace trellis::net
