// Internal: the I/O manager. One epoll instance per run; at most one waiting
// task per fd and direction; one-shot interests re-armed per wait.
//
// Threads: wait() touches only the epoll fd and the caller's buffer, so the
// guest driver may run it on its worker thread while the run's thread is
// idle. Everything else runs on the run's thread, never during a wait()
// except epoll_ctl, which the kernel makes safe against a concurrent wait.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <span>
#include <utility>
#include <vector>

#include "trellis/clock.hpp"
#include "trellis/detail/task_state.hpp"

namespace trellis::detail {

class runner;

class io_manager {
public:
    // wake_fd: an fd (the entry queue's eventfd) to watch permanently;
    // dispatch() reports when it fired.
    explicit io_manager(int wake_fd);
    ~io_manager();
    io_manager(const io_manager&) = delete;
    io_manager& operator=(const io_manager&) = delete;

    // Waits up to `timeout` (duration::max(): no limit; zero: poll) and
    // replaces `events` with what arrived. Retries on EINTR.
    void wait(duration timeout, std::vector<epoll_event>& events) const;

    // Wakes the tasks the events are for. Returns true if the wake fd was
    // among them.
    bool dispatch(std::span<const epoll_event> events, runner& r);

    // Registers `task` as the waiter for fd in one direction. Throws
    // busy_resource_error if there is one already, std::system_error if fd
    // cannot be polled.
    void add_waiter(int fd, bool writable, task_state& task);
    // Forgets the waiter (its wait was cancelled).
    void remove_waiter(int fd, bool writable) noexcept;
    // Wakes both waiters of fd with closed_resource_error and drops fd.
    void notify_closing(int fd, runner& r);

    // The epoll instance itself, for a host loop to watch (host-native
    // guest runs): readable when a wait() would find something.
    int fd() const noexcept { return epfd_; }

    // How many tasks wait on an fd, in either direction.
    std::size_t waiter_count() const noexcept { return waiters_; }
    // How many of them wait to read, and to write (scans every fd: for
    // statistics, not for hot paths).
    std::pair<std::size_t, std::size_t> waiters_by_direction() const noexcept;

private:
    struct fd_waiters {
        task_state* reader = nullptr;
        task_state* writer = nullptr;
        // The interest currently armed in the kernel (0 when disarmed).
        std::uint32_t armed = 0;
    };
    // Makes the kernel interest match the waiters; throws std::system_error.
    void update(int fd);
    fd_waiters& slot(int fd);

    static constexpr int max_events = 256;

    int epfd_;
    int wake_fd_;
    // What the kernel fills in during wait(); the caller's vector then gets
    // a copy of just the events that arrived. Waiting straight into the
    // caller's vector would mean growing it to max_events first, which
    // zero-fills some 3 KB on every wait. At most one wait is in flight at a
    // time, so one buffer serves every thread that waits.
    mutable std::array<epoll_event, max_events> buffer_;
    std::vector<fd_waiters> fds_;  // indexed by fd
    std::size_t waiters_ = 0;
};

}  // namespace trellis::detail
