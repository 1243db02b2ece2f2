// The smallest GTK 4 app with trellis in it, and the recipe for closing a
// window while work still runs: cancel the work and hide the window on its
// close request, and destroy it in the run's done callback, once every task
// has finished. Cleanup code may then touch the widgets: they still exist.
// (Cancelling from the window's destruction instead would run that cleanup
// after GTK has torn the widgets down.)
//
// With TRELLIS_SKELETON_SELF_TEST=1 in the environment, the app clicks its
// own button and closes its window mid-job, and says on stdout what happened
// in which order (the test suite runs it so under Xvfb).

#include <gtk/gtk.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include <trellis/glib.hpp>
#include <trellis/glib/signal_channel.hpp>
#include <trellis/trellis.hpp>

using namespace std::chrono_literals;

namespace {

// ---- The README's GtkApplication skeleton starts here. ----
struct app_state {
    GtkWindow* window = nullptr;
    GtkButton* button = nullptr;
    trellis::cancel_scope lifetime;  // everything the run does for the window
};

// Re-enables the button when a job ends, however it ends.
struct button_disabled {
    GtkButton* button;
    explicit button_disabled(GtkButton* b) : button(b) { gtk_widget_set_sensitive(GTK_WIDGET(b), FALSE); }
    ~button_disabled() {
        gtk_widget_set_sensitive(GTK_WIDGET(button), TRUE);  // the window still exists here
        std::puts("cleanup: button re-enabled");
    }
};

trellis::task<> window_main(app_state& app) {
    // Every click from now on is kept, even one made before the loop awaits.
    auto clicks = trellis::glib::signal_channel(app.button, "clicked");
    while (co_await clicks.next()) {
        button_disabled busy(app.button);
        std::puts("job started");
        co_await trellis::sleep(2s);  // the job
        std::puts("job done");
    }
}

// Closing the window cancels the work and hides the window; it is destroyed
// once the run is over (on_run_done), so tasks unwinding meanwhile may still
// use its widgets.
gboolean on_close_request(GtkWindow* window, gpointer data) {
    auto* app = static_cast<app_state*>(data);
    app->lifetime.cancel();
    gtk_widget_set_visible(GTK_WIDGET(window), FALSE);
    return TRUE;  // do not destroy it now
}

void on_run_done(app_state* app, trellis::outcome<void> result) {
    if (result.has_error()) std::fprintf(stderr, "error: %s\n", trellis::describe(result.error()).c_str());
    gtk_window_destroy(app->window);  // the last window: the application quits
    std::puts("run over: window destroyed");
}

void on_activate(GtkApplication* application, gpointer data) {
    auto* app = static_cast<app_state*>(data);
    app->window = GTK_WINDOW(gtk_application_window_new(application));
    app->button = GTK_BUTTON(gtk_button_new_with_label("Run job"));
    gtk_window_set_child(app->window, GTK_WIDGET(app->button));
    g_signal_connect(app->window, "close-request", G_CALLBACK(on_close_request), app);
    auto main_task = [app]() -> trellis::task<> { co_await app->lifetime.run(window_main, std::ref(*app)); };
    trellis::glib::start_guest_run(g_main_context_default(), [app](trellis::outcome<void> result) {
        on_run_done(app, std::move(result));
    }, main_task);
    gtk_window_present(app->window);
}
// ---- The README's skeleton ends here (main() below adds the self-test). ----

// Self-test: click once the run is going, close the window mid-job.
void start_self_test(app_state& app) {
    g_timeout_add(100, [](gpointer data) -> gboolean {
        g_signal_emit_by_name(static_cast<app_state*>(data)->button, "clicked");
        return G_SOURCE_REMOVE;
    }, &app);
    g_timeout_add(300, [](gpointer data) -> gboolean {
        gtk_window_close(static_cast<app_state*>(data)->window);
        return G_SOURCE_REMOVE;
    }, &app);
}

}  // namespace

int main(int argc, char** argv) {
    app_state app;
    const bool self_test = std::getenv("TRELLIS_SKELETON_SELF_TEST") != nullptr;
    if (self_test) {
        // Under Xvfb: draw in software, and no accessibility bridge (a bare
        // X server has no D-Bus session bus for it), as the job demo does.
        g_setenv("GSK_RENDERER", "cairo", FALSE);
        g_setenv("GTK_A11Y", "none", FALSE);
    }
    GtkApplication* application = gtk_application_new("org.trellis.Skeleton", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(application, "activate", G_CALLBACK(on_activate), &app);
    if (self_test)
        g_signal_connect_after(application, "activate", G_CALLBACK(+[](GtkApplication*, gpointer data) {
            start_self_test(*static_cast<app_state*>(data));
        }), &app);
    const int status = g_application_run(G_APPLICATION(application), argc, argv);
    g_object_unref(application);
    return status;
}
