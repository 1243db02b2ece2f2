// trellis as a guest of Qt's event loop: the application keeps its own
// QCoreApplication::exec(), and the main task awaits Qt signals with
// timeouts around them. Prints what happens and exits 0.
#include <trellis/qt.hpp>
#include <trellis/trellis.hpp>

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

using namespace std::chrono_literals;

trellis::task<int> main_task(QTimer* ticker) {
    ticker->start(10);
    // Awaiting a signal: the Qt loop goes on serving everything else.
    co_await trellis::qt::wait_signal(ticker, &QTimer::timeout);
    std::puts("the timer fired");

    ticker->stop();
    bool fired = co_await trellis::move_on_after(50ms, [ticker]() -> trellis::task<> {
        co_await trellis::qt::wait_signal(ticker, &QTimer::timeout);  // stopped: never comes
    });
    std::puts(fired ? "fired again?" : "gave up after 50 ms, and the signal is disconnected");
    co_return fired ? 1 : 0;
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QTimer ticker;
    // Runs app.exec() until main_task is done, then returns its value.
    return trellis::qt::run(main_task, &ticker);
}
