// The Qt adapter: posting the guest driver's steps to the application's
// event loop (and, for host-native runs, watching the run's epoll fd and
// deadline with a QSocketNotifier that is also a timer), and the non-template
// halves of the public helpers.

#include "trellis/qt.hpp"

#include <QCoreApplication>
#include <QEvent>
#include <QEventLoop>
#include <QMetaObject>
#include <QPointer>
#include <QSocketNotifier>
#include <QThread>
#include <QTimerEvent>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
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
    // Bumped (release) by a post from another thread once its event is
    // built, read (acquire) by the receiver before it runs one. Qt's queue
    // already orders the two, but with locks inside libQt6Core, which
    // ThreadSanitizer does not see: without this it reports the event the
    // poster built and the receiver reads as a race.
    std::atomic<unsigned> posts{0};
};

// The nested loop run_application_loop is in, if any (application thread).
QEventLoop* draining_loop = nullptr;
// Which run_application_loop call is in progress (application thread):
// its number, 0 when none. A quit posted for one call that has ended by
// the time it is delivered must not stop a later one.
unsigned current_loop = 0;
unsigned loops_started = 0;

// Host-native waiting (run_options::guest_io = host_native): a
// QSocketNotifier (Read) on the run's epoll fd that is also the run's
// deadline timer (QObject::startTimer, Qt::PreciseTimer), a child of the
// run's receiver, so it never outlives the application. It handles its
// events itself (SockAct, Timer) instead of emitting signals to a slot:
// a wait is then one event delivery, with no signal emission, connection
// lookup or QTimer object in between. The notifier stays enabled between
// waits (enabling it registers the fd with the event dispatcher, which can
// wake the loop each time); while disarmed its activations are ignored.
// It can only fire spuriously while the run is busy, and then the run's
// next step (already posted) consumes what made the fd readable.
//
// The receiver's destructor abandons a live run before ~QObject deletes its
// children, and abandoning destroys the waiter: it disables the notifier
// at once and deletes it later (its event may be being delivered right
// now); QPointer covers its deletion by the parent first. The waiter lives
// as long as the run, so its destructor also schedules the receiver's
// deletion (a run that completes from the notifier's event has no last
// posted step after which the receiver would delete itself).
class epoll_notifier final : public QSocketNotifier {
public:
    epoll_notifier(int fd, QObject* parent, std::function<void()> fire)
        : QSocketNotifier(static_cast<qintptr>(fd), QSocketNotifier::Read, parent), fire_(std::move(fire)) {}

    // Starts the deadline timer, replacing any running one.
    void start_deadline(std::chrono::milliseconds ms) {
        stop_deadline();
        timer_id_ = startTimer(ms, Qt::PreciseTimer);
    }
    void stop_deadline() noexcept {
        if (timer_id_ != 0) killTimer(std::exchange(timer_id_, 0));
    }
    // Stops both watches for good (the waiter is going).
    void retire() noexcept {
        setEnabled(false);  // before the run closes the fd
        stop_deadline();
        fire_ = nullptr;
    }

protected:
    bool event(QEvent* e) override {
        if (e->type() == QEvent::SockAct) {
            if (fire_) fire_();  // may retire this notifier
            return true;
        }
        return QSocketNotifier::event(e);
    }
    void timerEvent(QTimerEvent* e) override {
        if (e->timerId() != timer_id_) return;
        stop_deadline();  // single-shot
        if (fire_) fire_();
    }

private:
    std::function<void()> fire_;
    int timer_id_ = 0;
};

class native_watch final : public trellis::native_waiter {
public:
    native_watch(QObject* parent, int fd, std::function<void()> on_ready)
        : on_ready_(std::move(on_ready)), receiver_(parent) {
        notifier_ = new epoll_notifier(fd, parent, [this] { fire(); });
    }
    ~native_watch() override {
        if (notifier_) {
            notifier_->retire();
            notifier_->deleteLater();
        }
        if (receiver_) receiver_->deleteLater();
    }

    void arm(duration timeout) override {
        armed_ = true;
        if (timeout == duration::max()) return;
        // Qt's timers count whole milliseconds: round up, so that the wait
        // does not end before the run's deadline.
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
        notifier_->start_deadline(std::min(ms, std::chrono::milliseconds(std::numeric_limits<int>::max())));
    }

    void disarm() noexcept override {
        armed_ = false;
        if (notifier_) notifier_->stop_deadline();
    }

private:
    void fire() {
        if (!armed_) return;
        disarm();
        on_ready_();  // may destroy *this
    }

    std::function<void()> on_ready_;
    QPointer<QObject> receiver_;
    QPointer<epoll_notifier> notifier_;
    bool armed_ = false;
};

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

    guest_host host() {
        guest_host h;
        h.run_sync_soon_threadsafe = [target = target_](std::function<void()> fn) {
            auto event = std::make_unique<call_event>(std::move(fn));
            target->posts.fetch_add(1, std::memory_order_release);
            std::lock_guard lock(target->mutex);
            if (target->receiver) QCoreApplication::postEvent(target->receiver, event.release());
            // else: the application is gone; the callback dies unrun, after
            // the lock is released (declared before it).
        };
        h.run_sync_soon_not_threadsafe = [target = target_](std::function<void()> fn) {
            // The application's thread is the only writer of `receiver`.
            if (target->receiver) QCoreApplication::postEvent(target->receiver, new call_event(std::move(fn)));
        };
        // Called when the run starts, on the application's thread, while
        // the receiver lives.
        h.make_native_waiter = [receiver = this](int fd, std::function<void()> on_ready) {
            return std::unique_ptr<trellis::native_waiter>(
                std::make_unique<native_watch>(receiver, fd, std::move(on_ready)));
        };
        return h;
    }

    void attach(const guest_run& run) { run_.emplace(run); }

protected:
    bool event(QEvent* e) override {
        target_->posts.load(std::memory_order_acquire);  // before reading the event at all
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
    struct in_progress {
        in_progress() noexcept { current_loop = ++loops_started; }
        ~in_progress() {
            current_loop = 0;
            draining_loop = nullptr;
        }
    } guard;
    const int code = QCoreApplication::exec();  // delivers deferred deletes once it has returned
    if (done) return code;
    // The application's loop ended before the run: cancel the main task and
    // keep delivering events until the run is over.
    cancel();
    QEventLoop loop;
    draining_loop = &loop;
    while (!done) loop.exec();
    // As exec() does: what the last iteration deleteLater()'d (a window
    // closed with WA_DeleteOnClose) is deleted now, not leaked.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return code;
}

void quit_application_loop() {
    // Posted, so that the events posted before it (what the run's last step
    // posted, such as the close a cancel_on_close guard held back) are
    // delivered before qt::run returns.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [loop = current_loop] {
            if (loop == 0 || loop != current_loop) return;  // that loop is over already
            if (draining_loop)
                draining_loop->quit();
            else
                QCoreApplication::exit(0);
        },
        Qt::QueuedConnection);
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
