// The Qt host adapter: the conformance suite on the real Qt event loop, and
// the Qt-specific helpers (run, wait_signal, QObject-lifetime scopes).
#include <trellis/qt.hpp>

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QEventLoop>
#include <QMetaMethod>
#include <QStringListModel>
#include <QThread>
#include <QTimer>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "conformance.hpp"
#include "qt_loop.hpp"

namespace qt_host_test {

using namespace std::chrono_literals;
using trellis::task;

// Owns the one QCoreApplication of a test. Qt keeps a pointer to argc, so
// the arguments live as long as the application.
class application_holder {
public:
    application_holder() : app_(std::make_unique<QCoreApplication>(argc_, argv_)) {}
    QCoreApplication* app() const noexcept { return app_.get(); }
    bool alive() const noexcept { return app_ != nullptr; }
    void destroy() { app_.reset(); }

    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_qt_until(pred, timeout);
    }

private:
    int argc_ = 1;
    char name_[8] = "qt_test";
    char* argv_[2] = {name_, nullptr};
    std::unique_ptr<QCoreApplication> app_;
};

class qt_fixture {
public:
    template <class Done, class F>
    trellis::guest_run start(const trellis::run_options& options, Done done, F fn) {
        run_.emplace(trellis::qt::start_guest_run(options, std::move(done), std::move(fn)));
        return *run_;
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return app_.run_until(pred, timeout);
    }
    // One pass of the loop over what is pending, without waiting.
    void iterate_once() { QCoreApplication::processEvents(); }
    void call_soon(std::function<void()> fn) {
        QMetaObject::invokeMethod(app_.app(), std::move(fn), Qt::QueuedConnection);
    }
    void call_later(std::chrono::milliseconds delay, std::function<void()> fn) {
        QTimer::singleShot(delay, app_.app(), std::move(fn));
    }
    // An application shutting down: deleting the QCoreApplication deletes
    // the adapter's receiver (its child) and every event still posted.
    void destroy_loop() { app_.destroy(); }
    ~qt_fixture() {
        if (app_.alive() && run_ && !run_->finished()) {
            ADD_FAILURE() << "the run was still live at the end of the test";
            ::testing::internal::CaptureStderr();
            destroy_loop();
            ::testing::internal::GetCapturedStderr();
        }
    }

private:
    application_holder app_;
    std::optional<trellis::guest_run> run_;
};

// ---- Qt-specific tests. ----

// A plain QObject that lets tests see whether anyone listens to a signal.
class listened_object : public QObject {
public:
    using QObject::isSignalConnected;
};

class QtAdapter : public ::testing::Test {
protected:
    application_holder app;
    static constexpr auto bound = 2000ms;

    // Runs fn as a guest run and spins the loop until it is over; returns
    // its outcome (an empty outcome if it did not finish in time).
    template <class R, class F>
    trellis::outcome<R> run_guest(F fn) {
        std::optional<trellis::outcome<R>> result;
        trellis::qt::start_guest_run([&](trellis::outcome<R> o) { result = std::move(o); }, std::move(fn));
        EXPECT_TRUE(app.run_until([&] { return result.has_value(); }, bound)) << "the run did not finish";
        if (!result) {
            ::testing::internal::CaptureStderr();
            app.destroy();
            ::testing::internal::GetCapturedStderr();
            return {};
        }
        return std::move(*result);
    }
};

