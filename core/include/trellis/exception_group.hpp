// trellis::exception_group: two or more errors that happened together.
//
// A nursery whose body and children raise more than one error raises them
// together as one exception_group (one error is raised as itself, unless the
// run was started with strict_exception_groups). what() names every inner
// error; exceptions() gives each one as an exception_ptr to rethrow or
// inspect.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace trellis {

class exception_group : public std::exception {
public:
    // Throws std::invalid_argument if `errors` is empty.
    explicit exception_group(std::vector<std::exception_ptr> errors);

    const char* what() const noexcept override { return message_.c_str(); }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
    std::size_t size() const noexcept { return errors_.size(); }

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

private:
    std::vector<std::exception_ptr> errors_;
    std::string message_;
};

// A one-line description of an error: its type and what() when it has one.
std::string describe(const std::exception_ptr& error);

}  // namespace trellis
