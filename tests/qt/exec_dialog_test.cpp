// qt::exec_dialog: a real QDialog opened window-modal, no nested loop.
#include <trellis/qt.hpp>
#include <trellis/qt/exec_dialog.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/trellis.hpp>

#include <QDialog>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <QWidget>

#include "qt_widgets_app.hpp"

using namespace std::chrono_literals;
using trellis::task;

TRELLIS_QT_TEST(QtExecDialog, ReturnsAcceptedWhenTheDialogIsAccepted) {
    QWidget parent;
    parent.show();
    QDialog dialog(&parent);
    QTimer::singleShot(1ms, &dialog, [&] { dialog.accept(); });
    int result = co_await trellis::qt::exec_dialog(&dialog);
    EXPECT_EQ(result, QDialog::Accepted);
    EXPECT_FALSE(dialog.isVisible());
}

TRELLIS_QT_TEST(QtExecDialog, ReturnsRejectedAndCustomCodesFromDone) {
    QDialog dialog;
    QTimer::singleShot(1ms, &dialog, [&] { dialog.reject(); });
    EXPECT_EQ(co_await trellis::qt::exec_dialog(&dialog), QDialog::Rejected);
    QTimer::singleShot(1ms, &dialog, [&] { dialog.done(42); });
    EXPECT_EQ(co_await trellis::qt::exec_dialog(&dialog), 42);
}

TRELLIS_QT_TEST(QtExecDialog, OpensWindowModalWithoutANestedEventLoop) {
    QWidget parent;
    parent.show();
    QDialog dialog(&parent);
    int loop_level_while_open = -1;
    bool visible_while_open = false;
    Qt::WindowModality modality = Qt::NonModal;
    const int outer_level = QThread::currentThread()->loopLevel();
    QTimer::singleShot(1ms, &dialog, [&] {
        loop_level_while_open = QThread::currentThread()->loopLevel();
        visible_while_open = dialog.isVisible();
        modality = dialog.windowModality();
        dialog.accept();
    });
    co_await trellis::qt::exec_dialog(&dialog);
    EXPECT_TRUE(visible_while_open);
    EXPECT_EQ(modality, Qt::WindowModal);
    EXPECT_EQ(loop_level_while_open, outer_level);  // exec() would have added one
}

TRELLIS_QT_TEST(QtExecDialog, OtherTasksRunWhileTheDialogIsOpen) {
    QDialog dialog;
    int ticks = 0;
    auto ticker = [&]() -> task<> {
        for (; ticks < 3; ++ticks) co_await trellis::sleep(1ms);
        dialog.accept();
    };
    auto body = [&](trellis::nursery& n) -> task<> {
        n.start_soon(ticker);
        EXPECT_EQ(co_await trellis::qt::exec_dialog(&dialog), QDialog::Accepted);
    };
    co_await trellis::open_nursery(body);
    EXPECT_EQ(ticks, 3);
}

TRELLIS_QT_TEST(QtExecDialog, CancellationRejectsAndClosesTheDialog) {
    QDialog dialog;
    int finished_with = -1;
    QObject::connect(&dialog, &QDialog::finished, &dialog, [&](int r) { finished_with = r; });
    auto ask = [&]() -> task<> { co_await trellis::qt::exec_dialog(&dialog); };
    bool done = co_await trellis::move_on_after(5ms, ask);
    EXPECT_FALSE(done);
    EXPECT_FALSE(dialog.isVisible());
    EXPECT_EQ(finished_with, QDialog::Rejected);
}

TRELLIS_QT_TEST(QtExecDialog, ADialogDeletedWhileOpenThrowsClosedResourceError) {
    QPointer<QDialog> dialog = new QDialog;
    QTimer::singleShot(1ms, [&] { delete dialog.data(); });
    bool closed = false;
    try {
        co_await trellis::qt::exec_dialog(dialog.data());
    } catch (const trellis::closed_resource_error&) {
        closed = true;
    }
    EXPECT_TRUE(closed);
}

TRELLIS_QT_TEST(QtExecDialog, NullDialogIsMisuse) {
    bool misuse = false;
    try {
        co_await trellis::qt::exec_dialog(nullptr);
    } catch (const trellis::run_error&) {
        misuse = true;
    }
    EXPECT_TRUE(misuse);
}
