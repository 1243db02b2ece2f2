// cancel_on_dispose: a weak reference on the object whose notification
// cancels the scope.
//
// GObject notifies weak references on the thread that disposes the object,
// normally the run's thread (GTK disposes widgets on the main thread); a
// disposal on another thread forwards the cancellation through the run's
// token. Because that notification may race with the guard's destruction
// on the run's thread, the links still watched are kept in one registry
// under one mutex: a notification acts only on a link the guard has not
// taken back, and the guard frees its link only after taking it back.
// (GObject itself may still warn in that race, when the guard removes a
// weak reference the disposal has just consumed; there is no way to remove
// one conditionally.)

#include "trellis/glib/cancel_on_dispose.hpp"

#include <mutex>
#include <thread>
#include <unordered_set>

#include "signal_lookup.hpp"
#include "trellis/errors.hpp"
#include "trellis/token.hpp"

namespace trellis::glib::detail {

struct dispose_link {
    cancel_scope* scope;  // run's thread only; null once the guard is gone
    GObject* object;
    trellis::token token;
    std::thread::id run_thread = std::this_thread::get_id();
};

namespace {

std::mutex registry_mutex;
// The links whose weak reference is still in place; guarded by registry_mutex.
std::unordered_set<const dispose_link*>& registry() {
    static std::unordered_set<const dispose_link*> links;
    return links;
}

void cancel_on_run_thread(const std::shared_ptr<dispose_link>& link) {
    if (link->scope) link->scope->cancel();
}

void on_disposed(gpointer data, GObject*) noexcept {
    auto* holder = static_cast<std::shared_ptr<dispose_link>*>(data);
    {
        std::lock_guard lock(registry_mutex);
        // Not registered: the guard took the link back first and frees it.
        if (registry().erase(holder->get()) == 0) return;
    }
    // The weak reference is consumed: the holder is ours to free.
    std::shared_ptr<dispose_link> link = std::move(*holder);
    delete holder;
    on_run_thread(link->run_thread, link->token, [link] { cancel_on_run_thread(link); });
}

}  // namespace
}  // namespace trellis::glib::detail

namespace trellis::glib {

cancel_on_dispose::cancel_on_dispose(GObject* object, cancel_scope& scope) {
    if (!object) {
        scope.cancel();
        return;
    }
    detail::require_run("trellis::glib::cancel_on_dispose");
    if (!G_IS_OBJECT(object))
        throw run_error("trellis::glib::cancel_on_dispose: the object must be a GObject");
    link_ = std::make_shared<detail::dispose_link>(detail::dispose_link{&scope, object, current_token()});
    holder_ = new std::shared_ptr<detail::dispose_link>(link_);
    {
        std::lock_guard lock(detail::registry_mutex);
        detail::registry().insert(link_.get());
    }
    g_object_weak_ref(object, &detail::on_disposed, holder_);
}

cancel_on_dispose::~cancel_on_dispose() {
    if (!link_) return;
    link_->scope = nullptr;
    {
        std::lock_guard lock(detail::registry_mutex);
        if (detail::registry().erase(link_.get()) == 0) return;  // disposed: the notification freed its holder
    }
    // Still in place: remove the weak reference, then free its holder (the
    // notification can no longer find the link).
    g_object_weak_unref(link_->object, &detail::on_disposed, holder_);
    delete holder_;
}

}  // namespace trellis::glib
