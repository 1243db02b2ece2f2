#include "trellis/io.hpp"

#include "runner.hpp"

namespace trellis {

namespace detail {

void io_awaiter::await_suspend(std::coroutine_handle<> self) {
    task = &current_task_or_throw(writable ? "trellis::wait_writable" : "trellis::wait_readable");
    runner& r = *task->runner_;
    r.io().add_waiter(fd, writable, *task);
    r.block(*task, self, abort_ref{this, [](void* me, const std::exception_ptr&) {
                                       auto* a = static_cast<io_awaiter*>(me);
                                       a->task->runner_->io().remove_waiter(a->fd, a->writable);
                                       return lowlevel::abort_result::succeeded;
                                   }});
}

}  // namespace detail

void lowlevel::notify_closing(int fd) {
    auto& r = detail::current_runner_or_throw("lowlevel::notify_closing");
    r.io().notify_closing(fd, r);
}

}  // namespace trellis
