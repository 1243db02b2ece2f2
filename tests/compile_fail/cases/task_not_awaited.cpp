// expect: co_await the task
#include <trellis/trellis.hpp>
// A discarded awaitable is a warning; this case makes it an error to see it.
#pragma GCC diagnostic error "-Wunused-result"
#pragma GCC diagnostic error "-Wunused-value"
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
trellis::task<> body() {
    child(1);
    co_return;
}
