// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
trellis::task<> body() { co_await trellis::move_on_after(1s, child(1)); }
