// trellis as a guest of a GLib main loop: host code (a GLib timeout
// source) and trellis tasks share one thread and one GMainContext. Prints
// what happens and exits 0.
#include <trellis/glib.hpp>
#include <trellis/trellis.hpp>

#include <gio/gio.h>

#include <cstdio>

using namespace std::chrono_literals;

trellis::task<> main_task() {
    GCancellable* cancellable = g_cancellable_new();
    // Plain GLib code on the same loop: cancels the GCancellable in 20 ms.
    g_timeout_add(20, [](gpointer c) -> gboolean {
        g_cancellable_cancel(G_CANCELLABLE(c));
        return G_SOURCE_REMOVE;
    }, cancellable);
    // A task awaits the GObject signal, with a timeout around it.
    bool seen = co_await trellis::move_on_after(1s, [cancellable]() -> trellis::task<> {
        co_await trellis::glib::wait_signal(cancellable, "cancelled");
    });
    std::puts(seen ? "the GCancellable was cancelled" : "timed out");
    g_object_unref(cancellable);
}

int main() {
    // Iterates the thread-default GMainContext until main_task is done.
    trellis::glib::run(main_task);
}
