// A downstream GLib program: a guest run on the thread-default GMainContext,
// where a task awaits a GObject signal that a GLib timeout source emits.
// Exits 0 when the signal was seen.
#include <trellis/glib.hpp>
#include <trellis/trellis.hpp>

#include <gio/gio.h>

namespace {

gboolean cancel_soon(gpointer cancellable) {
    g_cancellable_cancel(static_cast<GCancellable*>(cancellable));
    return G_SOURCE_REMOVE;
}

trellis::task<int> glib_main(GCancellable* cancellable) {
    g_timeout_add(1, cancel_soon, cancellable);
    co_await trellis::glib::wait_signal(cancellable, "cancelled");
    co_return 0;
}

}  // namespace

int main() {
    GCancellable* cancellable = g_cancellable_new();
    const int status = trellis::glib::run(glib_main, cancellable);
    g_object_unref(cancellable);
    return status;
}
