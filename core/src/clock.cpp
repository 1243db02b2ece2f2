#include "trellis/clock.hpp"

#include <cmath>
#include <stdexcept>

#include "runner.hpp"
#include "trellis/testing/mock_clock.hpp"

namespace trellis {

time_point system_clock::current_time() {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
}

duration system_clock::deadline_to_sleep_time(time_point deadline) {
    if (deadline == inf) return duration::max();
    const time_point now = current_time();
    // Also keeps neg_inf - now from overflowing.
    if (deadline <= now) return duration::zero();
    return deadline - now;
}

time_point detail::saturating_add(time_point t, duration d) noexcept {
    const auto r = t.time_since_epoch().count();
    const auto add = d.count();
    using limits = std::numeric_limits<duration::rep>;
    if (add > 0 && r > limits::max() - add) return inf;
    if (add < 0 && r < limits::min() - add) return neg_inf;
    return t + d;
}

namespace testing {

mock_clock::mock_clock(double rate, duration autojump_threshold)
    : rate_(rate), autojump_threshold_(autojump_threshold) {
    if (rate < 0) throw std::invalid_argument("mock_clock: rate must not be negative");
    if (autojump_threshold < duration::zero())
        throw std::invalid_argument("mock_clock: autojump threshold must not be negative");
}

time_point mock_clock::current_time() {
    if (rate_ == 0.0) return virtual_base_;
    const auto real_elapsed = std::chrono::duration<double, std::nano>(real_clock::now() - real_base_);
    return detail::saturating_add(virtual_base_, duration(static_cast<duration::rep>(real_elapsed.count() * rate_)));
}

duration mock_clock::deadline_to_sleep_time(time_point deadline) {
    const time_point now = current_time();
    if (deadline <= now) return duration::zero();
    if (rate_ == 0.0 || deadline == inf) return duration::max();
    const double real_ns = static_cast<double>((deadline - now).count()) / rate_;
    if (real_ns >= static_cast<double>(duration::max().count())) return duration::max();
    return duration(static_cast<duration::rep>(std::ceil(real_ns)));
}

void mock_clock::start_clock() {
    runner_ = detail::current_runner_or_null();
    if (runner_) runner_->set_autojump_threshold(autojump_threshold_);
}

void mock_clock::stop_clock() { runner_ = nullptr; }

void mock_clock::set_rate(double rate) {
    if (rate < 0) throw std::invalid_argument("mock_clock::set_rate: rate must not be negative");
    virtual_base_ = current_time();
    real_base_ = real_clock::now();
    rate_ = rate;
}

void mock_clock::set_autojump_threshold(duration threshold) {
    if (threshold < duration::zero())
        throw std::invalid_argument("mock_clock::set_autojump_threshold: threshold must not be negative");
    autojump_threshold_ = threshold;
    if (runner_) runner_->set_autojump_threshold(threshold);
}

void mock_clock::jump(duration d) {
    if (d < duration::zero()) throw std::invalid_argument("mock_clock::jump: cannot jump backwards in time");
    virtual_base_ = detail::saturating_add(virtual_base_, d);
    if (runner_) runner_->note_outside_change();
}

}  // namespace testing
}  // namespace trellis
