// qt::signal_channel: every emission lands in a channel, on the real Qt loop.
#include <trellis/qt.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/qt/signal_channel.hpp>
#include <trellis/trellis.hpp>

#include <QMetaMethod>
#include <QStringListModel>
#include <QThread>
#include <QTimer>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// A model whose dataChanged has three arguments, and objectNameChanged one.
void rename(QObject& o, const char* name) { o.setObjectName(QString::fromLatin1(name)); }


// A QObject whose isSignalConnected the test may call (it is protected).
class listened_object : public QObject {
public:
    using QObject::isSignalConnected;
    bool name_listened() const { return isSignalConnected(QMetaMethod::fromSignal(&QObject::objectNameChanged)); }
};

}  // namespace

TRELLIS_QT_TEST(QtSignalChannel, EmissionsBeforeTheFirstReceiveAreKeptInOrder) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
    rename(sender, "a");
    rename(sender, "b");
    rename(sender, "c");
    EXPECT_EQ((co_await names.receive()).toStdString(), "a");
    EXPECT_EQ((co_await names.receive()).toStdString(), "b");
    EXPECT_EQ((co_await names.receive()).toStdString(), "c");
}

TRELLIS_QT_TEST(QtSignalChannel, AReceiverWaitingIsWokenByTheNextEmission) {
    QTimer timer;
    timer.setSingleShot(true);
    auto ticks = trellis::qt::signal_channel(&timer, &QTimer::timeout);
    timer.start(1ms);
    std::optional<std::tuple<>> tick = co_await ticks.next();
    EXPECT_TRUE(tick.has_value());
}

TRELLIS_QT_TEST(QtSignalChannel, SeveralArgumentsArriveAsATuple) {
    QStringListModel model(QStringList{"x", "y"});
    auto changes = trellis::qt::signal_channel(&model, &QAbstractItemModel::dataChanged);
    model.setData(model.index(1), QString("z"));
    auto [top_left, bottom_right, roles] = co_await changes.receive();
    EXPECT_EQ(top_left.row(), 1);
    EXPECT_EQ(bottom_right.row(), 1);
    EXPECT_FALSE(roles.isEmpty());
}

TRELLIS_QT_TEST(QtSignalChannel, DestroyingTheSenderEndsTheChannelAfterEarlierEmissions) {
    auto sender = std::make_unique<QObject>();
    auto names = trellis::qt::signal_channel(sender.get(), &QObject::objectNameChanged);
    rename(*sender, "last");
    sender.reset();
    std::optional<QString> first = co_await names.next();
    EXPECT_TRUE(first && first->toStdString() == "last");
    std::optional<QString> end = co_await names.next();
    EXPECT_FALSE(end.has_value());
    bool threw = false;
    try {
        co_await names.receive();
    } catch (const trellis::end_of_channel&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

TRELLIS_QT_TEST(QtSignalChannel, SenderDestroyedWhileAReceiverWaitsEndsItsWait) {
    auto sender = std::make_unique<QObject>();
    auto names = trellis::qt::signal_channel(sender.get(), &QObject::objectNameChanged);
    QTimer::singleShot(1ms, [&] { sender.reset(); });
    std::optional<QString> end = co_await names.next();
    EXPECT_FALSE(end.has_value());
}

TRELLIS_QT_TEST(QtSignalChannel, OverflowDeliversTheBufferedEmissionsThenBreaksTheChannel) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged, 2);
    rename(sender, "1");
    rename(sender, "2");
    rename(sender, "3");  // a third waiting emission: over capacity
    rename(sender, "4");  // no longer connected
    EXPECT_EQ((co_await names.receive()).toStdString(), "1");
    EXPECT_EQ((co_await names.receive()).toStdString(), "2");
    std::string message;
    try {
        co_await names.next();
    } catch (const trellis::broken_resource_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("more than 2 emissions"), std::string::npos) << message;
}

TRELLIS_QT_TEST(QtSignalChannel, EmissionsReceivedInTimeNeverOverflowABoundedChannel) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged, 1);
    for (int i = 0; i < 5; ++i) {
        rename(sender, i % 2 ? "odd" : "even");
        EXPECT_EQ((co_await names.receive()).toStdString(), i % 2 ? "odd" : "even");
    }
}

TRELLIS_QT_TEST(QtSignalChannel, EmissionsFromAnotherThreadArriveOnTheRunsThreadInOrder) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
    QThread* const run_thread = QThread::currentThread();
    bool on_other_thread = false;
    std::thread emitter([&] {
        on_other_thread = QThread::currentThread() != run_thread;
        // QObject::setObjectName from another thread emits there.
        for (const char* n : {"t1", "t2", "t3"}) rename(sender, n);
    });
    std::string got;
    for (int i = 0; i < 3; ++i) got += (co_await names.receive()).toStdString();
    emitter.join();
    EXPECT_TRUE(on_other_thread);
    EXPECT_EQ(got, "t1t2t3");
}

TRELLIS_QT_TEST(QtSignalChannel, ClosingTheReceiverDisconnects) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
    EXPECT_TRUE(sender.name_listened());
    names.close();
    EXPECT_FALSE(sender.name_listened());
    rename(sender, "ignored");
    bool threw = false;
    try {
        co_await names.next();
    } catch (const trellis::closed_resource_error&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

TRELLIS_QT_TEST(QtSignalChannel, DestroyingTheReceiverDisconnects) {
    listened_object sender;
    {
        auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
        EXPECT_TRUE(sender.name_listened());
    }
    EXPECT_FALSE(sender.name_listened());
    co_return;
}

TRELLIS_QT_TEST(QtSignalChannel, ACancelledReceiveConsumesNothing) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
    trellis::cancel_scope scope;
    scope.cancel();
    auto receive_one = [&]() -> task<> { co_await names.next(); };
    rename(sender, "kept");
    co_await scope.run(receive_one);
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ((co_await names.receive()).toStdString(), "kept");
}

TRELLIS_QT_TEST(QtSignalChannel, NextIsACheckpointEvenWithAnEmissionWaiting) {
    listened_object sender;
    auto names = trellis::qt::signal_channel(&sender, &QObject::objectNameChanged);
    rename(sender, "ready");
    bool other_ran = false;
    auto other = [&]() -> task<> {
        other_ran = true;
        co_return;
    };
    auto receive_one = [&]() -> task<> { co_await names.next(); };
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon(other);
        co_await receive_one();
        EXPECT_TRUE(other_ran);
    };
    co_await trellis::open_nursery(body);
}

TRELLIS_QT_TEST(QtSignalChannel, NullSenderAndZeroCapacityAreMisuse) {
    QObject* null_sender = nullptr;
    EXPECT_THROW((void)trellis::qt::signal_channel(null_sender, &QObject::objectNameChanged), trellis::run_error);
    listened_object sender;
    EXPECT_THROW((void)trellis::qt::signal_channel(&sender, &QObject::objectNameChanged, 0), trellis::run_error);
    co_return;
}
