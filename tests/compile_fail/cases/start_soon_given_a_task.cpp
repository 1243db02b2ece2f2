// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
trellis::task<> body(trellis::nursery& n) {
    n.start_soon(child(1));
    co_return;
}
