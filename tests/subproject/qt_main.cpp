// A downstream Qt program: a guest run on QCoreApplication's loop, where a
// task awaits a Qt signal. Exits 0 when the signal was seen.
#include <trellis/qt.hpp>
#include <trellis/trellis.hpp>

#include <QCoreApplication>
#include <QTimer>

namespace {

trellis::task<int> qt_main(QTimer* ticker) {
    ticker->start(1);
    co_await trellis::qt::wait_signal(ticker, &QTimer::timeout);
    ticker->stop();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QTimer ticker;
    return trellis::qt::run(qt_main, &ticker);
}
