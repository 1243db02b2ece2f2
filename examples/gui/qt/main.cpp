// trellis + Qt 6 widgets: four background jobs behind one window.
//
//   trellis_qt_demo                      the interactive app
//   trellis_qt_demo --demo [--screenshot PATH]
//                                        drives itself, prints each job's
//                                        outcome, saves a PNG, exits 0
//   trellis_qt_demo --demo=close         closes the window mid-batch
//
// What to look for, top to bottom:
//  * Qt owns the main loop; trellis runs as a *guest* on it
//    (trellis::qt::start_guest_run). Tasks, slots and widgets all live on
//    the GUI thread, so a slot may cancel a scope and a task may set a label
//    directly: no locks, no queued signals, no QThread.
//  * "Start all" opens a *nursery*: the batch is over only when every job is
//    over, so no job can outlive the batch, the window, or the app.
//  * Every way of stopping work is a *cancel scope*: the timeout (a scope
//    with a deadline), "Cancel all" (the nursery's own scope), each row's
//    Cancel (the job's scope), and closing the window (the main scope).
//    A job never needs to be told why it stops; it just stops at its next
//    checkpoint (co_await), and the scope that was cancelled catches it.
//  * The heartbeat label keeps ticking while `crunch` computes on a worker
//    thread (trellis::to_thread::run_sync): the GUI thread never blocks.
#include <trellis/qt.hpp>
#include <trellis/qt/signal_channel.hpp>
#include <trellis/trellis.hpp>

#include <QApplication>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QWidget>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// ---------------------------------------------------------------------------
// The widgets. Plain Qt, no trellis: no Q_OBJECT (no moc) is needed, because
// this example declares no signals or slots of its own.

struct batch;

struct job_row {
    const char* name;
    QProgressBar* progress = nullptr;
    QLabel* state = nullptr;
    QPushButton* cancel = nullptr;
    // The job's own cancel scope while it runs (it lives in the job's
    // coroutine frame), else null. The row's Cancel button cancels it.
    trellis::cancel_scope* scope = nullptr;

    void show(int percent, const QString& text) {
        progress->setValue(percent);
        state->setText(text);
    }
    void finish(const QString& final_state) {
        scope = nullptr;
        cancel->setEnabled(false);
        state->setText(final_state);
    }
};

class jobs_window : public QWidget {
public:
    jobs_window() {
        setWindowTitle("trellis + Qt: jobs");
        auto* grid = new QGridLayout;
        for (int i = 0; i < int(rows.size()); ++i) {
            job_row& row = rows[std::size_t(i)];
            row.progress = new QProgressBar;
            row.progress->setMinimumWidth(180);
            row.state = new QLabel("idle");
            row.state->setMinimumWidth(220);
            row.cancel = new QPushButton("Cancel");
            row.cancel->setEnabled(false);
            grid->addWidget(new QLabel(row.name), i, 0);
            grid->addWidget(row.progress, i, 1);
            grid->addWidget(row.state, i, 2);
            grid->addWidget(row.cancel, i, 3);
        }
        grid->setColumnStretch(2, 1);
        timeout->setRange(1, 60);
        timeout->setValue(3);
        timeout->setSuffix(" s");
        cancel_all->setEnabled(false);
        auto* controls = new QHBoxLayout;
        controls->addWidget(start_all);
        controls->addWidget(cancel_all);
        controls->addWidget(new QLabel("Timeout:"));
        controls->addWidget(timeout);
        controls->addStretch();
        controls->addWidget(heartbeat);
        auto* layout = new QVBoxLayout(this);
        layout->addLayout(grid);
        layout->addLayout(controls);
    }

    job_row& row(const char* name) {
        for (job_row& r : rows)
            if (std::strcmp(r.name, name) == 0) return r;
        throw std::logic_error(std::string("no job named ") + name);
    }

    std::array<job_row, 4> rows{{{"steps"}, {"crunch"}, {"stream"}, {"flaky"}}};
    QPushButton* start_all = new QPushButton("Start all");
    QPushButton* cancel_all = new QPushButton("Cancel all");
    QSpinBox* timeout = new QSpinBox;
    QLabel* heartbeat = new QLabel("UI heartbeat: 0");
    long heartbeat_ticks = 0;
    long ticks_during_crunch = 0;
    // The batch "Start all" started last (kept after it is over).
    std::shared_ptr<batch> current_batch;
};

