// Time in trellis: one time_point type, and the pluggable clock a run reads
// it from.
//
// Deadlines are trellis::time_point values. `inf` (no deadline) and `neg_inf`
// (already expired) are the two ends of the range; arithmetic near them
// saturates instead of overflowing. A run reads time only through its clock,
// so a testing::mock_clock can make virtual hours pass in microseconds.
#pragma once

#include <chrono>

namespace trellis {

using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

inline constexpr time_point inf = time_point::max();
inline constexpr time_point neg_inf = time_point::min();

// The interface a run uses to read time. Implementations are used only on the
// run's thread, except where a subclass says otherwise.
class clock {
public:
    virtual ~clock() = default;
    // Called once when a run using this clock starts, on the run's thread.
    virtual void start_clock() {}
    // Called once when that run finishes.
    virtual void stop_clock() {}
    // The current time on this clock.
    virtual time_point current_time() = 0;
    // How long, in real time, the run may wait before `deadline` is reached on
    // this clock. duration::max() means "no limit from the clock".
    virtual duration deadline_to_sleep_time(time_point deadline) = 0;
    // Autojump, for clocks that can move by themselves (testing::mock_clock):
    // once every task has been blocked for this long in real time, the run
    // calls autojump(earliest deadline). duration::max() (the default): never.
    // Read at every step that goes idle; a clock that changes it while the
    // run waits should wake the run (its token's run_sync_soon does).
    virtual duration autojump_threshold() const { return duration::max(); }
    virtual void autojump(time_point /*next_deadline*/) {}
};

// The default clock: std::chrono::steady_clock.
class system_clock final : public clock {
public:
    time_point current_time() override;
    duration deadline_to_sleep_time(time_point deadline) override;
};

// The current time on the run's clock. Not a checkpoint. Throws run_error
// outside a run.
time_point current_time();

namespace lowlevel {
// The clock of the run on this thread. Not a checkpoint. Throws run_error
// outside a run.
trellis::clock& current_clock();
}  // namespace lowlevel

namespace detail {
// t + d, clamped to [neg_inf, inf].
time_point saturating_add(time_point t, duration d) noexcept;
// Throws std::invalid_argument naming `caller` if `d` is negative.
void check_timeout(duration d, const char* caller);
}  // namespace detail

}  // namespace trellis
