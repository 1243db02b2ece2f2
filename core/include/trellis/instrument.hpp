// trellis::lowlevel::instrument: hooks into the scheduler, for tracing,
// profiling and tests.
//
// Override the hooks you need. They are called on the run's thread, in the
// order the events happen, and must not block or call trellis functions that
// could schedule. An instrument that throws is removed from the run and the
// error is printed to stderr; the run goes on. Instruments are owned by the
// caller (passed as shared_ptr in run_options or to add_instrument).
#pragma once

#include <memory>

#include "trellis/clock.hpp"
#include "trellis/task_handle.hpp"

namespace trellis::lowlevel {

class instrument {
public:
    virtual ~instrument() = default;
    virtual void before_run() {}
    virtual void after_run() {}
    virtual void task_spawned(task_handle) {}
    virtual void task_scheduled(task_handle) {}
    virtual void before_task_step(task_handle) {}
    virtual void after_task_step(task_handle) {}
    virtual void task_exited(task_handle) {}
    // `timeout` is how long the wait may last (duration::max(): no limit).
    virtual void before_io_wait(duration /*timeout*/) {}
    virtual void after_io_wait(duration /*timeout*/) {}
};

// Adds or removes an instrument in the current run. Not checkpoints. Throw
// run_error outside a run; remove_instrument also when it is not installed.
void add_instrument(std::shared_ptr<instrument> inst);
void remove_instrument(const std::shared_ptr<instrument>& inst);

}  // namespace trellis::lowlevel
