// qt::cancel_on_close / run_until_closed: a close request cancels the work,
// whose cleanup still finds the window alive; the close happens afterwards.
// Run under ASan, a cleanup touching a freed widget fails these tests.
#include <trellis/qt.hpp>
#include <trellis/qt/cancel_on_close.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/trellis.hpp>

#include <QCoreApplication>
#include <QPointer>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QWidget>

#include "qt_widgets_app.hpp"

using namespace std::chrono_literals;
using trellis::task;

namespace {

// A window with WA_DeleteOnClose and a button, as an app would make one.
struct window_with_button {
    QPointer<QWidget> window = new QWidget;
    QPointer<QPushButton> button = new QPushButton("Start", window);
    window_with_button() {
        window->setAttribute(Qt::WA_DeleteOnClose);
        window->show();
    }
    ~window_with_button() { delete window.data(); }
};

// Work that disables the button and, in its cleanup, touches the button
// and the window again (the use-after-free of issue 11 with
// run_while_alive).
struct enable_on_exit {
    QPushButton* button;
    bool* saw_window;
    ~enable_on_exit() {
        button->setEnabled(true);
        *saw_window = button->window()->isVisible();
    }
};

task<> busy_with_button(QPushButton* button, bool* cleanup_saw_window) {
    button->setEnabled(false);
    enable_on_exit guard{button, cleanup_saw_window};
    co_await trellis::sleep_forever();
}

}  // namespace

TRELLIS_QT_TEST(QtCancelOnClose, CloseCancelsTheWorkWhileTheWindowIsStillAlive) {
    window_with_button w;
    bool cleanup_saw_window = false;
    QTimer::singleShot(1ms, w.window.data(), [&] { w.window->close(); });
    bool finished = co_await trellis::qt::run_until_closed(w.window, busy_with_button, w.button.data(),
                                                            &cleanup_saw_window);
    EXPECT_FALSE(finished);
    EXPECT_TRUE(cleanup_saw_window);
    EXPECT_TRUE(w.button && w.button->isEnabled());
}

TRELLIS_QT_TEST(QtCancelOnClose, TheHeldBackCloseHappensAfterTheWorkAndDeletesTheWindow) {
    window_with_button w;
    bool cleanup_saw_window = false;
    QTimer::singleShot(1ms, w.window.data(), [&] { w.window->close(); });
    co_await trellis::qt::run_until_closed(w.window, busy_with_button, w.button.data(), &cleanup_saw_window);
    EXPECT_TRUE(w.window);  // still there right after the work
    for (int i = 0; i < 500 && w.window; ++i) co_await trellis::sleep(10ms);
    EXPECT_TRUE(w.window.isNull());  // closed, then deleted (WA_DeleteOnClose)
}

TRELLIS_QT_TEST(QtCancelOnClose, WorkThatFinishesFirstLeavesTheWindowOpen) {
    window_with_button w;
    auto quick = [](QPushButton* b) -> task<int> {
        co_await trellis::sleep(1ms);
        co_return b->isEnabled() ? 1 : 0;
    };
    std::optional<int> value = co_await trellis::qt::run_until_closed(w.window, quick, w.button.data());
    EXPECT_EQ(value, std::optional<int>(1));
    co_await trellis::sleep(5ms);
    EXPECT_TRUE(w.window && w.window->isVisible());
    // The guard is gone: a close now goes straight through.
    EXPECT_TRUE(w.window->close());
}

TRELLIS_QT_TEST(QtCancelOnClose, DeletingTheWindowOutrightStillCancels) {
    window_with_button w;
    auto wait = []() -> task<> { co_await trellis::sleep_forever(); };
    QTimer::singleShot(1ms, [&] { delete w.window.data(); });
    bool finished = co_await trellis::qt::run_until_closed(w.window, wait);
    EXPECT_FALSE(finished);
    EXPECT_TRUE(w.window.isNull());
}

TRELLIS_QT_TEST(QtCancelOnClose, GuardCancelsItsScopeAndNullWindowCancelsAtOnce) {
    trellis::cancel_scope scope;
    trellis::qt::cancel_on_close guard(nullptr, scope);
    EXPECT_TRUE(scope.cancel_called());
    co_return;
}

TRELLIS_QT_TEST(QtCancelOnClose, AnObjectWithoutCloseSlotIsMisuse) {
    QObject plain;
    trellis::cancel_scope scope;
    EXPECT_THROW(trellis::qt::cancel_on_close(&plain, scope), trellis::run_error);
    co_return;
}

namespace {

// qt::run whose main task is the window's work (until cancelled): the
// canonical single-window app.
int run_window_work(const QPointer<QWidget>& window) {
    return trellis::qt::run([&window]() -> task<> {
        co_await trellis::qt::run_until_closed(window, []() -> task<> { co_await trellis::sleep_forever(); });
    });
}

}  // namespace

// The run ends right after the held-back close is made again. The window
// (WA_DeleteOnClose, no parent) is closed and deleted before qt::run
// returns, not left behind in the event queue.
TEST(QtCancelOnCloseInARun, TheHeldBackCloseIsMadeBeforeQtRunReturns) {
    window_with_button w;
    QTimer::singleShot(1ms, w.window.data(), [&] { w.window->close(); });
    EXPECT_EQ(run_window_work(w.window), 0);
    EXPECT_TRUE(w.window.isNull());
}

// The same when the app's loop ends first, in the same callback as the
// close: qt::run cancels the main task and drains the loop until the run is
// over; the close the guard held back, and the deletion it leads to, still
// happen before it returns.
TEST(QtCancelOnCloseInARun, TheHeldBackCloseIsMadeWhenTheAppExitedFirst) {
    window_with_button w;
    QTimer::singleShot(1ms, w.window.data(), [&] {
        w.window->close();
        QCoreApplication::exit(3);
    });
    EXPECT_EQ(run_window_work(w.window), 3);
    EXPECT_TRUE(w.window.isNull());
}
