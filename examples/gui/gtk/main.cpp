// trellis in a GTK 4 application: four jobs, each with a progress bar, a
// state label and a Cancel button, run together by "Start all" under a
// timeout, while a heartbeat shows that the window stays responsive.
//
// GTK keeps its own main loop (GtkApplication iterating GLib's default
// GMainContext); trellis runs inside it as a *guest*: its scheduling steps
// are GLib sources on the same thread, so tasks may touch widgets directly
// and signal handlers may touch trellis objects (cancel a scope) directly.
//
//   trellis_gtk_demo                     the interactive app
//   trellis_gtk_demo --demo [--screenshot PATH]
//                                        drives itself, prints each job's
//                                        outcome, saves a PNG, exits 0
//   trellis_gtk_demo --demo=close        closes the window while jobs run
//
// The demo modes need a display; with none, run them under `xvfb-run -a`.
#include <gtk/gtk.h>

#include <trellis/glib.hpp>
#include <trellis/glib/signal_channel.hpp>
#include <trellis/trellis.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// ---- The window's state, shared by the tasks and the signal handlers. ----
//
// Everything here lives on the GTK thread, which is also the trellis run's
// thread: no locks are needed anywhere in this program (only the function
// given to to_thread::run_sync runs elsewhere, and it touches none of this).

struct app_state;
struct job_row;
using job_fn = task<> (*)(app_state&, job_row&);

struct job_row {
    const char* name;
    job_fn work;  // the job itself: an async function of the app and its row
    GtkProgressBar* progress = nullptr;
    GtkLabel* state = nullptr;
    GtkWidget* cancel_button = nullptr;
    // The cancel scope of the job while it runs (null otherwise); the row's
    // Cancel button cancels exactly this scope, so exactly this job.
    trellis::cancel_scope* scope = nullptr;

    void show(double fraction) const { gtk_progress_bar_set_fraction(progress, fraction); }
    void say(const std::string& text) const { gtk_label_set_text(state, text.c_str()); }
};

enum class demo_mode { none, full, close };

struct app_state {
    demo_mode demo = demo_mode::none;
    std::string screenshot_path;

    GtkWindow* window = nullptr;
    GtkWidget* start_button = nullptr;
    GtkWidget* cancel_all_button = nullptr;
    GtkSpinButton* timeout = nullptr;
    GtkLabel* heartbeat = nullptr;
    std::array<job_row, 4> rows;

    // The whole app runs inside this scope: closing the window cancels it.
    trellis::cancel_scope app_scope;
    bool run_over = false;
    // The running batch's nursery (null between batches): "Cancel all"
    // cancels its scope, and notes that it did.
    trellis::nursery* batch = nullptr;
    bool cancel_all_clicked = false;

    long heartbeat_ticks = 0;
    long ticks_during_crunch = 0;
    bool closed_while_running = false;
    int exit_status = 0;
};

// Clears a pointer when the enclosing block is left, however it is left
// (a cancellation unwinds through here like any exception).
template <class T>
struct reset_on_exit {
    T*& slot;
    ~reset_on_exit() { slot = nullptr; }
};

// ---- The four jobs: ordinary async functions of the app and their row. ----

// Ten steps of half a second. Every sleep is a checkpoint: where a Cancel,
// Cancel all or the timeout takes effect.
task<> steps_job(app_state&, job_row& row) {
    for (int i = 1; i <= 10; ++i) {
        co_await trellis::sleep(500ms);
        row.show(i / 10.0);
        row.say("step " + std::to_string(i) + " of 10");
    }
}

// Pure CPU work: counts the primes below `limit` by trial division
// (deliberately slow, about 0.3 s in an optimised build).
long count_primes(long limit) {
    long count = 0;
    for (long n = 2; n < limit; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n; ++d) {
            if (n % d == 0) {
                prime = false;
                break;
            }
        }
        count += prime;
    }
    return count;
}

