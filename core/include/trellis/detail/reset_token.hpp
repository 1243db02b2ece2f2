// Internal: the token that lowlevel::run_var<T>::set and task_local<T>::set
// return. It remembers which variable made it and the value that set()
// replaced, so that the variable's reset(token) can put that value back,
// once.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "trellis/errors.hpp"

namespace trellis::detail {

template <class Var>
class reset_token {
public:
    reset_token(const reset_token&) = delete;
    reset_token& operator=(const reset_token&) = delete;
    reset_token(reset_token&& other) noexcept
        : var_(other.var_), previous_(std::move(other.previous_)), used_(std::exchange(other.used_, true)) {}

private:
    friend Var;
    reset_token(const Var* var, std::shared_ptr<void> previous) : var_(var), previous_(std::move(previous)) {}

    // Throws run_error naming `kind`::reset unless `by` made this token and
    // it has not been used (or moved from).
    void check_usable_by(const Var* by, const char* kind) const {
        if (var_ != by)
            throw run_error(std::string(kind) + "::reset: the token was made by another " + kind);
        if (used_) throw run_error(std::string(kind) + "::reset: the token was used already");
    }
    // Hands over the replaced value; the token is used from then on.
    std::shared_ptr<void> take_previous() noexcept {
        used_ = true;
        return std::move(previous_);
    }

    const Var* var_;
    std::shared_ptr<void> previous_;  // null: there was no value
    // Invariant: true once take_previous() ran or the token was moved from.
    bool used_ = false;
};

}  // namespace trellis::detail
