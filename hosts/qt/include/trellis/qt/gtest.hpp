// GoogleTest helpers for Qt code: run a coroutine test body as a guest run
// on the real Qt event loop, where the code under test will run in the app.
//
//   TRELLIS_QT_TEST(Fetch, ShowsTheResult) {
//       co_await trellis::qt::wait_signal(&timer, &QTimer::timeout);
//       EXPECT_TRUE(...);
//   }
//   TRELLIS_QT_TEST_MOCK_CLOCK(Dialog, GivesUpAfterAMinute, clock) {
//       co_await trellis::sleep(1min);  // instant: autojump
//   }
//
// Each test is one trellis::qt::start_guest_run on the QCoreApplication's
// thread, and the helper runs a QEventLoop until the run is over, so
// timers, queued connections, posted events and the run's steps are
// delivered as in the app. If no QCoreApplication exists, the first test
// creates one (a plain QCoreApplication, kept until the process exits);
// tests that need widgets create a QApplication first (in main(), or a
// ::testing::Environment) and, on a machine without a display, run with
// QT_QPA_PLATFORM=offscreen.
//
// As with TRELLIS_TEST (trellis/testing/gtest.hpp), whose watchdog this
// shares: use EXPECT_* inside bodies (ASSERT_* and FAIL() expand to
// `return`, which a coroutine cannot use); a body still running after
// `timeout` of real time is failed by the watchdog instead of hanging; an
// error escaping the body is a test failure. Call the functions on the
// application's thread (gtest's main thread).
#pragma once

#include <QCoreApplication>
#include <QEventLoop>

#include <chrono>
#include <exception>
#include <memory>

#include "trellis/outcome.hpp"
#include "trellis/qt.hpp"
#include "trellis/run.hpp"
#include "trellis/task.hpp"
#include "trellis/testing/gtest.hpp"
#include "trellis/testing/mock_clock.hpp"
#include "trellis/token.hpp"

namespace trellis::qt::testing {

// The QCoreApplication the tests run on: the existing one, or one created
// on first use (with a single argument, "trellis-qt-test") that lives until
// the process exits. Not a checkpoint; call it on the main thread.
inline QCoreApplication& application() {
    if (QCoreApplication* app = QCoreApplication::instance()) return *app;
    static int argc = 1;
    static char name[] = "trellis-qt-test";
    static char* argv[] = {name, nullptr};
    static std::unique_ptr<QCoreApplication> owned = std::make_unique<QCoreApplication>(argc, argv);
    return *owned;
}

// Runs body() as the main task of a Qt guest run with `options`, on the
// application's loop, until the run is over; reports an escaping error as
// a test failure. Not a coroutine: call it from a TEST body.
template <class Body>
void run_test(Body body, run_options options = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    application();
    trellis::detail::test_watchdog dog(timeout);
    bool done = false;
    std::exception_ptr error;
    QEventLoop loop;
    auto test_main = [&]() -> task<> {
        dog.arm(current_token());
        co_await body();
    };
    try {
        qt::start_guest_run(options, [&](outcome<void> o) {
            if (o.has_error()) error = o.error();
            done = true;
            loop.quit();
        }, test_main);
    } catch (...) {
        trellis::detail::report_test_error(std::current_exception());
        return;
    }
    while (!done) loop.exec();
    if (error) trellis::detail::report_test_error(error);
}

// Runs body(clock) with a mock_clock whose autojump threshold is zero.
template <class Body>
void run_test_with_mock_clock(Body body, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto clock = std::make_shared<trellis::testing::mock_clock>(0.0, duration::zero());
    run_options options;
    options.clock = clock;
    qt::testing::run_test([&]() { return body(*clock); }, options, timeout);
}

}  // namespace trellis::qt::testing

#define TRELLIS_QT_TEST(suite, name)                                                           \
    static ::trellis::task<> suite##_##name##_trellis_qt_body();                              \
    TEST(suite, name) { ::trellis::qt::testing::run_test(&suite##_##name##_trellis_qt_body); } \
    static ::trellis::task<> suite##_##name##_trellis_qt_body()

#define TRELLIS_QT_TEST_MOCK_CLOCK(suite, name, clock)                                                \
    static ::trellis::task<> suite##_##name##_trellis_qt_body(::trellis::testing::mock_clock&);      \
    TEST(suite, name) {                                                                               \
        ::trellis::qt::testing::run_test_with_mock_clock(&suite##_##name##_trellis_qt_body);         \
    }                                                                                                 \
    static ::trellis::task<> suite##_##name##_trellis_qt_body(::trellis::testing::mock_clock& clock)