// Runs count_primes on a worker thread: this task waits, but the GTK thread
// does not, so the heartbeat goes on ticking and the window keeps painting.
// A function running on a thread cannot be interrupted: if the job is
// cancelled meanwhile, run_sync still waits for it to return (at most those
// 0.3 s) and hands back its result; the cancellation is then raised at the
// task's next checkpoint, so we add one before showing the result.
task<> crunch_job(app_state& app, job_row& row) {
    row.say("computing on a worker thread");
    gtk_progress_bar_pulse(row.progress);
    const long ticks_before = app.heartbeat_ticks;
    long primes = co_await trellis::to_thread::run_sync(count_primes, 1'500'000L);
    app.ticks_during_crunch = app.heartbeat_ticks - ticks_before;
    co_await trellis::checkpoint();
    row.show(1.0);
    gtk_progress_bar_set_text(row.progress, (std::to_string(primes) + " primes").c_str());
}

// Sends 1..100 into the channel, one every 100 ms. The send end is owned
// by this task and closes when it returns, which ends the receiver's loop.
task<> produce(trellis::send_channel<int> tx) {
    for (int i = 1; i <= 100; ++i) {
        co_await trellis::sleep(100ms);
        co_await tx.send(i);
    }
}

// A producer streams values to the UI through a memory channel. The
// producer is a child of this job's own nursery, so it cannot outlive the
// job: cancelling the job (or the batch) stops both, and nothing is left
// sending into a row that is no longer listening.
task<> stream_job(app_state&, job_row& row) {
    // Buffer 0: every send waits for the receiver, so the producer never
    // runs ahead of what the UI has shown.
    auto channel = trellis::open_memory_channel<int>(0);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon(produce, std::move(channel.send));
        while (auto value = co_await channel.receive.next()) {
            row.show(*value / 100.0);
            row.say("received " + std::to_string(*value));
        }
    });
}

// Makes some progress, then fails the way real devices do.
task<> flaky_job(app_state&, job_row& row) {
    for (int i = 1; i <= 5; ++i) {
        co_await trellis::sleep(200ms);
        row.show(i / 20.0);
    }
    throw std::runtime_error("sensor unplugged");
}

// ---- One job in the batch: its own cancel scope, its own error. ----

// Runs one job inside a cancel scope of its own (published in the row, for
// its Cancel button) and turns how it ended into the row's final state.
//
// Errors are contained here, on purpose. In trellis, as in Trio, an error
// that escapes a child task cancels its siblings and comes out of the
// nursery: right for jobs that only make sense together, wrong for this
// window's independent jobs, where "flaky" failing must not stop "steps".
// So each job's task catches its own errors and shows them in its row:
// the error does not vanish, it just does not spread.
//
// Cancellation is different: `trellis::cancelled` is not a std::exception,
// so it passes the catch below; it must always be rethrown, to reach the
// scope that was cancelled (the batch's, or the whole app's).
task<> run_job(app_state& app, job_row& row, trellis::cancel_scope& timeout) {
    trellis::cancel_scope scope;
    row.scope = &scope;
    reset_on_exit<trellis::cancel_scope> forget{row.scope};
    gtk_widget_set_sensitive(row.cancel_button, TRUE);
    row.show(0.0);
    gtk_progress_bar_set_text(row.progress, nullptr);
    row.say("running");
    try {
        co_await scope.run(row.work, std::ref(app), std::ref(row));
        // The job's own scope catches its own cancellation (the row's
        // Cancel button); run() then returns normally.
        row.say(scope.cancelled_caught() ? "cancelled" : "done");
    } catch (const std::exception& e) {
        row.say(std::string("failed: ") + e.what());
    } catch (const trellis::cancelled&) {
        // An outer scope was cancelled: the batch nursery's ("Cancel all"),
        // the timeout scope around it (its deadline passed), or the app's
        // (the window is closing). Only the timeout means "timed out".
        // (The nursery's own scope cannot tell us: a nursery also cancels
        // itself when an error, such as this very cancellation, reaches it
        // from a child or from its waiting parent; hence the flag.)
        row.say(timeout.cancel_called() && !app.cancel_all_clicked ? "timed out" : "cancelled");
        throw;
    }
    gtk_widget_set_sensitive(row.cancel_button, FALSE);
}

