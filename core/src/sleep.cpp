// sleep, sleep_until, sleep_forever: a blocked task and, for a finite
// deadline, a timer on the runner's deadline heap that reschedules it.

#include "trellis/sleep.hpp"

#include "runner.hpp"

namespace trellis {

namespace detail {

namespace {
void wake_sleeper(timer& alarm) {
    auto* t = static_cast<task_state*>(alarm.owner);
    t->owner->reschedule(*t, nullptr);
}
}  // namespace

template <sleep_call Call>
sleep_awaiter<Call>::~sleep_awaiter() {
    if (alarm_.armed()) this->task_->owner->disarm_timer(alarm_);
}

template <sleep_call Call>
void sleep_awaiter<Call>::enqueue(task_state& task) {
    if (deadline_ == inf) return;
    alarm_.fire = &wake_sleeper;
    alarm_.owner = &task;
    task.owner->arm_timer(alarm_, deadline_);
}

template <sleep_call Call>
lowlevel::abort_result sleep_awaiter<Call>::abort(const std::exception_ptr&) noexcept {
    this->task_->owner->disarm_timer(alarm_);
    return lowlevel::abort_result::succeeded;
}

template class sleep_awaiter<sleep_call::sleep>;
template class sleep_awaiter<sleep_call::sleep_until>;
template class sleep_awaiter<sleep_call::sleep_forever>;

}  // namespace detail

detail::sleep_awaiter<detail::sleep_call::sleep> sleep(duration d) {
    detail::check_timeout(d, "trellis::sleep");
    // A sleep that starts now and ends at a deadline: the deadline is
    // computed when the awaitable is created, which is when it is awaited in
    // `co_await sleep(d)`.
    const time_point now = detail::current_runner_or_throw("trellis::sleep").now();
    return detail::sleep_awaiter<detail::sleep_call::sleep>(detail::saturating_add(now, d));
}

}  // namespace trellis
