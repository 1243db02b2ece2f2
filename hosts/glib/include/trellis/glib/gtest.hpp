// GoogleTest helpers for GLib and GTK code: run a coroutine test body as a
// guest run on a real GLib main loop, where the code under test will run
// in the app.
//
//   TRELLIS_GLIB_TEST(Settings, SavesOnChange) {
//       co_await trellis::glib::wait_signal(settings, "changed::volume");
//       EXPECT_TRUE(...);
//   }
//   TRELLIS_GLIB_TEST_MOCK_CLOCK(Download, GivesUpAfterAMinute, clock) {
//       co_await trellis::sleep(1min);  // instant: autojump
//   }
//
// Each test gets a new GMainContext, pushed as the thread-default context
// for the test's duration (so GIO operations started by the test deliver
// their results there, and nothing leaks into the next test), and runs
// glib::run on it: idle sources, timeouts, GIO callbacks and the run's
// steps are dispatched as in the app.
//
// As with TRELLIS_TEST (trellis/testing/gtest.hpp), whose watchdog this
// shares: use EXPECT_* inside bodies (ASSERT_* and FAIL() expand to
// `return`, which a coroutine cannot use); a body still running after
// `timeout` of real time is failed by the watchdog instead of hanging; an
// error escaping the body is a test failure.
#pragma once

#include <glib.h>

#include <chrono>
#include <exception>
#include <memory>

#include "trellis/glib.hpp"
#include "trellis/run.hpp"
#include "trellis/task.hpp"
#include "trellis/testing/gtest.hpp"
#include "trellis/testing/mock_clock.hpp"
#include "trellis/token.hpp"

namespace trellis::glib::testing {

// Runs body() as the main task of a GLib guest run with `options`, on a new
// GMainContext made thread-default meanwhile, until the run is over;
// reports an escaping error as a test failure. Not a coroutine: call it
// from a TEST body.
template <class Body>
void run_test(Body body, run_options options = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    trellis::detail::test_watchdog dog(timeout);
    GMainContext* context = g_main_context_new();
    g_main_context_push_thread_default(context);
    auto test_main = [&]() -> task<> {
        dog.arm(current_token());
        co_await body();
    };
    try {
        glib::run(options, test_main);
    } catch (...) {
        trellis::detail::report_test_error(std::current_exception());
    }
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
}

// Runs body(clock) with a mock_clock whose autojump threshold is zero.
template <class Body>
void run_test_with_mock_clock(Body body, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto clock = std::make_shared<trellis::testing::mock_clock>(0.0, duration::zero());
    run_options options;
    options.clock = clock;
    glib::testing::run_test([&]() { return body(*clock); }, options, timeout);
}

}  // namespace trellis::glib::testing

#define TRELLIS_GLIB_TEST(suite, name)                                                             \
    static ::trellis::task<> suite##_##name##_trellis_glib_body();                                \
    TEST(suite, name) { ::trellis::glib::testing::run_test(&suite##_##name##_trellis_glib_body); } \
    static ::trellis::task<> suite##_##name##_trellis_glib_body()

#define TRELLIS_GLIB_TEST_MOCK_CLOCK(suite, name, clock)                                              \
    static ::trellis::task<> suite##_##name##_trellis_glib_body(::trellis::testing::mock_clock&);    \
    TEST(suite, name) {                                                                               \
        ::trellis::glib::testing::run_test_with_mock_clock(&suite##_##name##_trellis_glib_body);     \
    }                                                                                                 \
    static ::trellis::task<> suite##_##name##_trellis_glib_body(::trellis::testing::mock_clock& clock)