// Starts every job in one nursery, inside a cancel scope whose deadline is
// the timeout field's value. The nursery is the batch: it ends only once
// every job has, whatever happened to each, so when this returns nothing
// of the batch is still running.
task<> run_batch(app_state& app) {
    const std::chrono::duration<double> seconds(gtk_spin_button_get_value(app.timeout));
    trellis::cancel_scope timeout(trellis::current_time() + std::chrono::duration_cast<trellis::duration>(seconds));
    app.cancel_all_clicked = false;
    gtk_widget_set_sensitive(app.start_button, FALSE);
    gtk_widget_set_sensitive(app.cancel_all_button, TRUE);
    co_await timeout.run([&]() -> task<> {
        reset_on_exit<trellis::nursery> forget{app.batch};  // the nursery is gone after open_nursery
        co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
            app.batch = &n;
            for (auto& row : app.rows) n.start_soon(run_job, std::ref(app), std::ref(row), std::ref(timeout));
            co_return;  // open_nursery now waits for every job
        });
    });
    for (auto& row : app.rows) gtk_widget_set_sensitive(row.cancel_button, FALSE);
    gtk_widget_set_sensitive(app.cancel_all_button, FALSE);
    gtk_widget_set_sensitive(app.start_button, TRUE);
}

// ---- Buttons: awaiting a click versus a plain handler. ----

// "Start all" as a loop that awaits the button's clicks: the order of
// events reads top to bottom (click, run the batch, wait for the next
// click) instead of being spread over callbacks and flags. The clicks come
// through a signal channel, so one made before the loop first waits is
// kept, not lost as with wait_signal; while a batch runs the button is
// insensitive.
task<> start_button_loop(app_state& app) {
    auto clicks = trellis::glib::signal_channel(app.start_button, "clicked");
    while (co_await clicks.next()) co_await run_batch(app);
}

// A row's Cancel button as a plain GTK signal handler: cancelling is
// immediate and needs no waiting, so a callback is the simpler tool.
// Handlers run on the run's thread, between trellis steps, so they may call
// scope.cancel() directly; the job sees it at its next checkpoint.
void on_row_cancel(GtkButton*, gpointer data) {
    auto* row = static_cast<job_row*>(data);
    if (row->scope) row->scope->cancel();
}

// "Cancel all" cancels the batch nursery's scope: every job in it.
void on_cancel_all(GtkButton*, gpointer data) {
    auto* app = static_cast<app_state*>(data);
    if (!app->batch) return;
    app->cancel_all_clicked = true;
    app->batch->cancel_scope().cancel();
}

// Closing the window cancels the whole app and keeps the window until the
// trellis run has unwound: tasks are still using its widgets meanwhile.
// The run's done callback then destroys it, which ends the application.
gboolean on_close_request(GtkWindow*, gpointer data) {
    auto* app = static_cast<app_state*>(data);
    if (app->run_over) return GDK_EVENT_PROPAGATE;
    app->closed_while_running = app->batch != nullptr;
    app->app_scope.cancel();
    return GDK_EVENT_STOP;
}

// ---- Heartbeat: a task ticking every 50 ms on the GTK thread. ----

task<> heartbeat(app_state& app) {
    for (;;) {
        co_await trellis::sleep(50ms);
        ++app.heartbeat_ticks;
        gtk_label_set_text(app.heartbeat, ("UI heartbeat: " + std::to_string(app.heartbeat_ticks)).c_str());
    }
}

// ---- Demo mode: the program drives its own window. ----

void click(GtkWidget* button) { g_signal_emit_by_name(button, "clicked"); }

