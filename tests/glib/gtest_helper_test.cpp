// TRELLIS_GLIB_TEST itself: bodies run as guest runs on a GLib main loop,
// on a context of their own, with the watchdog and the mock clock.
#include <gio/gio.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <trellis/glib/gtest.hpp>
#include <trellis/trellis.hpp>

using namespace std::chrono_literals;
using trellis::task;

TRELLIS_GLIB_TEST(GlibTestHelper, TheBodyRunsOnAFreshThreadDefaultContextThatTheLoopIterates) {
    GMainContext* context = g_main_context_get_thread_default();
    EXPECT_NE(context, nullptr);
    EXPECT_NE(context, g_main_context_default());
    EXPECT_TRUE(g_main_context_is_owner(context));
    // A GLib timeout on that context fires while the body waits.
    bool fired = false;
    GSource* timeout = g_timeout_source_new(1);
    g_source_set_callback(timeout, [](gpointer data) -> gboolean {
        *static_cast<bool*>(data) = true;
        return G_SOURCE_REMOVE;
    }, &fired, nullptr);
    g_source_attach(timeout, context);
    g_source_unref(timeout);
    while (!fired) co_await trellis::sleep(1ms);
    EXPECT_TRUE(fired);
}

TEST(GlibTestHelper, TheContextIsPoppedAfterTheTest) {
    EXPECT_EQ(g_main_context_get_thread_default(), nullptr);
}

TRELLIS_GLIB_TEST_MOCK_CLOCK(GlibTestHelper, TheMockClockAutojumps, clock) {
    const auto before = trellis::current_time();
    co_await trellis::sleep(1h);
    EXPECT_EQ(trellis::current_time() - before, trellis::duration(1h));
    EXPECT_EQ(clock.current_time(), trellis::current_time());
}

TEST(GlibTestHelper, AnErrorEscapingTheBodyFailsTheTest) {
    EXPECT_NONFATAL_FAILURE(trellis::glib::testing::run_test([]() -> task<> {
        throw std::runtime_error("broken on purpose");
        co_return;
    }), "broken on purpose");
}

TEST(GlibTestHelper, TheWatchdogFailsABodyThatNeverEnds) {
    EXPECT_NONFATAL_FAILURE(trellis::glib::testing::run_test([]() -> task<> { co_await trellis::sleep_forever(); },
                                                              {}, 50ms),
                            "cancelled by the watchdog");
}
