// TRELLIS_QT_TEST runs its body as a guest run on the real Qt loop.
#include <trellis/qt.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/trellis.hpp>

#include <QCoreApplication>
#include <QThread>
#include <QTimer>

#include <gtest/gtest-spi.h>

using namespace std::chrono_literals;

TRELLIS_QT_TEST(QtTestHelper, BodyRunsOnTheApplicationsThreadInsideItsEventLoop) {
    EXPECT_NE(QCoreApplication::instance(), nullptr);
    EXPECT_EQ(QThread::currentThread(), QCoreApplication::instance()->thread());
    EXPECT_GT(QThread::currentThread()->loopLevel(), 0);
    co_return;
}

TRELLIS_QT_TEST(QtTestHelper, QtTimersFireWhileTheBodyWaits) {
    QTimer timer;
    timer.setSingleShot(true);
    timer.start(1ms);
    co_await trellis::qt::wait_signal(&timer, &QTimer::timeout);
    EXPECT_FALSE(timer.isActive());
}

TRELLIS_QT_TEST_MOCK_CLOCK(QtTestHelper, MockClockVariantAutojumps, clock) {
    const auto start = trellis::current_time();
    co_await trellis::sleep(1h);
    EXPECT_EQ(trellis::current_time() - start, 1h);
    EXPECT_EQ(clock.current_time(), trellis::current_time());
}

TEST(QtTestHelper, AnErrorEscapingTheBodyFailsTheTest) {
    EXPECT_NONFATAL_FAILURE(trellis::qt::testing::run_test([]() -> trellis::task<> {
        co_await trellis::checkpoint();
        throw std::runtime_error("boom from the body");
    }), "boom from the body");
}

TEST(QtTestHelper, WatchdogFailsABodyThatOutlivesItsTimeout) {
    EXPECT_NONFATAL_FAILURE(trellis::qt::testing::run_test([]() -> trellis::task<> { co_await trellis::sleep_forever(); },
                                                           {}, 30ms),
                            "cancelled by the watchdog");
}
