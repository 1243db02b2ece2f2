// cancel_on_close: an event filter that turns a window's close request into
// a cancellation and makes the close again once the work is done.

#include "trellis/qt/cancel_on_close.hpp"

#include <QEvent>
#include <QMetaObject>
#include <QThread>

#include "trellis/errors.hpp"

namespace trellis::qt::detail {

close_filter::close_filter(QObject* window, cancel_scope& scope) : window_(window), scope_(scope) {
    if (!window) {
        scope.cancel();
        return;
    }
    if (window->thread() != QThread::currentThread())
        throw run_error(
            "trellis::qt::cancel_on_close: the window lives on another thread; create the guard on the "
            "window's thread (the run's thread)");
    if (window->metaObject()->indexOfSlot("close()") < 0)
        throw run_error(
            "trellis::qt::cancel_on_close: the object has no close() slot; pass a QWidget or a QWindow "
            "(for other objects use cancel_on_destroy)");
    window->installEventFilter(this);
    // Destroyed some other way: cancel as cancel_on_destroy does.
    QObject::connect(window, &QObject::destroyed, this, [this] { scope_.cancel(); });
}

close_filter::~close_filter() {
    if (!window_) return;
    window_->removeEventFilter(this);
    // Queued, so the window's close handlers and its deletion run from the
    // event loop, not from inside the task that is leaving the scope.
    if (close_held_) QMetaObject::invokeMethod(window_.data(), "close", Qt::QueuedConnection);
}

bool close_filter::eventFilter(QObject* watched, QEvent* event) {
    if (watched != window_.data() || event->type() != QEvent::Close) return false;
    event->ignore();  // the window stays open; the guard closes it later
    close_held_ = true;
    scope_.cancel();
    return true;
}

}  // namespace trellis::qt::detail

namespace trellis::qt {

cancel_on_close::cancel_on_close(QObject* window, cancel_scope& scope) : filter_(window, scope) {}

}  // namespace trellis::qt
