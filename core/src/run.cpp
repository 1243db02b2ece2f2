// The run() driver: steps the runner and blocks in epoll on this thread.

#include <vector>

#include "runner.hpp"

namespace trellis::detail {

std::exception_ptr drive_run(const run_options& options, std::function<task<>()> main) {
    runner r(options);
    r.start(std::move(main));
    std::vector<epoll_event> events;
    for (;;) {
        const duration timeout = r.step(events);
        if (r.done()) break;
        r.before_io_wait(timeout);
        if (timeout == duration::zero() && !r.io_poll_useful())
            events.clear();
        else
            r.io().wait(timeout, events);
        r.after_io_wait(timeout);
    }
    r.finish();
    return r.crash_error();
}

}  // namespace trellis::detail
