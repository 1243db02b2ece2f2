// The stream checkers in a guest run on a real libevent event_base.
#include <event2/thread.h>

#include <trellis/libevent.hpp>

#include <utility>

#include "stream_checks.hpp"
#include "libevent_loop.hpp"

namespace libevent_streams_test {

// A base of its own per test, with libevent's threading turned on first
// (the adapter needs it; it is process-wide).
template <trellis::guest_io_mode Mode>
class libevent_host {
public:
    // The runs' options: the I/O mode under test.
    static trellis::run_options options() {
        trellis::run_options o;
        o.guest_io = Mode;
        return o;
    }
    libevent_host() {
        static const bool threading = evthread_use_pthreads() == 0;
        EXPECT_TRUE(threading) << "evthread_use_pthreads failed";
        base_ = event_base_new();
    }
    ~libevent_host() {
        trellis::libevent::release_base(base_);
        event_base_free(base_);
    }
    libevent_host(const libevent_host&) = delete;
    libevent_host& operator=(const libevent_host&) = delete;

    template <class Done, class F>
    void start(Done done, F fn) {
        (void)trellis::libevent::start_guest_run(base_, options(), std::move(done), std::move(fn));
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_libevent_until(base_, pred, timeout);
    }

private:
    event_base* base_ = nullptr;
};

}  // namespace libevent_streams_test

namespace stream_checks {
INSTANTIATE_TYPED_TEST_SUITE_P(Libevent, GuestStreamChecks,
                               ::testing::Types<libevent_streams_test::libevent_host<trellis::guest_io_mode::worker_thread>>);
INSTANTIATE_TYPED_TEST_SUITE_P(LibeventNative, GuestStreamChecks,
                               ::testing::Types<libevent_streams_test::libevent_host<trellis::guest_io_mode::host_native>>);
}
