// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
int on_worker() { return trellis::from_thread::run_sync(child(1)); }
