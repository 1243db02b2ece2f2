// expect: not the result of calling it
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
trellis::task<> body() { co_await trellis::to_thread::run_sync(compute(1)); }
