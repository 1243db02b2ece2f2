// The README's Qt helpers in one small app: a Start button read through a
// signal channel, work cancelled by closing the window while the window
// stays alive for its cleanup (run_until_closed), a dialog awaited without
// a nested event loop (exec_dialog), and qt::run giving main() the app's
// exit code.
//
//   trellis_qt_helpers            a window: Start counts to five, then asks
//   trellis_qt_helpers --script   the same, driven by a task (for the tests):
//                                 count, answer "Yes", count again, close
//                                 the window mid-count
#include <trellis/qt.hpp>
#include <trellis/qt/cancel_on_close.hpp>
#include <trellis/qt/exec_dialog.hpp>
#include <trellis/qt/signal_channel.hpp>
#include <trellis/trellis.hpp>

#include <QAbstractButton>
#include <QApplication>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>
#include <QWidget>

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace std::chrono_literals;

int cleanups_with_window_shown = 0;  // checked by --script

struct enable_on_exit {  // cleanup that touches a widget
    QPushButton* button;
    ~enable_on_exit() {
        button->setEnabled(true);
        if (button->window()->isVisible()) ++cleanups_with_window_shown;
    }
};

trellis::task<> count_to_five(QPushButton* start, QLabel* label) {
    start->setEnabled(false);
    enable_on_exit guard{start};
    for (int i = 1; i <= 5; ++i) {
        label->setNum(i);
        co_await trellis::sleep(20ms);
    }
}

trellis::task<bool> ask(QWidget* parent, const char* question) {
    QMessageBox box(QMessageBox::Question, "Counter", question, QMessageBox::Yes | QMessageBox::No, parent);
    // open(), not exec(): the app and every other task go on meanwhile.
    co_return co_await trellis::qt::exec_dialog(&box) == QMessageBox::Yes;
}

trellis::task<> window_main(QWidget* window, QPushButton* start, QLabel* label) {
    // Every click is kept, also one made before this loop first waits.
    auto clicks = trellis::qt::signal_channel(start, &QPushButton::clicked);
    while (co_await clicks.next()) {
        // Closing the window cancels the count; the window stays alive until
        // the count's cleanup has run, then closes (WA_DeleteOnClose: deleted).
        bool finished = co_await trellis::qt::run_until_closed(window, count_to_five, start, label);
        if (!finished) co_return;
        if (!co_await ask(window, "Counted to five. Count again?")) window->close();
    }
}

// --script: what a user would do, for the test.
trellis::task<> drive(QWidget* window, QPushButton* start, QLabel* label) {
    start->click();  // before window_main first waits: kept by the channel
    QMessageBox* box = nullptr;
    while (!(box = window->findChild<QMessageBox*>())) co_await trellis::sleep(5ms);
    std::printf("asked after counting to %s\n", label->text().toUtf8().constData());
    box->button(QMessageBox::Yes)->click();
    start->click();
    while (label->text() != "2") co_await trellis::sleep(1ms);
    std::printf("closing the window at %s\n", label->text().toUtf8().constData());
    window->close();
}

trellis::task<> app_main(QWidget* window, QPushButton* start, QLabel* label, bool script) {
    auto body = [=](trellis::nursery& n) -> trellis::task<> {
        if (script) n.start_soon(drive, window, start, label);
        co_await window_main(window, start, label);
    };
    co_await trellis::open_nursery(body);
    // The window's held-back close is still queued: qt::run delivers it
    // (and deletes the window) before it returns.
}

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const bool script = argc > 1 && std::strcmp(argv[1], "--script") == 0;
    auto* window = new QWidget;
    window->setAttribute(Qt::WA_DeleteOnClose);
    auto* layout = new QVBoxLayout(window);
    auto* label = new QLabel("0", window);
    auto* start = new QPushButton("Start", window);
    layout->addWidget(label);
    layout->addWidget(start);
    window->show();
    QPointer<QWidget> watch(window);
    // app_main decides when the app ends: once the window is gone.
    app.setQuitOnLastWindowClosed(false);
    // A task<> main: run() returns the code the app gives
    // QCoreApplication::exit() if that ends the loop first, else 0.
    int code = trellis::qt::run(app_main, window, start, label, script);
    std::printf("exit code %d; %d cleanups ran with the window shown; window %s\n", code,
                cleanups_with_window_shown, watch ? "still there" : "deleted");
    if (script && (cleanups_with_window_shown != 2 || watch)) return 1;
    return code;
}