// Renders the window as it is now into a PNG, with the window's own
// renderer. Returns false (with a message on stderr) if that fails.
bool save_screenshot(GtkWindow* window, const std::string& path) {
    GtkWidget* widget = GTK_WIDGET(window);
    const int width = gtk_widget_get_width(widget);
    const int height = gtk_widget_get_height(widget);
    GdkPaintable* paintable = gtk_widget_paintable_new(widget);
    GtkSnapshot* snapshot = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, snapshot, width, height);
    GskRenderNode* node = gtk_snapshot_free_to_node(snapshot);
    bool saved = false;
    if (node) {
        GskRenderer* renderer = gtk_native_get_renderer(GTK_NATIVE(window));
        graphene_rect_t viewport;
        graphene_rect_init(&viewport, 0, 0, static_cast<float>(width), static_cast<float>(height));
        GdkTexture* texture = gsk_renderer_render_texture(renderer, node, &viewport);
        saved = gdk_texture_save_to_png(texture, path.c_str());
        g_object_unref(texture);
        gsk_render_node_unref(node);
    }
    g_object_unref(paintable);
    if (!saved) std::fprintf(stderr, "trellis_gtk_demo: could not save the screenshot to %s\n", path.c_str());
    return saved;
}

// Waits until GTK has laid out and painted the window once more.
task<> next_frame(app_state& app) {
    GdkFrameClock* clock = gtk_widget_get_frame_clock(GTK_WIDGET(app.window));
    gtk_widget_queue_draw(GTK_WIDGET(app.window));
    co_await trellis::glib::wait_signal(clock, "after-paint");
}

// Waits until the window is on screen and has painted a frame.
task<> window_shown(app_state& app) {
    if (!gtk_widget_get_mapped(GTK_WIDGET(app.window)))
        co_await trellis::glib::wait_signal(app.window, "map");
    co_await next_frame(app);
}

// Start all (3 s timeout), cancel "steps" after a second, let the rest end
// on their own, then report, take a screenshot and close the window.
task<> demo_full(app_state& app) {
    co_await window_shown(app);
    gtk_spin_button_set_value(app.timeout, 3);
    click(app.start_button);
    co_await trellis::sleep(1s);
    click(app.rows[0].cancel_button);  // "steps"

    // The batch is over when "Start all" is sensitive again.
    while (!gtk_widget_get_sensitive(app.start_button))
        co_await trellis::glib::wait_signal(app.start_button, "notify::sensitive");
    for (const auto& row : app.rows) std::printf("job %s: %s\n", row.name, gtk_label_get_text(row.state));
    std::printf("heartbeat ticks during crunch: %ld\n", app.ticks_during_crunch);

    co_await next_frame(app);  // the final labels laid out and painted
    char* absolute = g_canonicalize_filename(app.screenshot_path.c_str(), nullptr);
    if (save_screenshot(app.window, absolute))
        std::printf("screenshot: %s\n", absolute);
    else
        app.exit_status = 1;
    g_free(absolute);
    std::fflush(stdout);
    gtk_window_close(app.window);  // cancels app_scope: this task ends here
    co_await trellis::sleep_forever();
}

// Start all, then close the window half a second later, mid-batch.
task<> demo_close(app_state& app) {
    co_await window_shown(app);
    click(app.start_button);
    co_await trellis::sleep(500ms);
    gtk_window_close(app.window);
    co_await trellis::sleep_forever();
}

// ---- The app's main task. ----

// Everything the app does runs in one nursery inside app_scope, so that
// closing the window (which cancels app_scope) stops all of it, and the
// run ends only when every task has really finished.
task<> app_main(app_state& app) {
    co_await app.app_scope.run([&]() -> task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
            n.start_soon(heartbeat, std::ref(app));
            n.start_soon(start_button_loop, std::ref(app));
            if (app.demo == demo_mode::full) n.start_soon(demo_full, std::ref(app));
            if (app.demo == demo_mode::close) n.start_soon(demo_close, std::ref(app));
            co_return;
        });
    });
}

