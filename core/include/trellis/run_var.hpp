// trellis::lowlevel::run_var<T>: a value that is global to one run.
//
// Each run sees its own value, starting from the default (if any); values
// vanish when the run ends. Use it for per-run caches and registries (a
// thread pool, a resolver). Access only on the run's thread.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "trellis/errors.hpp"

namespace trellis::lowlevel {

namespace detail_run_var {
// Finds (or, with create, makes) the slot of `key` in the current run.
// Throws run_error naming `caller` outside a run.
std::shared_ptr<void>* slot(const void* key, const char* caller);
}  // namespace detail_run_var

template <class T>
class run_var {
public:
    run_var() = default;
    explicit run_var(T default_value) : default_(std::move(default_value)) {}
    run_var(const run_var&) = delete;
    run_var& operator=(const run_var&) = delete;

    // The value in this run, else the default. Not a checkpoint. Throws
    // run_error outside a run, or if there is neither value nor default.
    T get() const {
        auto& slot = *detail_run_var::slot(this, "run_var::get");
        if (slot) return *static_cast<T*>(slot.get());
        if (default_) return *default_;
        throw run_error("run_var::get: no value has been set in this run and there is no default");
    }
    // Sets the value for this run. Not a checkpoint. Throws run_error
    // outside a run.
    void set(T value) {
        auto& slot = *detail_run_var::slot(this, "run_var::set");
        slot = std::make_shared<T>(std::move(value));
    }
    // Forgets the value set in this run (get() returns the default again).
    void reset() { detail_run_var::slot(this, "run_var::reset")->reset(); }

private:
    std::optional<T> default_;
};

}  // namespace trellis::lowlevel