// ---------------------------------------------------------------------------
// The jobs. Each is an ordinary async function; none of them knows about
// timeouts, buttons or windows. Every co_await is a checkpoint, where a
// cancellation from any enclosing scope arrives as trellis::cancelled.

task<> steps_job(jobs_window&, job_row& row) {
    for (int step = 1; step <= 10; ++step) {
        co_await trellis::sleep(500ms);
        row.show(step * 10, QString("step %1 of 10").arg(step));
    }
}

// A pure, CPU-bound function (about 0.3 s with optimisation). It must not
// touch widgets: it runs on a worker thread.
long count_primes_below(long limit) {
    long count = 0;
    for (long n = 2; n < limit; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
        count += prime ? 1 : 0;
    }
    return count;
}

task<> crunch_job(jobs_window& w, job_row& row) {
    row.show(0, "computing on a worker thread");
    const long ticks_before = w.heartbeat_ticks;
    // The task waits here while the GUI thread goes on running the event
    // loop and the other tasks (watch the heartbeat). A running thread
    // cannot be interrupted: run_sync waits for it to return and hands back
    // its result even if the job was cancelled meanwhile; the cancellation
    // is raised at the next checkpoint, so we add one before showing the
    // result. (abandon_on_cancel would drop the result and return at once.)
    const long primes = co_await trellis::to_thread::run_sync(count_primes_below, 1'000'000L);
    w.ticks_during_crunch = w.heartbeat_ticks - ticks_before;
    co_await trellis::checkpoint();
    row.show(100, QString("%1 primes").arg(primes));
}

// The producer side of `stream`: one value every 100 ms for 10 s. Owning
// the send end means that returning (or being cancelled) closes it, which
// ends the consumer's loop.
task<> produce_readings(trellis::send_channel<int> out) {
    for (int value = 1; value <= 100; ++value) {
        co_await trellis::sleep(100ms);
        co_await out.send(value);
    }
}

task<> stream_job(jobs_window&, job_row& row) {
    auto channel = trellis::open_memory_channel<int>(0);
    trellis::receive_channel<int> readings = std::move(channel.receive);
    // The producer is a child of this job's own nursery: cancelling the
    // job (by whichever scope) stops both, and the job cannot end while the
    // producer still runs.
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon(produce_readings, std::move(channel.send));
        int received = 0;
        while (std::optional<int> value = co_await readings.next()) {
            ++received;
            row.show(*value, QString("received %1").arg(received));
        }
    });
}

task<> flaky_job(jobs_window&, job_row& row) {
    for (int step = 1; step <= 5; ++step) {
        co_await trellis::sleep(200ms);
        row.show(step * 10, "reading the sensor");
    }
    throw std::runtime_error("sensor unplugged");
}

using job_fn = task<> (*)(jobs_window&, job_row&);

job_fn job_for(const job_row& row) {
    const std::string name = row.name;
    if (name == "steps") return steps_job;
    if (name == "crunch") return crunch_job;
    if (name == "stream") return stream_job;
    return flaky_job;
}

// ---------------------------------------------------------------------------
// One batch: everything "Start all" started. Shared with the Cancel all
// slot and the demo, which may hold it after the batch is over.

struct batch {
    // The timeout: its deadline cancels whatever is still running.
    trellis::cancel_scope timeout;
    // The jobs' nursery while it is open. Cancelling its scope cancels
    // every job: that is all "Cancel all" does.
    trellis::nursery* jobs = nullptr;
    bool cancel_all_clicked = false;
    trellis::event over;

    explicit batch(trellis::time_point deadline) : timeout(deadline) {}
};

