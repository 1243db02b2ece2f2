// The Qt adapter: posting the guest driver's steps to the application's
// event loop, and the non-template halves of the public helpers.

#include "trellis/qt.hpp"

#include <QCoreApplication>
#include <QEvent>
#include <QEventLoop>
#include <QThread>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace trellis::qt::detail {

namespace {

QEvent::Type call_event_type() {
    static const auto type = static_cast<QEvent::Type>(QEvent::registerEventType());
    return type;
}

// A posted callback. Qt owns the event once posted; deleting it unrun (the
// receiver or the application went away) destroys the callback unrun,
// which the guest driver counts as its host being gone.
class call_event final : public QEvent {
public:
    explicit call_event(std::function<void()> fn) : QEvent(call_event_type()), fn_(std::move(fn)) {}
    void run() { fn_(); }

private:
    std::function<void()> fn_;
};

// Where posts go, shared by the receiver and the driver's post functions.
struct post_target {
    std::mutex mutex;
    // Written only on the application's thread, under the mutex; null once
    // the receiver is being destroyed. Other threads read it under the
    // mutex and post while holding it, so no post reaches a dead receiver.
    QObject* receiver = nullptr;
};

// The nested loop run_application_loop is in, if any (application thread).
QEventLoop* draining_loop = nullptr;

}  // namespace

class run_receiver final : public QObject {
public:
    explicit run_receiver(QCoreApplication* app) : QObject(app), target_(std::make_shared<post_target>()) {
        target_->receiver = this;
    }

    ~run_receiver() override {
        {
            std::lock_guard lock(target_->mutex);
            target_->receiver = nullptr;
        }
        // If the run is live, the worker may hold the chain of steps (no
        // step is posted): abandon it now. The steps still posted to us are
        // deleted unrun by ~QObject right after this body.
        if (run_) run_->host_gone();
    }

    guest_host host() const {
        guest_host h;
        h.run_sync_soon_threadsafe = [target = target_](std::function<void()> fn) {
            auto event = std::make_unique<call_event>(std::move(fn));
            std::lock_guard lock(target->mutex);
            if (target->receiver) QCoreApplication::postEvent(target->receiver, event.release());
            // else: the application is gone; the callback dies unrun, after
            // the lock is released (declared before it).
        };
        h.run_sync_soon_not_threadsafe = [target = target_](std::function<void()> fn) {
            // The application's thread is the only writer of `receiver`.
            if (target->receiver) QCoreApplication::postEvent(target->receiver, new call_event(std::move(fn)));
        };
        return h;
    }

    void attach(const guest_run& run) { run_.emplace(run); }

protected:
    bool event(QEvent* e) override {
        if (e->type() != call_event_type()) return QObject::event(e);
        static_cast<call_event*>(e)->run();
        if (run_ && run_->finished()) deleteLater();
        return true;
    }

private:
    std::shared_ptr<post_target> target_;
    std::optional<guest_run> run_;
};

application_link::application_link(const char* caller) {
    QCoreApplication* app = QCoreApplication::instance();
    if (!app)
        throw run_error(std::string(caller) +
                        ": no QCoreApplication exists; create the application object (QCoreApplication, "
                        "QGuiApplication or QApplication) before starting a trellis run on it");
    if (QThread::currentThread() != app->thread())
        throw run_error(std::string(caller) +
                        ": called from a thread other than the QCoreApplication's; start the run on the "
                        "application's thread (normally the main thread)");
    receiver_ = new run_receiver(app);
}

application_link::~application_link() {
    if (!attached_) delete receiver_;
}

guest_host application_link::host() const { return receiver_->host(); }

void application_link::attach(const guest_run& run) {
    receiver_->attach(run);
    attached_ = true;
}

bool in_event_loop() noexcept { return QThread::currentThread()->loopLevel() > 0; }

int run_application_loop(const bool& done, const std::function<void()>& cancel) {
    const int code = QCoreApplication::exec();
    if (done) return code;
    // The application's loop ended before the run: cancel the main task and
    // keep delivering events until the run is over.
    cancel();
    QEventLoop loop;
    draining_loop = &loop;
    while (!done) loop.exec();
    draining_loop = nullptr;
    return code;
}

void quit_application_loop() {
    if (draining_loop)
        draining_loop->quit();
    else
        QCoreApplication::exit(0);
}

void signal_wait::watch_destroyed(QObject* sender, lowlevel::task_handle task) {
    destroyed_ = QObject::connect(sender, &QObject::destroyed, &context_, [this, task] {
        if (!close()) return;
        lowlevel::reschedule(task, std::make_exception_ptr(closed_resource_error(
                                       "trellis::qt::wait_signal: the sender was destroyed before it emitted")));
    });
}

bool signal_wait::close() noexcept {
    if (!open_) return false;
    open_ = false;
    QObject::disconnect(emitted_);
    QObject::disconnect(destroyed_);
    return true;
}

}  // namespace trellis::qt::detail

namespace trellis::qt {

cancel_on_destroy::cancel_on_destroy(QObject* object, cancel_scope& scope) {
    if (!object) {
        scope.cancel();
        return;
    }
    QObject::connect(object, &QObject::destroyed, &context_, [&scope] { scope.cancel(); });
}

}  // namespace trellis::qt
