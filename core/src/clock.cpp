#include "trellis/clock.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "runner.hpp"

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

time_point current_time() { return detail::current_runner_or_throw("trellis::current_time").now(); }

clock& lowlevel::current_clock() { return detail::current_runner_or_throw("lowlevel::current_clock").clock(); }

time_point detail::saturating_add(time_point t, duration d) noexcept {
    const auto r = t.time_since_epoch().count();
    const auto add = d.count();
    using limits = std::numeric_limits<duration::rep>;
    if (add > 0 && r > limits::max() - add) return inf;
    if (add < 0 && r < limits::min() - add) return neg_inf;
    return t + d;
}

void detail::check_timeout(duration d, const char* caller) {
    if (d < duration::zero())
        throw std::invalid_argument(std::string(caller) + ": the timeout must not be negative (got " +
                                    std::to_string(d.count()) + " ns)");
}

}  // namespace trellis
