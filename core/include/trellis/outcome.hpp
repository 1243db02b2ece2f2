// trellis::outcome<T>: the value a piece of work produced, or the exception
// it raised. Guest runs hand one to their done callback; unwrap() gives the
// value back or rethrows the error. Owned by whoever holds it; no thread
// affinity.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace trellis {

template <class T = void>
class outcome {
public:
    outcome() = default;  // holds neither; has_value() and has_error() are false
    static outcome from_value(T value) { outcome o; o.value_.emplace(std::move(value)); return o; }
    static outcome from_error(std::exception_ptr e) { outcome o; o.error_ = std::move(e); return o; }

    bool has_value() const noexcept { return value_.has_value(); }
    bool has_error() const noexcept { return error_ != nullptr; }
    const std::exception_ptr& error() const noexcept { return error_; }

    // Returns the value (moved out) or rethrows the error. Throws
    // std::logic_error if the outcome is empty.
    T unwrap() {
        if (error_) std::rethrow_exception(error_);
        if (!value_) throw std::logic_error("trellis::outcome::unwrap on an empty outcome");
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
    std::exception_ptr error_;
};

template <>
class outcome<void> {
public:
    outcome() = default;
    static outcome from_value() { outcome o; o.value_ = true; return o; }
    static outcome from_error(std::exception_ptr e) { outcome o; o.error_ = std::move(e); return o; }

    bool has_value() const noexcept { return value_; }
    bool has_error() const noexcept { return error_ != nullptr; }
    const std::exception_ptr& error() const noexcept { return error_; }

    void unwrap() {
        if (error_) std::rethrow_exception(error_);
        if (!value_) throw std::logic_error("trellis::outcome::unwrap on an empty outcome");
    }

private:
    bool value_ = false;
    std::exception_ptr error_;
};

}  // namespace trellis
