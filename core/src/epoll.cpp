#include "epoll.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>

#include "runner.hpp"
#include "trellis/errors.hpp"

namespace trellis::detail {

namespace {

// epoll_pwait2 (Linux 5.11) takes a timeout in nanoseconds. Older kernels,
// and tools such as valgrind, do not know it; then the wait falls back to
// epoll_wait, whose timeout is in milliseconds, rounded up so that a wait
// never ends before the deadline it was computed for.
std::atomic<bool> have_epoll_pwait2{true};

int epoll_wait_for(int epfd, epoll_event* events, int max_events, duration timeout) {
    const bool forever = timeout == duration::max();
    const auto ns = std::max(timeout, duration::zero()).count();
    if (have_epoll_pwait2.load(std::memory_order_relaxed)) {
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        const int n = ::epoll_pwait2(epfd, events, max_events, forever ? nullptr : &ts, nullptr);
        if (n >= 0 || errno != ENOSYS) return n;
        have_epoll_pwait2.store(false, std::memory_order_relaxed);
    }
    const auto ms = ns / 1'000'000 + (ns % 1'000'000 != 0);
    return ::epoll_wait(epfd, events, max_events, forever ? -1 : static_cast<int>(std::min<long long>(ms, INT_MAX)));
}
}  // namespace

io_manager::io_manager(int wake_fd) : epfd_(::epoll_create1(EPOLL_CLOEXEC)), wake_fd_(wake_fd) {
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "trellis: epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: readable until the queue is drained
    ev.data.fd = wake_fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
        int err = errno;
        ::close(epfd_);
        throw std::system_error(err, std::generic_category(), "trellis: epoll_ctl(wake fd)");
    }
}

io_manager::~io_manager() { ::close(epfd_); }

void io_manager::wait(duration timeout, std::vector<epoll_event>& events) const {
    int n;
    do {
        n = epoll_wait_for(epfd_, buffer_.data(), max_events, timeout);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "trellis: epoll_wait");
    events.assign(buffer_.begin(), buffer_.begin() + n);
}

io_manager::fd_waiters& io_manager::slot(int fd) {
    if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
    return fds_[static_cast<std::size_t>(fd)];
}

bool io_manager::dispatch(std::span<const epoll_event> events, runner& r) {
    bool woken = false;
    for (const epoll_event& ev : events) {
        const int fd = ev.data.fd;
        if (fd == wake_fd_) {
            woken = true;
            continue;
        }
        fd_waiters& w = slot(fd);
        // One-shot: the kernel disarmed the interest when it reported it.
        w.armed = 0;
        if ((ev.events & ~static_cast<std::uint32_t>(EPOLLOUT)) && w.reader) {
            task_state* t = std::exchange(w.reader, nullptr);
            --waiters_;
            r.reschedule(*t, nullptr);
        }
        if ((ev.events & ~static_cast<std::uint32_t>(EPOLLIN)) && w.writer) {
            task_state* t = std::exchange(w.writer, nullptr);
            --waiters_;
            r.reschedule(*t, nullptr);
        }
        // Re-arm for a waiter that is still there (the other direction).
        if (w.reader || w.writer) {
            try {
                update(fd);
            } catch (...) {
                // The fd became unpollable (closed behind our back): wake
                // the remaining waiter with the error rather than leaving it.
                auto error = std::current_exception();
                for (task_state** p : {&w.reader, &w.writer})
                    if (task_state* t = std::exchange(*p, nullptr)) {
                        --waiters_;
                        r.reschedule(*t, error);
                    }
            }
        }
    }
    return woken;
}

void io_manager::update(int fd) {
    fd_waiters& w = slot(fd);
    const std::uint32_t wanted = (w.reader ? EPOLLIN : 0u) | (w.writer ? EPOLLOUT : 0u);
    if (wanted == w.armed) return;
    epoll_event ev{};
    ev.events = wanted | EPOLLONESHOT;
    ev.data.fd = fd;
    // MOD first: after the first wait the fd stays registered (disarmed)
    // with the kernel, so this is the common case.
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) < 0) {
        if (errno != ENOENT || ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            const int err = errno;
            std::string what = "trellis: cannot wait for fd " + std::to_string(fd);
            if (err == EBADF)
                what += ": it is not an open file descriptor";
            else if (err == EPERM)
                what += ": it does not support polling (regular files and directories are always ready)";
            throw std::system_error(err, std::generic_category(), what);
        }
    }
    w.armed = wanted;
}

void io_manager::add_waiter(int fd, bool writable, task_state& task) {
    if (fd < 0)
        throw std::system_error(EBADF, std::generic_category(),
                                "trellis: cannot wait for fd " + std::to_string(fd) +
                                    ": it is not an open file descriptor");
    fd_waiters& w = slot(fd);
    task_state*& waiter = writable ? w.writer : w.reader;
    if (waiter)
        throw busy_resource_error(std::string("another task is already waiting for fd ") +
                                  std::to_string(fd) + " to become " +
                                  (writable ? "writable" : "readable"));
    waiter = &task;
    try {
        update(fd);
    } catch (...) {
        waiter = nullptr;
        throw;
    }
    ++waiters_;
}

void io_manager::remove_waiter(int fd, bool writable) noexcept {
    fd_waiters& w = slot(fd);
    task_state*& waiter = writable ? w.writer : w.reader;
    if (!waiter) return;
    waiter = nullptr;
    --waiters_;
    try {
        update(fd);
    } catch (...) {
        // Disarming can only fail if the fd is already gone, which is fine.
        w.armed = 0;
    }
}

void io_manager::notify_closing(int fd, runner& r) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
    fd_waiters& w = fds_[static_cast<std::size_t>(fd)];
    for (task_state** p : {&w.reader, &w.writer})
        if (task_state* t = std::exchange(*p, nullptr)) {
            --waiters_;
            r.reschedule(*t, std::make_exception_ptr(closed_resource_error(
                                 "fd " + std::to_string(fd) + " was closed while a task waited on it")));
        }
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // may fail if never registered: fine
    w = fd_waiters{};
}

std::pair<std::size_t, std::size_t> io_manager::waiters_by_direction() const noexcept {
    std::pair<std::size_t, std::size_t> counts{0, 0};
    for (const fd_waiters& w : fds_) {
        if (w.reader) ++counts.first;
        if (w.writer) ++counts.second;
    }
    return counts;
}

}  // namespace trellis::detail
