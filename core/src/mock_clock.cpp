#include "trellis/testing/mock_clock.hpp"

#include <cmath>
#include <stdexcept>

#include "trellis/errors.hpp"

namespace trellis::testing {

mock_clock::mock_clock(double rate, duration autojump_threshold)
    : rate_(rate), autojump_threshold_(autojump_threshold) {
    if (rate < 0) throw std::invalid_argument("testing::mock_clock: rate must not be negative");
    if (autojump_threshold < duration::zero())
        throw std::invalid_argument("testing::mock_clock: autojump threshold must not be negative");
}

time_point mock_clock::current_time() {
    if (rate_ == 0.0) return virtual_base_;
    const auto real_elapsed = std::chrono::duration<double, std::nano>(real_clock::now() - real_base_);
    return trellis::detail::saturating_add(virtual_base_,
                                           duration(static_cast<duration::rep>(real_elapsed.count() * rate_)));
}

duration mock_clock::deadline_to_sleep_time(time_point deadline) {
    const time_point now = current_time();
    if (deadline <= now) return duration::zero();
    if (rate_ == 0.0 || deadline == inf) return duration::max();
    const double real_ns = static_cast<double>((deadline - now).count()) / rate_;
    if (real_ns >= static_cast<double>(duration::max().count())) return duration::max();
    return duration(static_cast<duration::rep>(std::ceil(real_ns)));
}

void mock_clock::start_clock() { run_ = current_token(); }

void mock_clock::stop_clock() { run_.reset(); }

void mock_clock::autojump(time_point next_deadline) {
    const time_point now = current_time();
    if (next_deadline > now) virtual_base_ = trellis::detail::saturating_add(virtual_base_, next_deadline - now);
}

void mock_clock::wake_run() const {
    if (!run_) return;
    try {
        run_->run_sync_soon([] {});
    } catch (const run_error&) {
        // The run is finishing: nothing left to wake.
    }
}

void mock_clock::set_rate(double rate) {
    if (rate < 0) throw std::invalid_argument("mock_clock::set_rate: rate must not be negative");
    virtual_base_ = current_time();
    real_base_ = real_clock::now();
    rate_ = rate;
    wake_run();
}

void mock_clock::set_autojump_threshold(duration threshold) {
    if (threshold < duration::zero())
        throw std::invalid_argument("mock_clock::set_autojump_threshold: threshold must not be negative");
    autojump_threshold_ = threshold;
    wake_run();
}

void mock_clock::jump(duration d) {
    if (d < duration::zero()) throw std::invalid_argument("mock_clock::jump: cannot jump backwards in time");
    virtual_base_ = trellis::detail::saturating_add(virtual_base_, d);
    wake_run();
}

}  // namespace trellis::testing
