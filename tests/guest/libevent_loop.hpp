// Test helper: runs a real libevent event_base until a condition holds, for
// the libevent guest tests.
#pragma once

#include <event2/event.h>
#include <sys/time.h>

#include <chrono>
#include <functional>

namespace guest_test {

inline timeval to_timeval(std::chrono::milliseconds d) {
    return timeval{static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

// Runs `base` until pred() holds or `timeout` passes; returns pred().
inline bool run_libevent_until(event_base* base, const std::function<bool()>& pred,
                               std::chrono::milliseconds timeout) {
    bool timed_out = false;
    event* timer = evtimer_new(
        base, [](evutil_socket_t, short, void* flag) { *static_cast<bool*>(flag) = true; }, &timed_out);
    const timeval tv = to_timeval(timeout);
    evtimer_add(timer, &tv);
    while (!pred() && !timed_out) event_base_loop(base, EVLOOP_ONCE);
    event_free(timer);
    return pred();
}

}  // namespace guest_test
