// trellis::testing::mock_clock: a clock for tests, under the test's control.
//
// Virtual time starts at time_point{} (zero) and advances by `rate` virtual
// seconds per real second (default 0: it stands still) plus whatever jump()
// adds. With an autojump threshold set, whenever every task has been blocked
// for that long in real time, the clock jumps straight to the next deadline;
// a threshold of zero makes sleeps finish as soon as nothing else can run,
// so a test of an hour-long timeout takes microseconds.
//
// Use a mock_clock on the run's thread only, and in one run at a time.
#pragma once

#include <chrono>
#include <optional>

#include "trellis/clock.hpp"
#include "trellis/token.hpp"

namespace trellis::testing {

class mock_clock final : public clock {
public:
    // Throws std::invalid_argument if rate or autojump_threshold is negative.
    explicit mock_clock(double rate = 0.0, duration autojump_threshold = duration::max());

    time_point current_time() override;
    duration deadline_to_sleep_time(time_point deadline) override;
    void start_clock() override;
    void stop_clock() override;
    duration autojump_threshold() const override { return autojump_threshold_; }
    // Moves virtual time to `next_deadline` (the run calls it when idle).
    void autojump(time_point next_deadline) override;

    double rate() const noexcept { return rate_; }
    // Throws std::invalid_argument if rate is negative.
    void set_rate(double rate);

    // duration::max() disables autojump. Takes effect at once in a live run.
    // Throws std::invalid_argument if negative.
    void set_autojump_threshold(duration threshold);

    // Advances virtual time by d; a live run notices at once. Throws
    // std::invalid_argument if negative (time never goes backwards).
    void jump(duration d);

private:
    // Makes a live run look at the clock again.
    void wake_run() const;

    using real_clock = std::chrono::steady_clock;
    time_point virtual_base_{};
    real_clock::time_point real_base_ = real_clock::now();
    double rate_;
    duration autojump_threshold_;
    // The run using the clock, between start_clock and stop_clock.
    std::optional<token> run_;
};

}  // namespace trellis::testing