TEST(QtAdapterMisuse, StartGuestRunWithoutAnApplicationThrowsRunError) {
    ASSERT_EQ(QCoreApplication::instance(), nullptr);
    try {
        trellis::qt::start_guest_run([](trellis::outcome<void>) {}, []() -> task<> { co_return; });
        FAIL() << "no error";
    } catch (const trellis::run_error& e) {
        EXPECT_NE(std::string(e.what()).find("no QCoreApplication"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(trellis::in_trellis_run());
}

TEST_F(QtAdapter, StartGuestRunOffTheApplicationThreadThrowsRunError) {
    std::string message;
    std::thread other([&] {
        try {
            trellis::qt::start_guest_run([](trellis::outcome<void>) {}, []() -> task<> { co_return; });
        } catch (const trellis::run_error& e) {
            message = e.what();
        }
    });
    other.join();
    EXPECT_NE(message.find("thread other than the QCoreApplication's"), std::string::npos) << message;
}

TEST_F(QtAdapter, StepsRunOnTheApplicationThread) {
    auto value = run_guest<bool>([]() -> task<bool> {
        co_await trellis::sleep(1ms);  // resumed by a step posted from the worker
        co_return QThread::currentThread() == QCoreApplication::instance()->thread();
    });
    EXPECT_TRUE(value.unwrap());
}

TEST_F(QtAdapter, RunReturnsTheMainTaskValue) {
    int value = trellis::qt::run([](int a) -> task<int> {
        co_await trellis::sleep(1ms);
        co_return a * 2;
    }, 21);
    EXPECT_EQ(value, 42);
}

TEST_F(QtAdapter, RunRethrowsTheMainTaskError) {
    EXPECT_THROW(trellis::qt::run([]() -> task<> {
        co_await trellis::checkpoint();
        throw std::invalid_argument("bad");
    }),
                 std::invalid_argument);
}

TEST_F(QtAdapter, RunCancelsTheMainTaskWhenTheApplicationQuitsFirst) {
    bool saw_cancel = false;
    QTimer::singleShot(10ms, app.app(), [] { QCoreApplication::quit(); });
    trellis::qt::run([&]() -> task<> {
        try {
            co_await trellis::sleep_forever();
        } catch (const trellis::cancelled&) {
            saw_cancel = true;
            throw;
        }
    });
    EXPECT_TRUE(saw_cancel);
}

TEST_F(QtAdapter, RunThrowsRunErrorWhenTheApplicationQuitsBeforeTheValue) {
    QTimer::singleShot(10ms, app.app(), [] { QCoreApplication::quit(); });
    EXPECT_THROW(trellis::qt::run([]() -> task<int> {
        co_await trellis::sleep_forever();
        co_return 1;
    }),
                 trellis::run_error);
}

TEST_F(QtAdapter, RunInsideAnEventLoopThrowsRunError) {
    std::optional<bool> threw;
    QTimer::singleShot(0ms, app.app(), [&] {
        try {
            trellis::qt::run([]() -> task<> { co_return; });
            threw = false;
        } catch (const trellis::run_error&) {
            threw = true;
        }
        QCoreApplication::quit();
    });
    QCoreApplication::exec();
    EXPECT_EQ(threw, std::optional<bool>(true));
}

TEST_F(QtAdapter, WaitSignalWithoutArgumentsReturnsOnTheEmission) {
    QTimer timer;  // QTimer::timeout carries only a QPrivateSignal tag
    timer.setSingleShot(true);
    auto result = run_guest<bool>([&]() -> task<bool> {
        timer.start(5ms);
        static_assert(std::is_same_v<decltype(trellis::qt::wait_signal(&timer, &QTimer::timeout)), task<void>>);
        co_await trellis::qt::wait_signal(&timer, &QTimer::timeout);
        co_return !timer.isActive();
    });
    EXPECT_TRUE(result.unwrap());
}

TEST_F(QtAdapter, WaitSignalReturnsTheOneArgument) {
    QObject sender;
    QTimer::singleShot(5ms, &sender, [&] { sender.setObjectName("renamed"); });
    auto name = run_guest<QString>([&]() -> task<QString> {
        co_return co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged);
    });
    EXPECT_EQ(name.unwrap(), QString("renamed"));
}

TEST_F(QtAdapter, WaitSignalReturnsSeveralArgumentsAsATuple) {
    QStringListModel model(QStringList{"a", "b", "c"});
    QTimer::singleShot(5ms, &model, [&] { model.setData(model.index(1), "B", Qt::EditRole); });
    using changed = std::tuple<QModelIndex, QModelIndex, QList<int>>;
    auto args = run_guest<changed>([&]() -> task<changed> {
        co_return co_await trellis::qt::wait_signal(&model, &QAbstractItemModel::dataChanged);
    });
    auto [top_left, bottom_right, roles] = args.unwrap();
    EXPECT_EQ(top_left.row(), 1);
    EXPECT_EQ(bottom_right.row(), 1);
    EXPECT_TRUE(roles.contains(Qt::EditRole));
}

TEST_F(QtAdapter, WaitSignalCancelledDisconnectsAndLaterEmissionsDoNothing) {
    listened_object sender;
    const QMetaMethod name_changed = QMetaMethod::fromSignal(&QObject::objectNameChanged);
    trellis::cancel_scope scope;
    bool connected_while_waiting = false;
    QTimer::singleShot(5ms, &sender, [&] {
        connected_while_waiting = sender.isSignalConnected(name_changed);
        scope.cancel();
    });
    auto result = run_guest<bool>([&]() -> task<bool> {
        co_await scope.run([&]() -> task<> { co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged); });
        const bool still_connected = sender.isSignalConnected(name_changed);
        sender.setObjectName("too late");  // nobody listens: no reschedule, no crash
        co_await trellis::checkpoint();
        co_return scope.cancelled_caught() && !still_connected;
    });
    EXPECT_TRUE(connected_while_waiting);
    EXPECT_TRUE(result.unwrap());
}

TEST_F(QtAdapter, WaitSignalInACancelledScopeRaisesCancelledWithoutAnEmission) {
    QObject sender;
    auto caught = run_guest<bool>([&]() -> task<bool> {
        trellis::cancel_scope scope;
        scope.cancel();
        co_await scope.run([&]() -> task<> { co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged); });
        co_return scope.cancelled_caught();
    });
    EXPECT_TRUE(caught.unwrap());
}

