// Cancel scopes tied to a GObject's life: work on behalf of an object (a
// window, a document, a connection) stops when the object goes away.
//
//   trellis::cancel_scope scope;
//   trellis::glib::cancel_on_dispose guard(G_OBJECT(window), scope);
//   co_await scope.run(load_and_show, window);
//
// When it cancels: when the object is disposed, which GObject does when
// its last reference is dropped, or earlier when someone disposes it
// explicitly (gtk_window_destroy, g_object_run_dispose). The cancellation
// is delivered then, but the task's cleanup runs later, on the task's next
// steps, after dispose has finished: by then the object may be finalized
// too, so cleanup code must not touch it. To run cleanup while a window
// still exists, cancel on its close request instead, and destroy the window
// once the work is over: the GTK recipe in README.md ("GTK apps") and
// examples/gui/gtk do that.
#pragma once

#include <glib-object.h>

#include <memory>
#include <utility>

#include "trellis/cancel_scope.hpp"
#include "trellis/detail/host_adapter.hpp"
#include "trellis/task.hpp"

namespace trellis::glib {

namespace detail {
struct dispose_link;
}

// Cancels `scope` when `object` is disposed, for as long as this guard
// lives; destroying the guard stops watching (it holds only a weak
// reference: it does not keep the object alive). A null object counts as
// already disposed: the scope is cancelled at once. Declare the guard after
// the scope (it must not outlive it); construct and destroy it on the run's
// thread. If the object is disposed on another thread, the cancellation is
// delivered through the run's token. Not a checkpoint. Throws run_error
// outside a run, and for a pointer that is not a GObject.
class cancel_on_dispose {
public:
    cancel_on_dispose(GObject* object, cancel_scope& scope);
    ~cancel_on_dispose();
    cancel_on_dispose(const cancel_on_dispose&) = delete;
    cancel_on_dispose& operator=(const cancel_on_dispose&) = delete;

private:
    // Shared with the weak-reference callback, which may run on another
    // thread; null for a null object.
    std::shared_ptr<detail::dispose_link> link_;
    // The weak reference's data (another owner of the link); freed by the
    // notification if the object is disposed, else by the destructor.
    std::shared_ptr<detail::dispose_link>* holder_ = nullptr;
};

// Runs fn(args...) in a cancel scope that is cancelled if `object` is
// disposed meanwhile. Returns like move_on_after: for a void fn, true if fn
// finished and false if the object's disposal cut it short; otherwise the
// value, or std::nullopt if cut short. A null object counts as already
// disposed. Whether it is a checkpoint depends on fn. Rethrows fn's errors;
// throws what cancel_on_dispose throws.
template <class F, class... A>
auto run_while_alive(GObject* object, F fn, A... args) -> task<trellis::detail::guarded_result_t<F, A...>> {
    return trellis::detail::run_guarded<cancel_on_dispose>(object, std::move(fn), std::move(args)...);
}

}  // namespace trellis::glib
