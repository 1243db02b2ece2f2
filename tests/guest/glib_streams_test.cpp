// The stream checkers in a guest run on a real GLib main context.
#include <trellis/glib.hpp>

#include <utility>

#include "stream_checks.hpp"
#include "glib_loop.hpp"

namespace glib_streams_test {

// A private main context per test, pushed as the thread-default one.
template <trellis::guest_io_mode Mode>
class glib_host {
public:
    // The runs' options: the I/O mode under test.
    static trellis::run_options options() {
        trellis::run_options o;
        o.guest_io = Mode;
        return o;
    }
    glib_host() : context_(g_main_context_new()) { g_main_context_push_thread_default(context_); }
    ~glib_host() {
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(context_);
    }
    glib_host(const glib_host&) = delete;
    glib_host& operator=(const glib_host&) = delete;

    template <class Done, class F>
    void start(Done done, F fn) {
        (void)trellis::glib::start_guest_run(context_, options(), std::move(done), std::move(fn));
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_glib_until(context_, pred, timeout);
    }

private:
    GMainContext* context_;
};

}  // namespace glib_streams_test

namespace stream_checks {
INSTANTIATE_TYPED_TEST_SUITE_P(Glib, GuestStreamChecks,
                               ::testing::Types<glib_streams_test::glib_host<trellis::guest_io_mode::worker_thread>>);
INSTANTIATE_TYPED_TEST_SUITE_P(GlibNative, GuestStreamChecks,
                               ::testing::Types<glib_streams_test::glib_host<trellis::guest_io_mode::host_native>>);
}
