// Waiting for file descriptors: wait_readable, wait_writable, notify_closing.
//
// Each fd has at most one waiting task per direction; a second one gets
// busy_resource_error. Registrations are one-shot epoll interests, made when
// a task starts waiting and dropped when it stops, so an fd nobody waits on
// costs nothing. The fd stays owned by the caller: trellis never closes it.
// Before closing an fd that a task may be waiting on, call notify_closing so
// the waiter wakes with closed_resource_error instead of waiting forever.
#pragma once

#include <coroutine>

#include "trellis/detail/blocking.hpp"

namespace trellis {

namespace detail {
class [[nodiscard("co_await the wait: on its own the call does nothing")]] io_awaiter
    : public blocking_awaiter<io_awaiter> {
public:
    io_awaiter(int fd, bool writable) noexcept : fd_(fd), writable_(writable) {}
    const char* operation() const noexcept {
        return writable_ ? "trellis::wait_writable" : "trellis::wait_readable";
    }
    void enqueue(task_state& task);
    lowlevel::abort_result abort(const std::exception_ptr&) noexcept;

private:
    int fd_;
    bool writable_;
};
}  // namespace detail

// co_await wait_readable(fd): blocks until fd is readable (or has hung up or
// failed). A checkpoint. Throws busy_resource_error if another task waits to
// read fd, closed_resource_error if notify_closing(fd) is called while
// waiting, std::system_error if fd is not a valid pollable descriptor, and
// run_error outside a task.
inline detail::io_awaiter wait_readable(int fd) noexcept { return {fd, false}; }
// The same for writability.
inline detail::io_awaiter wait_writable(int fd) noexcept { return {fd, true}; }

namespace lowlevel {
// Tells the run that fd is about to be closed: tasks waiting on it wake with
// closed_resource_error, and its registration is dropped. Not a checkpoint.
// Throws run_error outside a run.
void notify_closing(int fd);
}  // namespace lowlevel

// Also reachable without the lowlevel prefix, as in Trio's trio.lowlevel.
namespace lowlevel {
using trellis::wait_readable;
using trellis::wait_writable;
}  // namespace lowlevel

}  // namespace trellis
