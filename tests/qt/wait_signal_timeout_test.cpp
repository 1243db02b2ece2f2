// qt::wait_signal's timeout form, on the real Qt loop with a mock clock.
#include <trellis/qt.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/trellis.hpp>

#include <QMetaMethod>
#include <QObject>
#include <QTimer>

using namespace std::chrono_literals;

namespace {

// A QObject whose isSignalConnected the test may call (it is protected).
class listened_object : public QObject {
public:
    using QObject::isSignalConnected;
    bool name_listened() const { return isSignalConnected(QMetaMethod::fromSignal(&QObject::objectNameChanged)); }
};

}  // namespace

TRELLIS_QT_TEST_MOCK_CLOCK(QtWaitSignalTimeout, NoEmissionInTimeThrowsTooSlowAtTheDeadline, clock) {
    listened_object sender;
    const auto start = trellis::current_time();
    bool too_slow = false;
    try {
        co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged, 500ms);
    } catch (const trellis::too_slow_error&) {
        too_slow = true;
    }
    EXPECT_TRUE(too_slow);
    EXPECT_EQ(trellis::current_time() - start, 500ms);
    EXPECT_EQ(clock.current_time(), trellis::current_time());
    EXPECT_FALSE(sender.name_listened());
}

TRELLIS_QT_TEST(QtWaitSignalTimeout, AnEmissionInTimeReturnsItsValue) {
    listened_object sender;
    QTimer::singleShot(1ms, [&] { sender.setObjectName("in time"); });
    QString name = co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged, 10s);
    EXPECT_EQ(name.toStdString(), "in time");
}

TRELLIS_QT_TEST(QtWaitSignalTimeout, ASignalWithoutArgumentsReturnsNothing) {
    QTimer timer;
    timer.setSingleShot(true);
    timer.start(1ms);
    co_await trellis::qt::wait_signal(&timer, &QTimer::timeout, 10s);
    EXPECT_FALSE(timer.isActive());
}

TRELLIS_QT_TEST(QtWaitSignalTimeout, NegativeTimeoutIsRejectedAtOnce) {
    listened_object sender;
    EXPECT_THROW((void)trellis::qt::wait_signal(&sender, &QObject::objectNameChanged, -1ms), std::invalid_argument);
    co_return;
}