// The guest run's done callback: runs on the GTK thread once every task
// has finished. Only now is it safe to destroy the window.
void on_run_done(app_state& app, trellis::outcome<void> result) {
    app.run_over = true;
    if (result.has_error()) {
        try {
            std::rethrow_exception(result.error());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "trellis_gtk_demo: the app failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "trellis_gtk_demo: the app failed\n");
        }
        app.exit_status = 1;
    }
    if (app.demo != demo_mode::none) {
        if (app.closed_while_running) {
            int cancelled = 0;
            for (const auto& row : app.rows) cancelled += std::strcmp(gtk_label_get_text(row.state), "cancelled") == 0;
            std::printf("closed while running: cancelled %d jobs\n", cancelled);
        }
        std::printf("done callback ran\n");
        std::fflush(stdout);
    }
    gtk_window_destroy(app.window);
}

// ---- Building the window (plain GTK 4). ----

GtkWidget* make_row(job_row& row) {
    GtkWidget* box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_widget_set_margin_top(box, 6);
    gtk_widget_set_margin_bottom(box, 6);
    gtk_widget_set_margin_start(box, 6);
    gtk_widget_set_margin_end(box, 6);

    GtkWidget* name = gtk_label_new(row.name);
    gtk_label_set_width_chars(GTK_LABEL(name), 7);
    gtk_label_set_xalign(GTK_LABEL(name), 0);
    gtk_widget_add_css_class(name, "heading");

    GtkWidget* progress = gtk_progress_bar_new();
    gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(progress), TRUE);
    gtk_widget_set_hexpand(progress, TRUE);
    gtk_widget_set_valign(progress, GTK_ALIGN_CENTER);

    GtkWidget* state = gtk_label_new("idle");
    gtk_label_set_width_chars(GTK_LABEL(state), 28);
    gtk_label_set_xalign(GTK_LABEL(state), 0);

    GtkWidget* cancel = gtk_button_new_with_label("Cancel");
    gtk_widget_set_sensitive(cancel, FALSE);
    g_signal_connect(cancel, "clicked", G_CALLBACK(on_row_cancel), &row);

    gtk_box_append(GTK_BOX(box), name);
    gtk_box_append(GTK_BOX(box), progress);
    gtk_box_append(GTK_BOX(box), state);
    gtk_box_append(GTK_BOX(box), cancel);
    row.progress = GTK_PROGRESS_BAR(progress);
    row.state = GTK_LABEL(state);
    row.cancel_button = cancel;
    return box;
}

void build_window(GtkApplication* application, app_state& app) {
    GtkWidget* window = gtk_application_window_new(application);
    gtk_window_set_title(GTK_WINDOW(window), "trellis + GTK 4: jobs");
    gtk_window_set_default_size(GTK_WINDOW(window), 720, -1);

    GtkWidget* controls = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    app.start_button = gtk_button_new_with_label("Start all");
    gtk_widget_add_css_class(app.start_button, "suggested-action");
    app.cancel_all_button = gtk_button_new_with_label("Cancel all");
    gtk_widget_set_sensitive(app.cancel_all_button, FALSE);
    g_signal_connect(app.cancel_all_button, "clicked", G_CALLBACK(on_cancel_all), &app);
    GtkWidget* timeout = gtk_spin_button_new_with_range(1, 60, 1);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(timeout), 3);
    app.timeout = GTK_SPIN_BUTTON(timeout);
    GtkWidget* heartbeat = gtk_label_new("UI heartbeat: 0");
    gtk_widget_set_hexpand(heartbeat, TRUE);
    gtk_label_set_xalign(GTK_LABEL(heartbeat), 1);
    gtk_widget_add_css_class(heartbeat, "dim-label");
    app.heartbeat = GTK_LABEL(heartbeat);
    gtk_box_append(GTK_BOX(controls), app.start_button);
    gtk_box_append(GTK_BOX(controls), app.cancel_all_button);
    gtk_box_append(GTK_BOX(controls), gtk_label_new("Timeout (s)"));
    gtk_box_append(GTK_BOX(controls), timeout);
    gtk_box_append(GTK_BOX(controls), heartbeat);

    GtkWidget* list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class(list, "rich-list");
    gtk_widget_add_css_class(list, "frame");
    for (auto& row : app.rows) gtk_list_box_append(GTK_LIST_BOX(list), make_row(row));

    GtkWidget* content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    gtk_widget_set_margin_top(content, 12);
    gtk_widget_set_margin_bottom(content, 12);
    gtk_widget_set_margin_start(content, 12);
    gtk_widget_set_margin_end(content, 12);
    gtk_box_append(GTK_BOX(content), controls);
    gtk_box_append(GTK_BOX(content), list);
    gtk_window_set_child(GTK_WINDOW(window), content);

    app.window = GTK_WINDOW(window);
    g_signal_connect(window, "close-request", G_CALLBACK(on_close_request), &app);
}

