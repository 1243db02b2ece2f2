// trellis::lowlevel::run_var<T>: a value that is global to one run (Trio's
// RunVar).
//
// Each run sees its own value, starting from the default (if any); values
// vanish when the run ends. Use it for per-run caches and registries (a
// thread pool, a resolver). Declare run_vars as globals or statics: a
// run_var must outlive every run that uses it. Access only on the run's
// thread (in a task or a host callback of a guest run).
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "trellis/detail/reset_token.hpp"
#include "trellis/errors.hpp"

namespace trellis {

namespace detail {
// The slot of `key` in the current run (created empty on first use).
// Throws run_error naming `caller` outside a run.
std::shared_ptr<void>& run_var_slot(const void* key, const char* caller);
}  // namespace detail

namespace lowlevel {

template <class T>
class run_var {
public:
    // What set() returns: reset(token) puts back the value that set()
    // replaced. Usable once, with the run_var that made it.
    using token = detail::reset_token<run_var>;

    run_var() = default;
    explicit run_var(T default_value) : default_(std::move(default_value)) {}
    run_var(const run_var&) = delete;
    run_var& operator=(const run_var&) = delete;

    // The value in this run, else the default. Not a checkpoint. Throws
    // run_error outside a run, or if there is neither value nor default.
    T get() const {
        auto& slot = detail::run_var_slot(this, "run_var::get");
        if (slot) return *static_cast<T*>(slot.get());
        if (default_) return *default_;
        throw run_error("run_var::get: no value has been set in this run and there is no default");
    }
    // The value in this run, else `default_value`. Not a checkpoint. Throws
    // run_error outside a run.
    T get(T default_value) const {
        auto& slot = detail::run_var_slot(this, "run_var::get");
        return slot ? *static_cast<T*>(slot.get()) : std::move(default_value);
    }
    // Sets the value for this run; returns a token that reset(token) uses to
    // restore the previous one. Not a checkpoint. Throws run_error outside a
    // run.
    token set(T value) {
        auto& slot = detail::run_var_slot(this, "run_var::set");
        return token(this, std::exchange(slot, std::make_shared<T>(std::move(value))));
    }
    // Puts back what the value was before the set() that returned `t`. Not
    // a checkpoint. Throws run_error outside a run, if `t` belongs to
    // another run_var, or if it was used already.
    void reset(token& t) {
        t.check_usable_by(this, "run_var");
        auto& slot = detail::run_var_slot(this, "run_var::reset");  // may throw: token still unused
        slot = t.take_previous();
    }
    // Forgets the value set in this run (get() returns the default again).
    // Not a checkpoint. Throws run_error outside a run.
    void reset() { detail::run_var_slot(this, "run_var::reset").reset(); }

private:
    std::optional<T> default_;
};

}  // namespace lowlevel
}  // namespace trellis