// Runs one job inside its own cancel scope and turns its ending into the
// row's final state: done, cancelled, timed out, or failed: <message>.
task<> run_job(jobs_window& w, job_row& row, batch& b) {
    trellis::cancel_scope own;  // the row's Cancel button cancels this one
    row.scope = &own;
    row.cancel->setEnabled(true);
    row.show(0, "running");
    QString final_state;
    try {
        co_await own.run(job_for(row), std::ref(w), std::ref(row));
        // A scope catches the cancellation it caused, so reaching this line
        // after a cancellation means it was this row's Cancel button.
        final_state = own.cancelled_caught() ? "cancelled" : "done";
    } catch (const trellis::cancelled&) {
        // An enclosing scope was cancelled. The cancellation must travel on
        // to that scope (rethrown below); we only record why it came.
        // Nothing calls cancel() on the timeout scope, so cancel_called()
        // there means its deadline expired; otherwise it was "Cancel all"
        // or the window closing.
        final_state = !b.cancel_all_clicked && b.timeout.cancel_called() ? "timed out" : "cancelled";
        row.finish(final_state);
        throw;
    } catch (const std::exception& e) {
        // A deliberate choice: the error stops here, in its own row. Left
        // to propagate, it would do what Trio does with an error in a
        // nursery: cancel the sibling jobs and come out of "Start all".
        // These jobs are independent, so one failure is shown, not spread;
        // and it is caught, not lost: the message is the row's state.
        final_state = QString("failed: ") + e.what();
    }
    row.finish(final_state);
}

task<> run_batch(jobs_window& w, std::shared_ptr<batch> b) {
    co_await b->timeout.run([&]() -> task<> {
        // The nursery is the batch: open_nursery returns only once every job
        // has finished, however each one ended.
        co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
            b->jobs = &n;
            for (job_row& row : w.rows) n.start_soon(run_job, std::ref(w), std::ref(row), std::ref(*b));
            co_return;
        });
    });
    b->jobs = nullptr;
    b->over.set();
}

// ---------------------------------------------------------------------------
// The long-lived tasks of the app.

// "Start all", awaited rather than connected: the loop reads top to bottom
// (wait for a click, run a batch, wait again), and while a batch runs there
// is no handler that could start a second one. The clicks come through a
// signal channel, so a click made before the loop first waits (or between
// two waits) is kept, not lost as with wait_signal.
task<> start_all_loop(jobs_window& w) {
    auto clicks = trellis::qt::signal_channel(w.start_all, &QPushButton::clicked);
    while (co_await clicks.next()) {
        w.current_batch =
            std::make_shared<batch>(trellis::current_time() + std::chrono::seconds(w.timeout->value()));
        w.start_all->setEnabled(false);
        w.timeout->setEnabled(false);
        w.cancel_all->setEnabled(true);
        co_await run_batch(w, w.current_batch);
        w.cancel_all->setEnabled(false);
        w.timeout->setEnabled(true);
        w.start_all->setEnabled(true);
    }
}

task<> heartbeat(jobs_window& w) {
    for (;;) {
        co_await trellis::sleep(50ms);
        ++w.heartbeat_ticks;
        w.heartbeat->setText(QString("UI heartbeat: %1").arg(w.heartbeat_ticks));
    }
}

enum class mode { interactive, demo, demo_close };

// The scripted demo: clicks like a user would, from a task.
task<> drive_demo(jobs_window& w, mode m, QString screenshot) {
    co_await trellis::sleep(200ms);  // let the window appear
    w.timeout->setValue(3);
    w.start_all->click();
    if (m == mode::demo_close) {
        co_await trellis::sleep(500ms);
        w.close();  // app_main's close watcher takes it from here
        co_return;
    }
    co_await trellis::sleep(1s);
    w.row("steps").cancel->click();
    // The click woke start_all_loop, which started the batch long ago.
    const std::shared_ptr<batch> b = w.current_batch;
    if (!b) throw std::logic_error("the demo's click on Start all started no batch");
    co_await b->over.wait();
    // Read back from the widgets what the user sees.
    for (const job_row& row : w.rows)
        std::printf("job %s: %s\n", row.name, row.state->text().toUtf8().constData());
    std::printf("heartbeat ticks during crunch: %ld\n", w.ticks_during_crunch);
    const QString path = QFileInfo(screenshot).absoluteFilePath();
    if (!w.grab().save(path, "PNG"))
        throw std::runtime_error("could not save the screenshot to " + path.toStdString());
    std::printf("screenshot: %s\n", path.toUtf8().constData());
    std::fflush(stdout);
    w.close();
}

