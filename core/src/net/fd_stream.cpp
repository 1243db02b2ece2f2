#include "trellis/net/fd_stream.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"
#include "trellis/io.hpp"

namespace trellis {

namespace {

// write(2) without SIGPIPE: a pipe whose reader is gone must give EPIPE
// (broken_resource_error), not kill the process. SIGPIPE is blocked on this
// thread for the call, and a SIGPIPE the call raised is consumed before
// unblocking (one that was pending before is left alone).
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size) {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    const ssize_t n = ::write(fd, data, size);
    const int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        const timespec no_wait{};
        while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n;
}

}  // namespace

fd_stream::fd_stream(int fd) {
    if (fd < 0) throw std::invalid_argument("fd_stream: the fd is negative");
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) throw std::system_error(errno, std::generic_category(), "fd_stream: fcntl(F_GETFL)");
    was_blocking_ = (flags & O_NONBLOCK) == 0;
    if (was_blocking_ && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        throw std::system_error(errno, std::generic_category(), "fd_stream: fcntl(F_SETFL)");
    fd_ = fd;
}

fd_stream::fd_stream(fd_stream&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), was_blocking_(other.was_blocking_) {}

fd_stream& fd_stream::operator=(fd_stream&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        was_blocking_ = other.was_blocking_;
    }
    return *this;
}

fd_stream::~fd_stream() { close(); }

void fd_stream::close() noexcept {
    if (fd_ < 0) return;
    const int fd = std::exchange(fd_, -1);
    try {
        lowlevel::notify_closing(fd);
    } catch (...) {
        // Outside a run nobody can be waiting on it.
    }
    if (was_blocking_) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    ::close(fd);
}

task<> fd_stream::do_send_all(std::span<const std::byte> data) {
    auto busy = send_guard_.enter();
    if (fd_ < 0) throw closed_resource_error("fd_stream::send_all: the stream is closed");
    co_await checkpoint();
    while (!data.empty()) {
        if (fd_ < 0) throw closed_resource_error("fd_stream::send_all: the stream was closed");
        const ssize_t n = write_without_sigpipe(fd_, data.data(), data.size());
        if (n >= 0) {
            data = data.subspan(static_cast<std::size_t>(n));
            continue;
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            co_await trellis::wait_writable(fd_);
            continue;
        }
        throw broken_resource_error(std::string("fd_stream::send_all: ") +
                                    std::system_category().message(err));
    }
}

task<> fd_stream::do_wait_send_all_might_not_block() {
    auto busy = send_guard_.enter();
    if (fd_ < 0) throw closed_resource_error("fd_stream::wait_send_all_might_not_block: the stream is closed");
    co_await trellis::wait_writable(fd_);
}

task<std::size_t> fd_stream::do_receive_some(std::span<std::byte> buffer) {
    auto busy = receive_guard_.enter();
    if (fd_ < 0) throw closed_resource_error("fd_stream::receive_some: the stream is closed");
    co_await checkpoint();
    for (;;) {
        if (fd_ < 0) throw closed_resource_error("fd_stream::receive_some: the stream was closed");
        const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            co_await trellis::wait_readable(fd_);
            continue;
        }
        throw broken_resource_error(std::string("fd_stream::receive_some: ") + std::system_category().message(err));
    }
}

task<> fd_stream::do_aclose() {
    close();
    co_await checkpoint();
}

}  // namespace trellis