// "activate": build the window, show it, and start trellis as a guest of
// GTK's main loop (GLib's default context, which GtkApplication iterates).
void on_activate(GtkApplication* application, gpointer data) {
    auto& app = *static_cast<app_state*>(data);
    if (app.window) return gtk_window_present(app.window);  // activated again
    build_window(application, app);
    gtk_window_present(app.window);
    try {
        trellis::glib::start_guest_run(
            g_main_context_default(), [&app](trellis::outcome<void> result) { on_run_done(app, std::move(result)); },
            app_main, std::ref(app));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trellis_gtk_demo: could not start trellis: %s\n", e.what());
        app.exit_status = 1;
        app.run_over = true;
        gtk_window_destroy(app.window);
    }
}

int usage(const char* program) {
    std::fprintf(stderr, "usage: %s [--demo[=full|close]] [--screenshot PATH]\n", program);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    app_state app;
    app.rows = {{{"steps", steps_job}, {"crunch", crunch_job}, {"stream", stream_job}, {"flaky", flaky_job}}};
    app.screenshot_path = "trellis-gtk-demo.png";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--demo" || arg == "--demo=full")
            app.demo = demo_mode::full;
        else if (arg == "--demo=close")
            app.demo = demo_mode::close;
        else if (arg == "--screenshot" && i + 1 < argc)
            app.screenshot_path = argv[++i];
        else if (arg.rfind("--screenshot=", 0) == 0)
            app.screenshot_path = arg.substr(std::strlen("--screenshot="));
        else
            return usage(argv[0]);
    }

    if (app.demo != demo_mode::none) {
        if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
            std::fprintf(stderr,
                         "%s: the GTK demo needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set.\n"
                         "Run it under a virtual X server: xvfb-run -a %s --demo\n",
                         argv[0], argv[0]);
            return 2;
        }
        // Xvfb has no GPU; GTK's cairo renderer draws in software, quietly
        // and the same everywhere (an explicit GSK_RENDERER still wins).
        g_setenv("GSK_RENDERER", "cairo", FALSE);
        // Nobody uses assistive technology in a scripted run, and a bare X
        // server has no D-Bus session bus for GTK's AT-SPI bridge, which
        // would warn that it cannot reach one.
        g_setenv("GTK_A11Y", "none", FALSE);
    }

    // NON_UNIQUE: every launch is its own instance (two demos may run at
    // once, as the tests do), and no D-Bus session is needed.
    GtkApplication* application = gtk_application_new("org.trellis.GtkDemo", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(application, "activate", G_CALLBACK(on_activate), &app);
    // Our options are parsed above; GTK gets only the program name.
    const int status = g_application_run(G_APPLICATION(application), 1, argv);
    g_object_unref(application);
    return status != 0 ? status : app.exit_status;
}