// The main task. Its nursery holds every task of the app; closing the
// window cancels that nursery, which reaches every job of a running batch
// through the nested scopes, however deep.
task<> app_main(jobs_window& w, mode m, QString screenshot) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon(heartbeat, std::ref(w));
        n.start_soon(start_all_loop, std::ref(w));
        if (m != mode::interactive) n.start_soon(drive_demo, std::ref(w), m, screenshot);
        // The body itself waits for the window to close (a signal awaited,
        // like "Start all"), then cancels everything in the nursery.
        co_await trellis::qt::wait_signal(qApp, &QGuiApplication::lastWindowClosed);
        n.cancel_scope().cancel();
    });
    // Here every task has finished: nothing can touch the window any more.
    if (m == mode::demo_close) {
        int cancelled = 0;
        for (const job_row& row : w.rows) cancelled += row.state->text() == "cancelled" ? 1 : 0;
        std::printf("closed while running: cancelled %d jobs\n", cancelled);
    }
}

// The Cancel buttons, connected the classic way (compare start_all_loop): a
// slot runs on the GUI thread between trellis steps, so it may cancel a
// scope directly. cancel() is not a checkpoint and does not wait; each job
// sees it at its next co_await, and its label changes when it has stopped.
void connect_cancel_buttons(jobs_window& w) {
    QObject::connect(w.cancel_all, &QPushButton::clicked, &w, [&w] {
        batch* b = w.current_batch.get();
        if (b && b->jobs) {
            b->cancel_all_clicked = true;
            b->jobs->cancel_scope().cancel();
        }
    });
    for (job_row& row : w.rows)
        QObject::connect(row.cancel, &QPushButton::clicked, &w, [&row] {
            if (row.scope) row.scope->cancel();
        });
}

// Qt's offscreen platform (see main) warns "This plugin does not support
// propagateSizeHints()" whenever a layout changes a window's size limits:
// with no window system there is nobody to tell, so the warning carries no
// information. This handler drops exactly that message and passes every
// other one to Qt's own handler.
QtMessageHandler qt_handler = nullptr;
void quiet_offscreen_messages(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (message == QLatin1String("This plugin does not support propagateSizeHints()")) return;
    qt_handler(type, context, message);
}

}  // namespace

int main(int argc, char** argv) {
    mode m = mode::interactive;
    QString screenshot = "trellis-qt-demo.png";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--demo")
            m = mode::demo;
        else if (arg == "--demo=close")
            m = mode::demo_close;
        else if (arg == "--screenshot" && i + 1 < argc)
            screenshot = argv[++i];
        else if (arg.rfind("--screenshot=", 0) == 0)
            screenshot = QString::fromStdString(arg.substr(std::strlen("--screenshot=")));
        else if (arg.rfind("--", 0) == 0) {
            std::fprintf(stderr, "usage: %s [--demo [--screenshot PATH] | --demo=close]\n", argv[0]);
            return 2;
        }
    }
    // The demo also runs where there is no display at all (a CI job, an ssh
    // session): Qt's offscreen platform still lays out and paints widgets.
    if (m != mode::interactive && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    if (QGuiApplication::platformName() == QLatin1String("offscreen"))
        qt_handler = qInstallMessageHandler(quiet_offscreen_messages);
    // The loop ends when the trellis run ends (the done callback below), not
    // when the window closes: closing only cancels, and the jobs need the
    // loop to finish their cleanup.
    QApplication::setQuitOnLastWindowClosed(false);

    jobs_window window;
    connect_cancel_buttons(window);

    int status = 0;
    // trellis as Qt's guest: app_main runs on this thread, stepped from
    // Qt's event loop. The done callback runs there too, once every task is
    // over; it is where the host learns that the run has ended, so it is
    // what ends the loop. (trellis::qt::run is the one-call form of this.)
    trellis::qt::start_guest_run(
        [&](trellis::outcome<void> result) {
            try {
                result.unwrap();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "trellis_qt_demo: %s\n", e.what());
                status = 1;
            } catch (...) {
                std::fprintf(stderr, "trellis_qt_demo: unknown error\n");
                status = 1;
            }
            if (m != mode::interactive) std::printf("done callback ran\n");
            std::fflush(stdout);
            QApplication::quit();
        },
        app_main, std::ref(window), m, screenshot);
    window.show();
    QApplication::exec();
    return status;
}
