// Cancel a window's work when the user closes the window, and let the work
// clean up while the window still exists.
//
//   struct enable_on_exit {  // cleanup that touches a widget
//       QPushButton* button;
//       ~enable_on_exit() { button->setEnabled(true); }
//   };
//   auto job = [](QPushButton* start) -> trellis::task<> {
//       start->setEnabled(false);
//       enable_on_exit guard{start};
//       co_await long_job();
//   };
//   bool finished = co_await trellis::qt::run_until_closed(window, job, start);
//
// When each Qt helper cancels, and what cleanup may touch:
//  * cancel_on_destroy / run_while_alive (trellis/qt.hpp) cancel from
//    QObject::destroyed: the object is already being destroyed and is freed
//    before the cancelled work runs its cleanup. Cleanup must not touch the
//    object or its children.
//  * cancel_on_close / run_until_closed (here) cancel when the window is
//    asked to close (a QEvent::Close: the title bar's close button,
//    QWidget::close(), QWindow::close(), closeAllWindows()). The close is
//    held back (the event is ignored, so the window stays shown and alive)
//    while the work unwinds; cleanup may touch the window and its children.
//    When the guard goes away, the held-back close is made again (queued to
//    the window's thread), and this time it goes through: the window hides,
//    and with Qt::WA_DeleteOnClose it is deleted. If the window is
//    destroyed some other way meanwhile (`delete window`), the scope is
//    cancelled too, as with cancel_on_destroy, and cleanup must then not
//    touch it.
// A close while the work runs therefore takes effect once the work has
// finished, and closing the last window ends the app only then.
#pragma once

#include <QObject>
#include <QPointer>

#include <utility>

#include "trellis/cancel_scope.hpp"
#include "trellis/detail/host_adapter.hpp"
#include "trellis/task.hpp"

class QEvent;

namespace trellis::qt {

namespace detail {

// The event filter behind cancel_on_close: on the window's thread, a plain
// object (not the window's child) that the guard owns.
class close_filter final : public QObject {
public:
    close_filter(QObject* window, cancel_scope& scope);
    ~close_filter() override;
    close_filter(const close_filter&) = delete;
    close_filter& operator=(const close_filter&) = delete;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QPointer<QObject> window_;  // null once the window is destroyed
    cancel_scope& scope_;
    // Invariant: true only after a close event was held back, and then
    // window_ gets a close() when this filter goes (if it still exists).
    bool close_held_ = false;
};

}  // namespace detail

// Cancels `scope` when `window` (a QWidget or a QWindow: an object with a
// close() slot that receives QEvent::Close) is asked to close, for as long
// as this guard lives, and holds the close back until then; see the file
// comment for what that means for cleanup. Declare the guard after the
// scope (it must not outlive it). Construct and destroy it on the window's
// thread, which must be the run's thread. A null window counts as already
// gone: the scope is cancelled at once. Not a checkpoint. Throws run_error
// when the window is on another thread or has no close() slot.
//
//   trellis::cancel_scope scope;
//   trellis::qt::cancel_on_close guard(window, scope);
//   co_await scope.run(work, window);
class cancel_on_close {
public:
    cancel_on_close(QObject* window, cancel_scope& scope);
    cancel_on_close(const cancel_on_close&) = delete;
    cancel_on_close& operator=(const cancel_on_close&) = delete;

private:
    detail::close_filter filter_;
};

// Runs fn(args...) in a cancel scope that a close request on `window`
// cancels (cancel_on_close); the window stays open until fn has returned
// or thrown, then the close is made again. Returns like run_while_alive:
// for a void fn, true if fn finished and false if a close cut it short;
// otherwise the value, or std::nullopt if cut short. Whether it is a
// checkpoint depends on fn. Rethrows fn's errors (the held-back close is
// made then too). Throws run_error as cancel_on_close does.
template <class F, class... A>
auto run_until_closed(QObject* window, F fn, A... args) -> task<trellis::detail::guarded_result_t<F, A...>> {
    return trellis::detail::run_guarded<cancel_on_close>(window, std::move(fn), std::move(args)...);
}

}  // namespace trellis::qt
