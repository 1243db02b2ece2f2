// wait_readable / wait_writable / notify_closing: the task side of the I/O
// manager (epoll.hpp).

#include "trellis/io.hpp"

#include "runner.hpp"

namespace trellis {

namespace detail {

void io_awaiter::enqueue(task_state& task) { task.owner->io().add_waiter(fd_, writable_, task); }

lowlevel::abort_result io_awaiter::abort(const std::exception_ptr&) noexcept {
    task_->owner->io().remove_waiter(fd_, writable_);
    return lowlevel::abort_result::succeeded;
}

}  // namespace detail

void lowlevel::notify_closing(int fd) {
    auto& r = detail::current_runner_or_throw("lowlevel::notify_closing");
    r.io().notify_closing(fd, r);
}

}  // namespace trellis
