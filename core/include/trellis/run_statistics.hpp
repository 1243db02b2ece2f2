// trellis::lowlevel::current_statistics(): a snapshot of what the run's
// scheduler is holding, for debugging and monitoring (Trio's
// current_statistics).
#pragma once

#include <cstddef>

#include "trellis/clock.hpp"

namespace trellis::lowlevel {

struct io_statistics {
    // Tasks blocked in wait_readable / wait_writable.
    std::size_t tasks_waiting_read = 0;
    std::size_t tasks_waiting_write = 0;
    // The kernel interface trellis waits with.
    const char* backend = "epoll";
};

struct run_statistics {
    // Tasks that have been spawned and not yet exited, including the root
    // task and system tasks.
    std::size_t tasks_living = 0;
    // Tasks waiting to run in the next batch.
    std::size_t tasks_runnable = 0;
    // How long until the earliest deadline (a sleep, a cancel scope), on the
    // run's clock; duration::max() if there is none.
    duration time_to_next_deadline = duration::max();
    // Callbacks posted with token::run_sync_soon and not yet run.
    std::size_t run_sync_soon_queue_size = 0;
    io_statistics io;
};

// A snapshot of the current run. Not a checkpoint; never blocks. Throws
// run_error outside a run. Use only on the run's thread.
run_statistics current_statistics();

}  // namespace trellis::lowlevel
