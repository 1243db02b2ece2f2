// trellis::lowlevel::start_thread_soon: the process-wide cache of worker
// threads that to_thread::run_sync runs its jobs on.
//
// The cache is an unbounded pool: a job goes to an idle worker if there is
// one (the most recently idle first, so a few threads do most of the work
// and the rest can retire), else to a new thread. A worker that stays idle
// for the idle timeout (10 s unless changed) exits. Limiting how many jobs
// run at once is the caller's business (to_thread::run_sync uses a
// capacity_limiter).
//
// Ownership and lifetime: one cache per process, shared by every run; it is
// never destroyed. Its threads are detached: at process exit, idle workers
// are still blocked waiting for work and simply end with the process, and a
// job still running is cut short with it (make sure the work you care
// about has finished before main returns).
// Threads: every function here may be called from any thread. None is a
// trellis operation; none is a checkpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace trellis::lowlevel {

// Runs fn() and then deliver() on a worker thread, soon. Before deliver()
// runs, the worker is already back in the cache, so a job that deliver()
// causes to be submitted (say, the next step of a sequence) can reuse the
// same thread instead of starting another. Typically fn does blocking work
// and deliver hands the result to whoever waits for it; deliver must not
// block. Neither may throw (an exception escaping either terminates the
// process). Workers are reused: a job that changes thread-local state
// should undo it before it returns.
//
// Does not block. Throws std::system_error if a new thread was needed and
// could not be started (fn and deliver then never run). Thread-safe.
void start_thread_soon(std::function<void()> fn, std::function<void()> deliver);

struct thread_cache_statistics {
    std::size_t threads = 0;       // workers alive, busy or idle
    std::size_t idle_threads = 0;  // workers waiting for a job
};

// A snapshot of the cache. Thread-safe.
thread_cache_statistics current_thread_cache_statistics();

// How long a worker waits for a new job before it exits. Applies from each
// worker's next idle period on. Throws std::invalid_argument if negative.
// Thread-safe.
void set_thread_cache_idle_timeout(std::chrono::nanoseconds timeout);
std::chrono::nanoseconds thread_cache_idle_timeout();

}  // namespace trellis::lowlevel