TEST_F(QtAdapter, WaitSignalThrowsClosedResourceErrorWhenTheSenderIsDestroyed) {
    auto* sender = new QObject;
    QTimer::singleShot(5ms, app.app(), [&] { delete sender; });
    auto result = run_guest<void>([&]() -> task<> {
        co_await trellis::qt::wait_signal(sender, &QObject::objectNameChanged);
    });
    EXPECT_THROW(result.unwrap(), trellis::closed_resource_error);
}

TEST_F(QtAdapter, WaitSignalWithANullSenderThrowsRunError) {
    QObject* sender = nullptr;
    auto result = run_guest<void>([&]() -> task<> {
        co_await trellis::qt::wait_signal(sender, &QObject::objectNameChanged);
    });
    EXPECT_THROW(result.unwrap(), trellis::run_error);
}

TEST_F(QtAdapter, WaitSignalEmittedOnAnotherThreadWakesTheTaskOnTheRunThread) {
    QObject sender;
    // The emitting thread is joined before the loop delivers the emission,
    // so Qt's own connection bookkeeping (invisible to ThreadSanitizer: Qt
    // is not instrumented) is never shared between two live threads.
    QTimer::singleShot(5ms, app.app(), [&] {
        std::thread emitter([&] { sender.setObjectName("from another thread"); });
        emitter.join();
    });
    auto result = run_guest<bool>([&]() -> task<bool> {
        QString name = co_await trellis::qt::wait_signal(&sender, &QObject::objectNameChanged);
        co_return name == "from another thread" && QThread::currentThread() == QCoreApplication::instance()->thread();
    });
    EXPECT_TRUE(result.unwrap());
}

TEST_F(QtAdapter, CancelOnDestroyCancelsTheScopeWhenTheObjectIsDestroyed) {
    auto* widget = new QObject;
    QTimer::singleShot(5ms, app.app(), [&] { delete widget; });
    auto caught = run_guest<bool>([&]() -> task<bool> {
        trellis::cancel_scope scope;
        trellis::qt::cancel_on_destroy guard(widget, scope);
        co_await scope.run([]() -> task<> { co_await trellis::sleep_forever(); });
        co_return scope.cancelled_caught();
    });
    EXPECT_TRUE(caught.unwrap());
}

