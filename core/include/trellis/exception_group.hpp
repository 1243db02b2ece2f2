// trellis::exception_group: two or more errors that happened together.
//
// A nursery whose body and children raise more than one error raises them
// together as one exception_group (one error is raised as itself, unless the
// run was started with strict_exception_groups). what() names every inner
// error; exceptions() gives each one as an exception_ptr to rethrow or
// inspect. Groups may nest (a nursery inside a nursery).
//
// Handling a group (C++ has no `except*`; these helpers play its part):
//
//   try {
//       co_await trellis::open_nursery(body);
//   } catch (...) {
//       // Runs the handler once per timeout in the error (a lone error or
//       // anywhere in a group, nested groups included); rethrows the rest.
//       trellis::handle_each<trellis::too_slow_error>(std::current_exception(),
//           [&](const trellis::too_slow_error& e) { log(e.what()); });
//   }
//
//   auto [timeouts, others] = group.split<trellis::too_slow_error>();
//
// A group is an ordinary value: copyable, immutable after construction, and
// safe to read from any thread (it holds exception_ptrs, which share the
// errors themselves).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace trellis {

class exception_group;

struct exception_group_split;

class exception_group : public std::exception {
public:
    // Decides whether one error (never a group: groups are searched
    // through) matches.
    using error_predicate = std::function<bool(const std::exception_ptr&)>;

    // Throws std::invalid_argument if `errors` is empty.
    explicit exception_group(std::vector<std::exception_ptr> errors);

    const char* what() const noexcept override { return message_.c_str(); }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
    std::size_t size() const noexcept { return errors_.size(); }

    // Every error that is not a group, nested groups flattened, in order.
    std::vector<std::exception_ptr> leaves() const;

    // True if any inner error (searching nested groups too) is an E.
    template <class E>
    bool contains() const {
        for (const auto& e : errors_) {
            try {
                std::rethrow_exception(e);
            } catch (const E&) {
                return true;
            } catch (const exception_group& g) {
                if (g.contains<E>()) return true;
            } catch (...) {
            }
        }
        return false;
    }

    // Splits the errors into those matching `matches` and the rest. Nested
    // groups are searched and split too: a nested group whose errors all
    // match goes whole into `matched`, one with some matching is split in
    // two, each half keeping its place. Does not throw (except bad_alloc,
    // or what `matches` throws).
    exception_group_split split(const error_predicate& matches) const;
    // split() by type: an error matches if it is an E (or derives from E).
    // A nested group itself is never tested against E, only its errors.
    template <class E>
    exception_group_split split() const;

    // The matching half of split(): the errors that match, nesting kept,
    // or nullopt if none does.
    std::optional<exception_group> filter(const error_predicate& matches) const;
    template <class E>
    std::optional<exception_group> filter() const;

    // True if `error` is an E (for a predicate built from a type).
    template <class E>
    static bool is_a(const std::exception_ptr& error) {
        try {
            std::rethrow_exception(error);
        } catch (const E&) {
            return true;
        } catch (...) {
            return false;
        }
    }

private:
    std::vector<std::exception_ptr> errors_;
    std::string message_;
};

// What exception_group::split() returns: the errors that matched and the
// others, each as a group with the original's nesting kept, or nullopt
// when there is none.
struct exception_group_split {
    std::optional<exception_group> matched;
    std::optional<exception_group> rest;
};

template <class E>
exception_group_split exception_group::split() const {
    return split(is_a<E>);
}

template <class E>
std::optional<exception_group> exception_group::filter() const {
    return split<E>().matched;
}

// A one-line description of an error: its type and what() when it has one.
std::string describe(const std::exception_ptr& error);

// Runs `handler` once for each error in `error` that matches `matches`
// (`error` itself if it is not a group; every error inside it, nested
// groups included, if it is), in order, and then rethrows what is left:
// nothing (returns normally) if every error matched; the one remaining
// error as itself; `error` itself unchanged if nothing matched; otherwise
// an exception_group of the remaining errors with their nesting kept. An
// exception a handler throws joins the remaining errors (the other
// handlers still run). Not a checkpoint; use it in a catch block:
// `catch (...) { trellis::handle_each_if(std::current_exception(), ...); }`.
// Remember that trellis::cancelled must keep propagating: handle it only
// if you mean to swallow a cancellation. Thread-safe (it touches only its
// arguments).
void handle_each_if(const std::exception_ptr& error, const exception_group::error_predicate& matches,
                    const std::function<void(const std::exception_ptr&)>& handler);

// handle_each_if() by type: the handler takes `const E&`.
template <class E, class Handler>
void handle_each(const std::exception_ptr& error, Handler&& handler) {
    handle_each_if(error, exception_group::is_a<E>, [&handler](const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const E& matched) {
            handler(matched);
        }
    });
}

}  // namespace trellis
