#include "signal_lookup.hpp"

#include "trellis/errors.hpp"
#include "trellis/run.hpp"

namespace trellis::glib::detail {

namespace {
std::string describe(const std::string& name, GObject* instance) {
    return "\"" + name + "\" on " + G_OBJECT_TYPE_NAME(instance);
}
}  // namespace

void require_run(const char* caller) {
    if (!in_trellis_run())
        throw run_error(std::string(caller) +
                        ": called outside a trellis run; call it on the run's thread, in a task or in host code "
                        "once the run has started (trellis::glib::run or glib::start_guest_run)");
}

void check_signal(gpointer instance, const std::string& name, const signal_shape& shape, const char* caller) {
    require_run(caller);
    const std::string prefix = std::string(caller) + ": ";
    if (!instance || !G_IS_OBJECT(instance)) throw run_error(prefix + "the instance must be a GObject");
    GObject* object = G_OBJECT(instance);
    guint id = 0;
    GQuark detail = 0;
    if (!g_signal_parse_name(name.c_str(), G_OBJECT_TYPE(object), &id, &detail, TRUE))
        throw run_error(prefix + "no signal " + describe(name, object));
    if (shape.any_arguments) return;
    GSignalQuery query;
    g_signal_query(id, &query);
    if (query.n_params != shape.count)
        throw run_error(prefix + "signal " + describe(name, object) + " has " + std::to_string(query.n_params) +
                        " argument(s), the call names " + std::to_string(shape.count));
    for (guint i = 0; i < query.n_params; ++i) {
        GType type = query.param_types[i] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
        if (!shape.accepts(i, type))
            throw run_error(prefix + "argument " + std::to_string(i + 1) + " of signal " + describe(name, object) +
                            " is a " + g_type_name(type) + ", which does not convert to the type the call names");
    }
}

void on_run_thread(std::thread::id run_thread, const trellis::token& token, std::function<void()> fn) noexcept {
    if (std::this_thread::get_id() == run_thread) {
        fn();
        return;
    }
    try {
        token.run_sync_soon(std::move(fn));
    } catch (...) {
        // The run is over: nobody waits any more.
    }
}

}  // namespace trellis::glib::detail