TEST_F(QtAdapter, CancelOnDestroyStopsWatchingWhenTheGuardIsGone) {
    auto widget = std::make_unique<QObject>();
    trellis::cancel_scope scope;
    auto result = run_guest<void>([&]() -> task<> {
        { trellis::qt::cancel_on_destroy guard(widget.get(), scope); }
        widget.reset();
        co_await scope.run([]() -> task<> { co_await trellis::checkpoint(); });
    });
    result.unwrap();
    EXPECT_FALSE(scope.cancel_called());
}

TEST_F(QtAdapter, RunWhileAliveReturnsTheValueWhileTheObjectLives) {
    QObject widget;
    auto value = run_guest<std::optional<int>>([&]() -> task<std::optional<int>> {
        co_return co_await trellis::qt::run_while_alive(&widget, [](int x) -> task<int> {
            co_await trellis::checkpoint();
            co_return x + 1;
        }, 41);
    });
    EXPECT_EQ(value.unwrap(), std::optional<int>(42));
}

TEST_F(QtAdapter, RunWhileAliveStopsTheWorkWhenTheObjectIsDestroyed) {
    auto* widget = new QObject;
    QTimer::singleShot(5ms, app.app(), [&] { delete widget; });
    auto finished = run_guest<bool>([&]() -> task<bool> {
        co_return co_await trellis::qt::run_while_alive(widget, []() -> task<> { co_await trellis::sleep_forever(); });
    });
    EXPECT_FALSE(finished.unwrap());
}

TEST_F(QtAdapter, RunWhileAliveTreatsANullObjectAsAlreadyDestroyed) {
    auto finished = run_guest<bool>([]() -> task<bool> {
        co_return co_await trellis::qt::run_while_alive(nullptr, []() -> task<> { co_await trellis::checkpoint(); });
    });
    EXPECT_FALSE(finished.unwrap());
}

TEST_F(QtAdapter, DestroyingTheApplicationWithAStepPendingAbandonsTheRun) {
    bool done_called = false;
    trellis::qt::start_guest_run([&](trellis::outcome<void>) { done_called = true; }, []() -> task<> {
        for (;;) co_await trellis::checkpoint();  // always a step posted, never a worker wait
    });
    app.run_until([] { return false; }, 10ms);
    ::testing::internal::CaptureStderr();
    app.destroy();
    const std::string warning = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(done_called);
    EXPECT_NE(warning.find("abandoned"), std::string::npos) << warning;
    EXPECT_FALSE(trellis::in_trellis_run());
}

TEST_F(QtAdapter, ThreadsafePostAfterTheApplicationIsGoneIsDroppedUnrun) {
    std::optional<trellis::guest_host> host;
    {
        trellis::qt::detail::application_link link("test");
        host = link.host();
        link.attach(trellis::guest_run(nullptr));
    }
    app.destroy();  // deletes the receiver, a child of the application
    std::atomic<bool> ran{false}, destroyed{false};
    std::thread poster([&] {
        std::shared_ptr<void> guard(nullptr, [&destroyed](void*) { destroyed = true; });
        host->run_sync_soon_threadsafe([&ran, guard] { ran = true; });
    });
    poster.join();
    EXPECT_TRUE(destroyed.load());
    EXPECT_FALSE(ran.load());
}

}  // namespace qt_host_test

namespace conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(Qt, GuestConformance, ::testing::Types<qt_host_test::qt_fixture>);
// The same suite with host-native I/O waiting (run_options::guest_io).
INSTANTIATE_TYPED_TEST_SUITE_P(QtNative, GuestConformance, ::testing::Types<native_mode<qt_host_test::qt_fixture>>);
}
